"""Build Memfault coredumps byte by byte, following memfault-formats.md section 1,
so parser tests state exactly which bytes they feed in."""

from __future__ import annotations

import struct

import cbor2

from dre.ingest import wire

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


def sdk_event(
    event_type: int,
    info,
    *,
    software_type: str = "main",
    software_version: str = "1.0.0",
    hardware_version: str = "evt_1",
    build_id_prefix: bytes | None = None,
    captured_at: int | None = None,
) -> dict:
    """A CBOR event map with its keys in the SDK's encoding order (memfault-formats.md
    §2.4): type, schema, software type and version, hardware version, [build id],
    [timestamp], event info. cbor2 keeps this order."""
    event = {2: event_type, 3: 1, 10: software_type, 9: software_version, 6: hardware_version}
    if build_id_prefix is not None:
        event[11] = build_id_prefix
    if captured_at is not None:
        event[1] = captured_at
    event[4] = info
    return event


def heartbeat_info(values, session: int | None = None) -> dict:
    """A heartbeat body (§2.5.1): positional values (a list) or named ones (a dict)."""
    return {1: values} if session is None else {2: session, 1: values}


def reboot_info(reason: int, *, pc: int | None = None, lr: int | None = None) -> dict:
    """A reboot event body (§2.5.2): PC and LR only when non-zero, CoredumpSaved always."""
    info = {1: reason}
    if pc:
        info[2] = pc
    if lr:
        info[3] = lr
    info[5] = 0
    return info


def event_chunks(
    *events: dict, chunk_size: int = 64, message_type: int = wire.MessageType.EVENT
) -> list[bytes]:
    """Events as one SDK message (a batch when several; of events unless `message_type`
    says logs or a recording), cut into chunks."""
    payload = cbor2.dumps(events[0] if len(events) == 1 else list(events))
    message = wire.encode_message(message_type, payload)
    return wire.encode_chunks(message, chunk_size=chunk_size)
