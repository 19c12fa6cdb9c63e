"""The parts of an ELF symbol file the symbolicator needs, read lazily.

Everything here works from the bytes alone so a worker can hold an ELF that
came out of blob storage without touching the filesystem.
"""

from __future__ import annotations

import functools
import io
import struct
from dataclasses import dataclass
from functools import cached_property
from typing import BinaryIO, NamedTuple

from elftools.common.exceptions import DWARFError, ELFError
from elftools.construct.core import ConstructError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from symbolicator.errors import ElfError

EM_ARM = 40
MEMFAULT_BUILD_ID_SYMBOL = "g_memfault_build_id"
MEMFAULT_DERIVED_BUILD_ID_SYMBOL = "g_memfault_sdk_derived_build_id"
MEMFAULT_BUILD_ID_TYPE_DERIVED = 3
BUILD_ID_LEN = 20


# What pyelftools raises on bytes it cannot parse: its own errors, and those of the
# construct library it carries, on a field cut short or a value out of range.
PYELFTOOLS_ERRORS = (ELFError, DWARFError, ConstructError)


def _reading(what: str):
    """Turn pyelftools' errors about a damaged file into ElfError, naming what was being
    read. pyelftools parses lazily, so any method that reaches into it can meet damage;
    each public one is wrapped, and no pyelftools error leaves this module."""

    def decorate(method):
        @functools.wraps(method)
        def reading(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except PYELFTOOLS_ERRORS as error:
                raise ElfError(f"malformed ELF: reading {what}: {error}") from error

        return reading

    return decorate


@dataclass(frozen=True)
class ElfSymbol:
    name: str
    address: int
    size: int
    kind: str  # "func" or "object"
    is_global: bool
    section: int = 0
    file: str | None = None  # the STT_FILE binutils attributes it to (see _with_files)


@dataclass(frozen=True)
class ReadOnlySection:
    """Bytes the device cannot change at run time (code, constants)."""

    name: str
    address: int
    data: bytes


class ElfImage:
    """An ELF from bytes or from a seekable binary file (read lazily)."""

    def __init__(self, source: bytes | BinaryIO):
        stream = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
        try:
            self.elf = ELFFile(stream)
        except PYELFTOOLS_ERRORS as exc:
            raise ElfError(f"not an ELF file: {exc}") from exc

    @property
    def machine(self) -> str:
        return self.elf["e_machine"]

    @property
    def is_arm(self) -> bool:
        return self.elf.header["e_machine"] == "EM_ARM"

    @property
    def entry(self) -> int:
        return self.elf.header["e_entry"]

    @property
    @_reading("the section headers")
    def has_dwarf(self) -> bool:
        return self.elf.get_section_by_name(".debug_info") is not None

    @cached_property
    def _sections(self) -> list:
        """pyelftools parses a section's header again each time it is asked for one; an
        index build asks for each of them several times. Only methods that say what they
        were reading (_reading) use it."""
        return list(self.elf.iter_sections())

    def dwarf_sections(self) -> dict[str, bytes]:
        """Contents of the DWARF sections, keyed as DwarfSections names them."""
        return dict(self._dwarf_sections)

    @cached_property
    @_reading("the DWARF sections")
    def _dwarf_sections(self) -> dict[str, bytes]:
        from symbolicator.dwarf.sections import SECTION_NAMES

        found = {}
        for section in self._sections:
            key = SECTION_NAMES.get(section.name)
            if key is not None and section["sh_type"] != "SHT_NOBITS":
                found[key] = section.data()
        return found

    @_reading("the section headers")
    def file_extents(self) -> dict[str, tuple[int, int]]:
        """(file offset, size) of each section whose bytes stand in the file as they are
        read: not SHT_NOBITS, and not SHF_COMPRESSED (pyelftools hands those over
        inflated, so their bytes are not at sh_offset)."""
        found = {}
        for section in self._sections:
            if section["sh_type"] == "SHT_NOBITS" or section["sh_flags"] & SH_FLAGS.SHF_COMPRESSED:
                continue
            found.setdefault(section.name, (section["sh_offset"], section["sh_size"]))
        return found

    @_reading("the section headers")
    def section_contents(self, name: str) -> tuple[int, bytes] | None:
        """(load address, bytes) of the named section, if it has any."""
        section = self.elf.get_section_by_name(name)
        if section is None or not section["sh_size"]:
            return None
        return section["sh_addr"], section.data()

    @cached_property
    @_reading("the notes")
    def gnu_build_id(self) -> bytes | None:
        """The descriptor of the NT_GNU_BUILD_ID note, the bytes `ld --build-id` wrote."""
        for section in self._sections:
            if section["sh_type"] != "SHT_NOTE":
                continue
            for note in section.iter_notes():
                # Type 3 is a build id only in a note named "GNU" (ELF gABI "Note
                # Section": types are per name); pyelftools decodes only those.
                if note["n_type"] == "NT_GNU_BUILD_ID" and note["n_name"] == "GNU":
                    return bytes(note["n_descdata"])
        return None

    @cached_property
    def memfault_derived_build_id(self) -> bytes | None:
        """The SHA1 patched in by Memfault's fw_build_id.py, when the SDK uses it.

        g_memfault_build_id's first byte is its type; type 3 means the coredump
        carries g_memfault_sdk_derived_build_id (memfault-formats.md 1.8).
        """
        storage = self.symbol_bytes(MEMFAULT_BUILD_ID_SYMBOL)
        if not storage or storage[0] != MEMFAULT_BUILD_ID_TYPE_DERIVED:
            return None
        return self.symbol_bytes(MEMFAULT_DERIVED_BUILD_ID_SYMBOL)

    @property
    def build_id(self) -> bytes | None:
        """The identity a coredump from this firmware carries in its build id block."""
        return self.memfault_derived_build_id or self.gnu_build_id

    @cached_property
    def symbols(self) -> list[ElfSymbol]:
        """Function and object symbols with an address, sorted by address."""
        found = _with_files(self._symtab)
        return sorted(found, key=lambda s: (s.address, s.name))

    @cached_property
    def _symbols_by_name(self) -> dict[str, ElfSymbol]:
        found: dict[str, ElfSymbol] = {}
        for symbol in self.symbols:
            found.setdefault(symbol.name, symbol)
        return found

    def mapping_symbols(self) -> list[tuple[int, bool]]:
        """ARM mapping symbols, sorted: (address, True where data starts, False where code
        starts). They tell literal pools from instructions (ELF for the Arm Architecture 5.5.5)."""
        found = []
        for entry in self._symtab:
            name = entry.name
            if name in ("$d", "$t", "$a") or name.startswith(("$d.", "$t.", "$a.")):
                found.append((entry.value & ~1, name.startswith("$d")))
        return sorted(found)

    @cached_property
    @_reading(".symtab")
    def _symtab(self) -> list[SymtabEntry]:
        """Every .symtab entry, in table order. Unpacked with struct rather than through
        pyelftools, which builds a parser object per field: 100x slower on 26,000 symbols."""
        table = self.elf.get_section_by_name(".symtab")
        if table is None:
            return []
        layout = _SYMBOL_LAYOUTS[(self.elf.elfclass, self.elf.little_endian)]
        if table["sh_entsize"] != layout.size:
            raise ElfError(f".symtab entries of {table['sh_entsize']} bytes are not supported")
        names = self.elf.get_section(table["sh_link"]).data()
        data = table.data()
        if len(data) % layout.size:  # pyelftools reads what is left of a section cut short
            raise ElfError(f".symtab of {len(data)} bytes is not a whole number of entries")
        return [
            SymtabEntry(_c_string(names, fields[0]), *fields[1:])
            for fields in map(_symbol_fields[self.elf.elfclass], layout.iter_unpack(data))
        ]

    @_reading("the section headers")
    def section_indexes(self) -> list[int]:
        """Indexes of the allocated sections, in the order section_ranges lists them."""
        return [
            n
            for n, section in enumerate(self._sections)
            if section["sh_flags"] & SH_FLAGS.SHF_ALLOC and section["sh_size"]
        ]

    @_reading("the section headers")
    def section_ranges(self) -> list[tuple[int, int, bool]]:
        """[start, end) load addresses of the allocated sections, and whether each is code."""
        found = []
        for n in self.section_indexes():
            section = self._sections[n]
            start = section["sh_addr"]
            is_code = bool(section["sh_flags"] & SH_FLAGS.SHF_EXECINSTR)
            found.append((start, start + section["sh_size"], is_code))
        return found

    def symbol_named(self, name: str) -> ElfSymbol | None:
        """The lowest-addressed symbol of that name."""
        return self._symbols_by_name.get(name)

    def symbol_bytes(self, name: str) -> bytes | None:
        symbol = self.symbol_named(name)
        if symbol is None:
            return None
        return self.read_file_bytes(symbol.address, symbol.size)

    @cached_property
    @_reading("the read-only sections")
    def read_only_sections(self) -> list[ReadOnlySection]:
        """Allocated sections with contents that are not writable: code and constants."""
        found = []
        for section in self._sections:
            flags = section["sh_flags"]
            if not flags & SH_FLAGS.SHF_ALLOC or flags & SH_FLAGS.SHF_WRITE:
                continue
            if section["sh_type"] == "SHT_NOBITS" or not section["sh_size"]:
                continue
            found.append(ReadOnlySection(section.name, section["sh_addr"], section.data()))
        return found

    @_reading("the sections")
    def read_file_bytes(self, address: int, size: int) -> bytes | None:
        """Bytes as stored in the file at a load address (initial values for .data)."""
        for section in self._sections:
            start = section["sh_addr"]
            if section["sh_type"] == "SHT_NOBITS" or not section["sh_flags"] & SH_FLAGS.SHF_ALLOC:
                continue
            if start <= address and address + size <= start + section["sh_size"]:
                offset = address - start
                return section.data()[offset : offset + size]
        return None


class SymtabEntry(NamedTuple):
    name: str
    value: int
    size: int
    type: int  # STT_*
    bind: int  # STB_*
    shndx: int  # the section index, or SHN_*


# Elf32_Sym and Elf64_Sym (ELF gABI, "Symbol Table"), by (class, little endian).
_SYMBOL_LAYOUTS = {
    (32, True): struct.Struct("<IIIBBH"),
    (32, False): struct.Struct(">IIIBBH"),
    (64, True): struct.Struct("<IBBHQQ"),
    (64, False): struct.Struct(">IBBHQQ"),
}
# -> (st_name, st_value, st_size, type, bind, st_shndx)
_symbol_fields = {
    32: lambda f: (f[0], f[1], f[2], f[3] & 0xF, f[3] >> 4, f[5]),
    64: lambda f: (f[0], f[4], f[5], f[1] & 0xF, f[1] >> 4, f[3]),
}
STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_FILE = 0, 1, 2, 4
STB_LOCAL = 0
SHN_UNDEF, SHN_ABS, SHN_COMMON = 0, 0xFFF1, 0xFFF2
SYMBOL_KINDS = {STT_FUNC: "func", STT_OBJECT: "object", STT_NOTYPE: "other"}


def _c_string(table: bytes, offset: int) -> str:
    """A name from a string table, decoded as pyelftools decodes it."""
    end = table.find(b"\x00", offset)
    return table[offset : end if end >= 0 else len(table)].decode("utf-8", errors="replace")


def _with_files(entries: list[SymtabEntry]) -> list[ElfSymbol]:
    """Symbols with the source file binutils names for them (bfd elf.c elf_find_function):
    the latest STT_FILE before the symbol, except that a global symbol placed after
    another file's symbols began gets none."""
    found, file, symbol_seen, file_after_symbol = [], None, False, False
    for entry in entries:
        if entry.type == STT_FILE:
            file, file_after_symbol = entry.name, symbol_seen
            continue
        if _is_symbol(entry):
            local = entry.bind == STB_LOCAL
            owner = file if file is not None and (local or not file_after_symbol) else None
            found.append(_symbol(entry, owner))
        # bfd's list holds section symbols too, but not the null symbol.
        symbol_seen = symbol_seen or entry.shndx != SHN_UNDEF
    return found


def _is_symbol(entry: SymtabEntry) -> bool:
    """Function, object and untyped symbols with an address in a section.

    ARM mapping symbols ($t, $d, $a) only mark code and data within a section;
    GDB does not treat them as symbols and neither do we.
    """
    return (
        entry.type in SYMBOL_KINDS
        and bool(entry.name)
        and not entry.name.startswith("$")
        and entry.shndx not in (SHN_UNDEF, SHN_ABS)
    )


def _symbol(entry: SymtabEntry, file: str | None) -> ElfSymbol:
    kind = SYMBOL_KINDS[entry.type]
    address = entry.value
    if kind == "func":
        address &= ~1  # the Thumb bit is not part of the address
    return ElfSymbol(
        name=entry.name,
        address=address,
        size=entry.size,
        kind=kind,
        is_global=entry.bind != STB_LOCAL,
        section=0 if entry.shndx == SHN_COMMON else entry.shndx,
        file=file,
    )
