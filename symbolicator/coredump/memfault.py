"""Memfault MCU coredumps, versions 1 and 2.

Layout (memfault-formats.md section 1): a 12-byte header (magic "CORE",
version, total size), 12-byte block headers (type, 3 reserved bytes, address,
length) each followed by its payload, and in version 2 a 16-byte footer (magic
"DUMP", flags whose bit 0 says a block was truncated). Block order is not
fixed, so nothing here depends on it.
"""

from __future__ import annotations

import struct

from symbolicator.coredump.model import Coredump, MemoryRegion
from symbolicator.errors import CoredumpFormatError

MAGIC = b"CORE"
FOOTER_MAGIC = b"DUMP"
HEADER = struct.Struct("<4sII")
BLOCK_HEADER = struct.Struct("<B3xII")
FOOTER = struct.Struct("<4sI8x")
FLAG_SAVE_TRUNCATED = 1 << 0

# Register block layouts, chosen by payload length (section 1.3): the SDK
# writes 19 words, memfault_gdb.py adds primask and control.
CORTEX_M_REGISTERS = tuple([f"r{n}" for n in range(13)] + ["sp", "lr", "pc", "xpsr", "msp", "psp"])
CORTEX_M_REGISTERS_GDB = (*CORTEX_M_REGISTERS, "primask", "control")

# memfault_gdb.py adds a 4-byte block at this address holding a Unix time,
# only to make each dump unique (section 1.1).
GDB_SCRIPT_TIME_ADDRESS = 0xFFFFFFFC

BLOCK_CURRENT_REGISTERS = 0
BLOCK_MEMORY_REGION = 1
BLOCK_DEVICE_SERIAL = 2
BLOCK_FIRMWARE_VERSION_LEGACY = 3
BLOCK_HARDWARE_VERSION = 4
BLOCK_TRACE_REASON = 5
BLOCK_PADDING = 6
BLOCK_MACHINE_TYPE = 7
BLOCK_ESP_IDF_VENDOR = 8
BLOCK_ARM_MPU = 9
BLOCK_SOFTWARE_VERSION = 10
BLOCK_SOFTWARE_TYPE = 11
BLOCK_BUILD_ID = 12


def is_memfault_coredump(data: bytes) -> bool:
    return data[:4] == MAGIC


def parse_memfault_coredump(data: bytes) -> Coredump:
    version, end = _parse_header(data)
    coredump = Coredump(format=f"memfault-v{version}", registers={})
    blocks_end = end
    if len(data) > end:
        coredump.warnings.append(f"{len(data) - end} bytes after the coredump's end were ignored")
    if version == 2:
        blocks_end = _parse_footer(data, end, coredump)
    for block_type, address, payload in _iter_blocks(data, blocks_end, coredump):
        _apply_block(coredump, block_type, address, payload)
    if not coredump.registers:
        raise CoredumpFormatError("coredump has no register block, so there is nothing to unwind")
    return coredump


def _parse_header(data: bytes) -> tuple[int, int]:
    if len(data) < HEADER.size:
        raise CoredumpFormatError(f"coredump is {len(data)} bytes, shorter than its header")
    magic, version, total_size = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise CoredumpFormatError(f"not a Memfault coredump: magic {magic!r}, expected b'CORE'")
    if version not in (1, 2):
        raise CoredumpFormatError(f"unsupported Memfault coredump version {version}")
    if total_size < HEADER.size:
        raise CoredumpFormatError(f"header gives an impossible total size of {total_size}")
    return version, total_size


def _parse_footer(data: bytes, end: int, coredump: Coredump) -> int:
    """Return where the blocks end, reading the footer when the bytes hold it."""
    # total_size counts the header and the footer (memfault-formats.md 1.1).
    if end < HEADER.size + FOOTER.size:
        raise CoredumpFormatError(
            f"header gives a total size of {end}, too small for a version 2 coredump's "
            f"{HEADER.size}-byte header and {FOOTER.size}-byte footer"
        )
    footer_at = end - FOOTER.size
    if len(data) < end:
        coredump.truncated = True
        coredump.warnings.append(
            f"coredump is {len(data)} bytes but its header says {end}; "
            "the blocks that arrived whole are used"
        )
        return len(data)
    magic, flags = FOOTER.unpack_from(data, footer_at)
    if magic != FOOTER_MAGIC:
        raise CoredumpFormatError(
            f"footer magic is {magic!r} at offset {footer_at}, expected b'DUMP'"
        )
    if flags & FLAG_SAVE_TRUNCATED:
        coredump.truncated = True
        coredump.warnings.append("the device ran out of coredump storage; later blocks are missing")
    return footer_at


