"""Coredumps re-encoded for other tools.

elf_core(coredump, index=None, threads=None) -> bytes
    an ELF core file that `gdb-multiarch firmware.elf core` loads
"""

from symbolicator.export.elf_core import CoreThread, core_threads, elf_core

__all__ = ["CoreThread", "core_threads", "elf_core"]
