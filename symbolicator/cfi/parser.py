"""CIE and FDE records of .debug_frame and .eh_frame (DWARF 5 section 6.4.1).

Only the headers are decoded here; the instruction bytes are kept raw and
interpreted by cfi.table for the one PC an unwind step needs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from symbolicator.errors import SymbolicatorError
from symbolicator.leb128 import read_sleb, read_uleb

DEBUG_FRAME_CIE_ID = 0xFFFFFFFF
DW_EH_PE_OMIT = 0xFF
DW_EH_PE_PCREL = 0x10
DW_EH_PE_DATAREL = 0x30


class CfiError(SymbolicatorError):
    """Call frame information that cannot be decoded."""


@dataclass(frozen=True)
class Cie:
    offset: int
    version: int
    code_alignment: int
    data_alignment: int
    return_address_register: int
    instructions: bytes
    address_encoding: int = 0  # .eh_frame's 'R' augmentation
    augmentation: str = ""


@dataclass(frozen=True)
class Fde:
    offset: int
    cie: Cie
    start: int
    end: int
    instructions: bytes


@dataclass(frozen=True)
class FrameSection:
    """A .debug_frame or .eh_frame section and where it is loaded."""

    data: bytes
    address: int = 0
    is_eh_frame: bool = False


def iter_fdes(section: FrameSection):
    """Every FDE in the section, in file order."""
    offset, cies = 0, {}
    while offset + 4 <= len(section.data):
        length, body = _entry_length(section.data, offset)
        if length == 0:  # .eh_frame terminator
            break
        end = body + length
        if not _is_cie(section, body):
            yield _parse_fde(section, offset, body, end, cies)
        offset = end


def parse_fde_at(section: FrameSection, offset: int) -> Fde:
    length, body = _entry_length(section.data, offset)
    return _parse_fde(section, offset, body, body + length, {})


def _entry_length(data: bytes, offset: int) -> tuple[int, int]:
    (length,) = struct.unpack_from("<I", data, offset)
    if length == 0xFFFFFFFF:
        raise CfiError(f"64-bit DWARF CFI at offset {offset} is not supported on 32-bit targets")
    return length, offset + 4


def _is_cie(section: FrameSection, body: int) -> bool:
    (cie_id,) = struct.unpack_from("<I", section.data, body)
    return cie_id == (0 if section.is_eh_frame else DEBUG_FRAME_CIE_ID)


def _cie_offset(section: FrameSection, body: int) -> int:
    (pointer,) = struct.unpack_from("<I", section.data, body)
    # In .eh_frame the pointer counts back from the field itself.
    return body - pointer if section.is_eh_frame else pointer


def _parse_fde(section: FrameSection, offset: int, body: int, end: int, cies: dict) -> Fde:
    cie_at = _cie_offset(section, body)
    cie = cies.get(cie_at) or cies.setdefault(cie_at, parse_cie(section, cie_at))
    position = body + 4
    start, position = _read_pointer(section, position, cie.address_encoding)
    length, position = _read_pointer(section, position, cie.address_encoding & 0x0F)
    if "z" in cie.augmentation:
        augmentation_length, position = read_uleb(section.data, position)
        position += augmentation_length
    return Fde(offset, cie, start, start + length, bytes(section.data[position:end]))


def parse_cie(section: FrameSection, offset: int) -> Cie:
    data = section.data
    length, body = _entry_length(data, offset)
    end = body + length
    version = data[body + 4]
    nul = data.index(b"\x00", body + 5)
    augmentation = data[body + 5 : nul].decode("ascii")
    position = nul + 1
    if version >= 4:
        position += 2  # address_size, segment_selector_size
    code_alignment, position = read_uleb(data, position)
    data_alignment, position = read_sleb(data, position)
    if version == 1:
        return_register, position = data[position], position + 1
    else:
        return_register, position = read_uleb(data, position)
    encoding, position = _augmentation(section, augmentation, position)
    return Cie(
        offset,
        version,
        code_alignment,
        data_alignment,
        return_register,
        bytes(data[position:end]),
        encoding,
        augmentation,
    )


def _augmentation(section: FrameSection, augmentation: str, position: int) -> tuple[int, int]:
    """Skip the augmentation data, returning the FDE pointer encoding ('R')."""
    if not augmentation.startswith("z"):
        return 0, position
    length, position = read_uleb(section.data, position)
    end, encoding, cursor = position + length, 0, position
    for letter in augmentation[1:]:
        if letter == "R":
            encoding = section.data[cursor]
            cursor += 1
        elif letter == "P":
            handler_encoding = section.data[cursor]
            _, cursor = _read_pointer(section, cursor + 1, handler_encoding)
        elif letter == "L":
            cursor += 1
    return encoding, end


def _read_pointer(section: FrameSection, position: int, encoding: int) -> tuple[int, int]:
    """A pointer in a DW_EH_PE encoding; .debug_frame always uses absolute 4-byte ones."""
    formats = {0x00: "<I", 0x03: "<I", 0x0B: "<i", 0x02: "<H", 0x0A: "<h"}
    value_format = formats.get(encoding & 0x0F)
    if value_format is None:
        if encoding & 0x0F == 0x01:
            value, after = read_uleb(section.data, position)
        elif encoding & 0x0F == 0x09:
            value, after = read_sleb(section.data, position)
        else:
            raise CfiError(f"unsupported pointer encoding 0x{encoding:02x}")
    else:
        (value,) = struct.unpack_from(value_format, section.data, position)
        after = position + struct.calcsize(value_format)
    if encoding & 0x70 == DW_EH_PE_PCREL:
        value += section.address + position
    return value & 0xFFFFFFFF, after
