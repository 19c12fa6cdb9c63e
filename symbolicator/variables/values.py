"""A variable's bytes, wherever the DWARF location says they live.

A Value holds the bytes of its whole type plus, per byte, whether the byte is
known: pieces may cover part of a struct, and a register may not have been
saved. Children (members, elements) are slices of the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from symbolicator import dwarf_expr as loc
from symbolicator.errors import UnreadableMemory
from symbolicator.variables.types import Type

OPTIMIZED_OUT = "optimized out"
# The coredump never had the register the value lives in (Memfault's register
# block has no FPU registers): not the same as optimized out.
NOT_CAPTURED = "not captured"
FIRST_FPU_REGISTER = 64


@dataclass
class Value:
    type: Type
    data: bytes
    known: bytes  # one flag byte per data byte: 1 known, 0 optimized out / not saved
    address: int | None = None  # set when the value lives in memory
    error: str | None = None  # why no bytes at all could be read
    synthetic_pointer: bool = False  # DW_OP_implicit_pointer: a pointer with no storage

    @property
    def fully_known(self) -> bool:
        return self.error is None and all(self.known)

    @property
    def fully_unknown(self) -> bool:
        return self.error is not None or not any(self.known)

    def slice(self, offset: int, value_type: Type) -> Value:
        size = value_type.byte_size
        return Value(
            value_type,
            self.data[offset : offset + size],
            self.known[offset : offset + size],
            None if self.address is None else self.address + offset,
            self.error,
        )

    def integer(self, signed: bool | None = None) -> int:
        signed = self.type.is_signed if signed is None else signed
        return int.from_bytes(self.data, "little", signed=signed)


def unavailable(value_type: Type, why: str = OPTIMIZED_OUT) -> Value:
    size = value_type.byte_size
    return Value(value_type, bytes(size), bytes(size), error=why)


def in_memory(value_type: Type, address: int, memory) -> Value:
    size = value_type.byte_size
    try:
        data = memory.read(address, size) if size else b""
    except UnreadableMemory as error:
        return Value(
            value_type,
            bytes(size),
            bytes(size),
            address,
            f"Cannot access memory at address 0x{error.address:x}",
        )
    return Value(value_type, data, b"\x01" * size, address)


def read_location(value_type: Type, location, registers, memory) -> Value:
    """The value at a location from dwarf_expr.locate."""
    if isinstance(location, loc.InMemory):
        return in_memory(value_type, location.address, memory)
    if isinstance(location, loc.OptimizedOut):
        return unavailable(value_type)
    if isinstance(location, loc.ImplicitPointer):
        value = unavailable(value_type, "synthetic pointer")
        value.synthetic_pointer = True
        return value
    size = value_type.byte_size
    if isinstance(location, loc.InRegister) and _missing_fpu_register(location.register, registers):
        return unavailable(value_type, NOT_CAPTURED)
    data, known = _piece_bytes(location, size * 8, registers, memory)
    return Value(value_type, data[:size], known[:size])


def _missing_fpu_register(number: int, registers) -> bool:
    return number >= FIRST_FPU_REGISTER and registers.get(number) is None


def _piece_bytes(location, size_bits: int, registers, memory) -> tuple[bytes, bytes]:
    """Assemble the bytes of a register, implicit or composite location."""
    pieces = (
        location.pieces if isinstance(location, loc.Pieces) else (loc.Piece(location, size_bits),)
    )
    data, known, cursor = bytearray((size_bits + 7) // 8), bytearray((size_bits + 7) // 8), 0
    for piece in pieces:
        content = _piece_content(piece, registers, memory)
        if content is not None:
            if cursor % 8 == 0 and piece.offset_bits % 8 == 0 and piece.size_bits % 8 == 0:
                _copy_bytes(data, known, cursor // 8, content, piece)
            else:
                _copy_bits(data, known, cursor, content, piece)
        cursor += piece.size_bits
    return bytes(data), bytes(known)


def _copy_bytes(data: bytearray, known: bytearray, at: int, content: bytes, piece) -> None:
    """A piece of whole bytes: one slice, the same result as _copy_bits, 8x fewer steps
    per byte (nearly every piece is a whole register or a memory word)."""
    count = min(piece.size_bits // 8, len(data) - at)
    if count <= 0:
        return
    start = piece.offset_bits // 8
    data[at : at + count] = content[start : start + count].ljust(count, b"\x00")
    known[at : at + count] = b"\x01" * count


def _copy_bits(data: bytearray, known: bytearray, cursor: int, content: bytes, piece) -> None:
    for bit in range(piece.size_bits):
        target = cursor + bit
        if target // 8 >= len(data):
            break
        source = piece.offset_bits + bit
        bit_value = (content[source // 8] >> (source % 8)) & 1 if source // 8 < len(content) else 0
        data[target // 8] |= bit_value << (target % 8)
        known[target // 8] = 1


def _piece_content(piece: loc.Piece, registers, memory) -> bytes | None:
    where = piece.location
    size = (piece.size_bits + piece.offset_bits + 7) // 8
    if isinstance(where, loc.InRegister):
        return register_bytes(where.register, registers, size)
    if isinstance(where, loc.Implicit):
        return where.data
    if isinstance(where, loc.InMemory):
        try:
            return memory.read(where.address, size)
        except UnreadableMemory:
            return None
    return None


def register_bytes(number: int, registers, size: int) -> bytes | None:
    """A DWARF register's contents, little-endian; wider values span the next registers."""
    out = b""
    while len(out) < size:
        value = registers.get(number)
        if value is None:
            return None
        width = 8 if number >= 256 else 4  # d registers are 64-bit
        out += struct.pack("<Q" if width == 8 else "<I", value & ((1 << (8 * width)) - 1))
        number += 1
    return out[:size]
