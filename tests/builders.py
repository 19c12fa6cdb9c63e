"""Build Memfault coredumps byte by byte, following memfault-formats.md section 1,
so parser tests state exactly which bytes they feed in."""

from __future__ import annotations

import struct

REGISTER_NAMES = [f"r{n}" for n in range(13)] + ["sp", "lr", "pc", "xpsr", "msp", "psp"]


def block(block_type: int, payload: bytes, address: int = 0) -> bytes:
    return struct.pack("<B3xII", block_type, address, len(payload)) + payload


def registers_block(**values: int) -> bytes:
    words = [values.get(name, 0) for name in REGISTER_NAMES]
    return block(0, struct.pack("<19I", *words))


def memfault_coredump(*blocks: bytes, version: int = 2, footer_flags: int = 0) -> bytes:
    body = b"".join(blocks)
    footer = struct.pack("<4sI8x", b"DUMP", footer_flags) if version == 2 else b""
    total = 12 + len(body) + len(footer)
    return struct.pack("<4sII", b"CORE", version, total) + body + footer


def minimal_coredump(pc: int = 0x100, lr: int = 0x201, **blocks_by_name) -> bytes:
    """A v2 coredump with registers, versions and one RAM region."""
    return memfault_coredump(
        registers_block(pc=pc, lr=lr, sp=0x20000100, msp=0x20000100),
        block(12, bytes(range(20))),
        block(10, b"1.0.0"),
        block(11, b"main"),
        block(4, b"evt"),
        block(7, struct.pack("<I", 40)),
        block(5, struct.pack("<I", 0x9400)),
        block(1, b"\xaa" * 16, address=0x20000100),
    )
