"""Reading and skipping attribute values by form (DWARF 5 section 7.5.6).

Values come back raw: string forms as offsets or indexes, references as
unit-relative or section offsets. `Unit.resolve_*` turns them into text and
addresses only for the few attributes the index needs.
"""

from __future__ import annotations

import struct

from symbolicator.dwarf import constants as c
from symbolicator.errors import SymbolicatorError
from symbolicator.leb128 import Leb128Error, read_sleb, read_uleb


class DwarfError(SymbolicatorError):
    """DWARF data that cannot be decoded."""


# What the decoders raise on damaged bytes: reading past the end of a section (IndexError,
# struct.error, Leb128Error), a string without its terminator (ValueError), an unknown
# code (KeyError). Where DWARF is decoded on demand these become a DwarfError.
DECODING_ERRORS = (IndexError, KeyError, ValueError, struct.error, Leb128Error)


# Forms of a fixed size on a 32-bit target with 32-bit DWARF (ref_addr and
# addr are patched for the unit's address size and version in `fixed_size`).
_FIXED = {
    c.FORM_ADDR: 4,
    c.FORM_DATA1: 1,
    c.FORM_DATA2: 2,
    c.FORM_DATA4: 4,
    c.FORM_DATA8: 8,
    c.FORM_DATA16: 16,
    c.FORM_FLAG: 1,
    c.FORM_REF1: 1,
    c.FORM_REF2: 2,
    c.FORM_REF4: 4,
    c.FORM_REF8: 8,
    c.FORM_REF_ADDR: 4,
    c.FORM_REF_SIG8: 8,
    c.FORM_REF_SUP4: 4,
    c.FORM_REF_SUP8: 8,
    c.FORM_STRP: 4,
    c.FORM_LINE_STRP: 4,
    c.FORM_STRP_SUP: 4,
    c.FORM_SEC_OFFSET: 4,
    c.FORM_STRX1: 1,
    c.FORM_STRX2: 2,
    c.FORM_STRX3: 3,
    c.FORM_STRX4: 4,
    c.FORM_ADDRX1: 1,
    c.FORM_ADDRX2: 2,
    c.FORM_ADDRX3: 3,
    c.FORM_ADDRX4: 4,
    c.FORM_FLAG_PRESENT: 0,
    c.FORM_IMPLICIT_CONST: 0,
    c.FORM_GNU_REF_ALT: 4,
    c.FORM_GNU_STRP_ALT: 4,
}
_ULEB_FORMS = {
    c.FORM_UDATA,
    c.FORM_REF_UDATA,
    c.FORM_STRX,
    c.FORM_ADDRX,
    c.FORM_LOCLISTX,
    c.FORM_RNGLISTX,
    c.FORM_GNU_ADDR_INDEX,
    c.FORM_GNU_STR_INDEX,
}
_UNPACK = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}


def fixed_size(form: int, address_size: int, version: int) -> int | None:
    if form == c.FORM_ADDR:
        return address_size
    if form == c.FORM_REF_ADDR and version == 2:
        return address_size
    return _FIXED.get(form)


def skip(form: int, data: bytes, pos: int, address_size: int, version: int) -> int:
    size = fixed_size(form, address_size, version)
    if size is not None:
        return pos + size
    if form == c.FORM_STRING:
        return data.index(b"\x00", pos) + 1
    if form in _ULEB_FORMS or form == c.FORM_SDATA:
        while data[pos] & 0x80:
            pos += 1
        return pos + 1
    return _skip_block(form, data, pos, address_size, version)


def _skip_block(form, data, pos, address_size, version) -> int:
    if form in (c.FORM_EXPRLOC, c.FORM_BLOCK):
        length, pos = read_uleb(data, pos)
        return pos + length
    if form == c.FORM_BLOCK1:
        return pos + 1 + data[pos]
    if form == c.FORM_BLOCK2:
        return pos + 2 + struct.unpack_from("<H", data, pos)[0]
    if form == c.FORM_BLOCK4:
        return pos + 4 + struct.unpack_from("<I", data, pos)[0]
    if form == c.FORM_INDIRECT:
        actual, pos = read_uleb(data, pos)
        return skip(actual, data, pos, address_size, version)
    raise DwarfError(f"unknown attribute form 0x{form:x}")


def read(form: int, data: bytes, pos: int, address_size: int, version: int):
    """Return (raw value, position after it)."""
    size = fixed_size(form, address_size, version)
    if size is not None:
        if size == 0:
            return True, pos
        if size in _UNPACK:
            return struct.unpack_from(_UNPACK[size], data, pos)[0], pos + size
        return int.from_bytes(data[pos : pos + size], "little"), pos + size
    if form == c.FORM_STRING:
        end = data.index(b"\x00", pos)
        return data[pos:end].decode("utf-8", errors="replace"), end + 1
    if form in _ULEB_FORMS:
        return read_uleb(data, pos)
    if form == c.FORM_SDATA:
        return read_sleb(data, pos)
    if form == c.FORM_INDIRECT:
        actual, pos = read_uleb(data, pos)
        return read(actual, data, pos, address_size, version)
    end = _skip_block(form, data, pos, address_size, version)
    return _block_bytes(form, data, pos, end), end


def _block_bytes(form, data, pos, end) -> bytes:
    if form in (c.FORM_EXPRLOC, c.FORM_BLOCK):
        _, pos = read_uleb(data, pos)
    else:
        pos += {c.FORM_BLOCK1: 1, c.FORM_BLOCK2: 2, c.FORM_BLOCK4: 4}[form]
    return bytes(data[pos:end])


STRING_FORMS = {
    c.FORM_STRING,
    c.FORM_STRP,
    c.FORM_LINE_STRP,
    c.FORM_STRX,
    c.FORM_STRX1,
    c.FORM_STRX2,
    c.FORM_STRX3,
    c.FORM_STRX4,
    c.FORM_GNU_STR_INDEX,
}
ADDRESS_INDEX_FORMS = {
    c.FORM_ADDRX,
    c.FORM_ADDRX1,
    c.FORM_ADDRX2,
    c.FORM_ADDRX3,
    c.FORM_ADDRX4,
    c.FORM_GNU_ADDR_INDEX,
}
UNIT_REFERENCE_FORMS = {c.FORM_REF1, c.FORM_REF2, c.FORM_REF4, c.FORM_REF8, c.FORM_REF_UDATA}
CONSTANT_FORMS = {
    c.FORM_DATA1,
    c.FORM_DATA2,
    c.FORM_DATA4,
    c.FORM_DATA8,
    c.FORM_UDATA,
    c.FORM_SDATA,
    c.FORM_IMPLICIT_CONST,
}