def _iter_blocks(data: bytes, end: int, coredump: Coredump):
    offset = HEADER.size
    end = min(end, len(data))
    while offset < end:
        if offset + BLOCK_HEADER.size > end:
            _note_cut_block(coredump, offset, "block header")
            return
        block_type, address, length = BLOCK_HEADER.unpack_from(data, offset)
        payload_at = offset + BLOCK_HEADER.size
        if payload_at + length > end:
            _note_cut_block(coredump, offset, f"block of type {block_type}")
            return
        yield block_type, address, data[payload_at : payload_at + length]
        offset = payload_at + length


def _note_cut_block(coredump: Coredump, offset: int, what: str) -> None:
    coredump.truncated = True
    coredump.warnings.append(f"{what} at offset {offset} runs past the end of the coredump")


def _apply_block(coredump: Coredump, block_type: int, address: int, payload: bytes) -> None:
    handler = _BLOCK_HANDLERS.get(block_type)
    if handler is None:
        coredump.warnings.append(f"unknown block type {block_type} ({len(payload)} bytes) ignored")
        return
    handler(coredump, address, payload)


def _registers(coredump: Coredump, _address: int, payload: bytes) -> None:
    names = {
        len(CORTEX_M_REGISTERS) * 4: CORTEX_M_REGISTERS,
        len(CORTEX_M_REGISTERS_GDB) * 4: CORTEX_M_REGISTERS_GDB,
    }.get(len(payload))
    if names is None:
        raise CoredumpFormatError(
            f"register block is {len(payload)} bytes; Cortex-M blocks are 76 or 84 bytes"
        )
    values = struct.unpack(f"<{len(names)}I", payload)
    registers = dict(zip(names, values, strict=True))
    # One block per CPU on multi-core targets, the crashing CPU first (section 1.2).
    if coredump.registers:
        coredump.other_cpus.append(registers)
    else:
        coredump.registers = registers


def _memory(coredump: Coredump, address: int, payload: bytes) -> None:
    if address == GDB_SCRIPT_TIME_ADDRESS and len(payload) == 4:
        coredump.extra["capture_time"] = struct.unpack("<I", payload)[0]
        return
    if payload:
        coredump.regions.append(MemoryRegion(address, bytes(payload)))


def _text(attribute: str):
    def apply(coredump: Coredump, _address: int, payload: bytes) -> None:
        setattr(coredump, attribute, payload.decode("ascii", errors="replace"))

    return apply


def _legacy_firmware_version(coredump: Coredump, _address: int, payload: bytes) -> None:
    if coredump.software_version is None:
        coredump.software_version = payload.decode("ascii", errors="replace")


def _u32(attribute: str):
    def apply(coredump: Coredump, _address: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise CoredumpFormatError(f"{attribute} block is {len(payload)} bytes, expected 4")
        setattr(coredump, attribute, struct.unpack("<I", payload)[0])

    return apply


def _build_id(coredump: Coredump, _address: int, payload: bytes) -> None:
    coredump.build_id = bytes(payload)


def _mpu(coredump: Coredump, _address: int, payload: bytes) -> None:
    """MPU_TYPE, MPU_CTRL, then RBAR/RASR pairs (section 1.6)."""
    if len(payload) < 8 or len(payload) % 8:
        coredump.warnings.append(f"MPU block of {len(payload)} bytes ignored: not 8 + 8*n")
        return
    mpu_type, ctrl = struct.unpack_from("<II", payload)
    implemented = (mpu_type >> 8) & 0xFF
    pairs = list(struct.iter_unpack("<II", payload[8:]))[:implemented]
    coredump.extra["mpu"] = {
        "type": mpu_type,
        "ctrl": ctrl,
        "regions": [{"rbar": rbar, "rasr": rasr} for rbar, rasr in pairs],
    }


def _vendor(coredump: Coredump, _address: int, payload: bytes) -> None:
    coredump.extra["esp_idf_vendor_coredump"] = len(payload)
    coredump.warnings.append("ESP-IDF vendor coredump block ignored: not a Cortex-M format")


def _skip(_coredump: Coredump, _address: int, _payload: bytes) -> None:
    pass


_BLOCK_HANDLERS = {
    BLOCK_CURRENT_REGISTERS: _registers,
    BLOCK_MEMORY_REGION: _memory,
    BLOCK_DEVICE_SERIAL: _text("device_serial"),
    BLOCK_FIRMWARE_VERSION_LEGACY: _legacy_firmware_version,
    BLOCK_HARDWARE_VERSION: _text("hardware_version"),
    BLOCK_TRACE_REASON: _u32("trace_reason"),
    BLOCK_PADDING: _skip,
    BLOCK_MACHINE_TYPE: _u32("machine"),
    BLOCK_ESP_IDF_VENDOR: _vendor,
    BLOCK_ARM_MPU: _mpu,
    BLOCK_SOFTWARE_VERSION: _text("software_version"),
    BLOCK_SOFTWARE_TYPE: _text("software_type"),
    BLOCK_BUILD_ID: _build_id,
}
