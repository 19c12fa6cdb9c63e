"""DWARF call frame information: find a PC's FDE, compute its row, apply its rules."""

from symbolicator.cfi.parser import CfiError, Cie, Fde, FrameSection, iter_fdes, parse_fde_at
from symbolicator.cfi.table import Row, row_for

__all__ = ["CfiError", "Cie", "Fde", "FrameSection", "Row", "iter_fdes", "parse_fde_at", "row_for"]
