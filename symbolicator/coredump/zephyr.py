"""Zephyr coredumps: the binary format, its log-backend text form and its flash header.

Binary (cortex-m-unwinding.md 5.1; Zephyr `include/zephyr/debug/coredump.h`),
little-endian and packed: a 12-byte file header ("ZE", header version, target
code, log2 of the pointer size in bits, flags, fatal error reason), then blocks
until the end of the data, each named by its first byte:

    'A' arch registers   u16 version, u16 num_bytes, then the registers
    'T' threads metadata u16 version, u16 num_bytes, then a copy of `_kernel`
    'M' memory           u16 version, uintptr start, uintptr end (exclusive), then the bytes
    'F' another CPU      u16 version, u16 num_bytes, u32 cpu_id, uintptr thread, then registers
    'C' CRC-32 trailer   u16 version, u32 CRC-32 (IEEE) of every byte before the block

Only ARM Cortex-M (target code 3, 32-bit pointers) is read. Its arch block
holds r0-r3, r12, lr, pc, xpsr copied from the exception frame and sp. There is
no handler frame, no EXC_RETURN and no MSP/PSP. r4-r11 are kept from version 2
on, as Zephyr's own tools do (version 3's callee_saved_valid only says whether
callee_saved_offset means something), unless all eight are zero, which is what
firmware without CONFIG_EXTRA_EXCEPTION_INFO writes: then they are left out,
never set to zero (zephyr-coredumps-in-practice.md, "Registers").

Which sp the block holds depends on the Zephyr version. Current Zephyr writes the
SP from before the exception frame was pushed, the interrupted context that
`Coredump.registers` means. Zephyr 3.4 writes the address of the exception frame
itself (zephyr-coredumps-in-practice.md): the words there are the block's own
r0-r3, r12, lr, pc, xpsr. Such a dump is recognized by those words and its sp is
moved above the frame as the core's exception entry laid it out (ARMv7-M ARM
B1.5.7): 0x20 bytes, 0x68 with the FP state, 4 more when stacked xPSR bit 9 says
the core aligned the frame. With no EXC_RETURN in the dump, an FP frame is known
only from FPCCR.LSPACT with FPCAR pointing into this frame, when the dump holds
those registers. A pre-exception sp is taken as written, although Zephyr skips
the xPSR bit 9 correction on ARMv8-M and the FP part without FPU sharing (1.4).

Transports (5.1 "Transport wrappers"): the logging backend prints the same
bytes as hex between `#CD:BEGIN#` and `#CD:END#` log lines; the flash-partition
backend stores them after a 16-byte "CD" header.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from symbolicator.coredump.model import Coredump, MemoryRegion
from symbolicator.errors import CoredumpFormatError

MAGIC = b"ZE"
HEADER = struct.Struct("<2sHHBBI")
HEADER_VERSIONS = (1, 2)  # 2 added the 'T' block (Zephyr 4.0); nothing else moved
FLAG_CRC = 1 << 0  # COREDUMP_HDR_FLAG_CRC: a 'C' trailer ends the dump

TARGET_ARM_CORTEX_M = 3
TARGETS = {
    0: "unknown",
    1: "x86",
    2: "x86_64",
    3: "ARM Cortex-M",
    4: "RISC-V",
    5: "Xtensa",
    6: "ARM64",
}
POINTER_BITS_LOG2_32 = 5
EM_ARM = 40  # the ELF machine of every Cortex-M image

# ARM Cortex-M arch block layouts by version (5.1, "ARM Cortex-M arch block").
BASIC_REGISTERS = ("r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr", "sp")
CALLEE_SAVED = tuple(f"r{n}" for n in range(4, 12))
ARCH_LAYOUTS = {
    1: BASIC_REGISTERS,
    2: BASIC_REGISTERS + CALLEE_SAVED,
    3: (*BASIC_REGISTERS, *CALLEE_SAVED, "callee_saved_valid", "callee_saved_offset"),
}

# Zephyr's `enum k_fatal_error_reason` (6.4), with the ARM codes that start at
# K_ERR_ARCH_START = 16 since Zephyr 3.3. Codes 45 and up are Cortex-A/R only.
REASON_NAMES = {
    0: "K_ERR_CPU_EXCEPTION",
    1: "K_ERR_SPURIOUS_IRQ",
    2: "K_ERR_STACK_CHK_FAIL",
    3: "K_ERR_KERNEL_OOPS",
    4: "K_ERR_KERNEL_PANIC",
    16: "K_ERR_ARM_MEM_GENERIC",
    17: "K_ERR_ARM_MEM_STACKING",
    18: "K_ERR_ARM_MEM_UNSTACKING",
    19: "K_ERR_ARM_MEM_DATA_ACCESS",
    20: "K_ERR_ARM_MEM_INSTRUCTION_ACCESS",
    21: "K_ERR_ARM_MEM_FP_LAZY_STATE_PRESERVATION",
    22: "K_ERR_ARM_BUS_GENERIC",
    23: "K_ERR_ARM_BUS_STACKING",
    24: "K_ERR_ARM_BUS_UNSTACKING",
    25: "K_ERR_ARM_BUS_PRECISE_DATA_BUS",
    26: "K_ERR_ARM_BUS_IMPRECISE_DATA_BUS",
    27: "K_ERR_ARM_BUS_INSTRUCTION_BUS",
    28: "K_ERR_ARM_BUS_FP_LAZY_STATE_PRESERVATION",
    29: "K_ERR_ARM_USAGE_GENERIC",
    30: "K_ERR_ARM_USAGE_DIV_0",
    31: "K_ERR_ARM_USAGE_UNALIGNED_ACCESS",
    32: "K_ERR_ARM_USAGE_STACK_OVERFLOW",
    33: "K_ERR_ARM_USAGE_NO_COPROCESSOR",
    34: "K_ERR_ARM_USAGE_ILLEGAL_EXC_RETURN",
    35: "K_ERR_ARM_USAGE_ILLEGAL_EPSR",
    36: "K_ERR_ARM_USAGE_UNDEFINED_INSTRUCTION",
    37: "K_ERR_ARM_SECURE_GENERIC",
    38: "K_ERR_ARM_SECURE_ENTRY_POINT",
    39: "K_ERR_ARM_SECURE_INTEGRITY_SIGNATURE",
    40: "K_ERR_ARM_SECURE_EXCEPTION_RETURN",
    41: "K_ERR_ARM_SECURE_ATTRIBUTION_UNIT",
    42: "K_ERR_ARM_SECURE_TRANSITION",
    43: "K_ERR_ARM_SECURE_LAZY_STATE_PRESERVATION",
    44: "K_ERR_ARM_SECURE_LAZY_STATE_ERROR",
}

# The Memfault trace reason (symbolicator/reasons.py) of each Zephyr reason
# that has an obvious one. The ARM fault codes map to the fault's base reason,
# as the Memfault SDK's own fault handler reports them, so a Zephyr MemManage
# and a Memfault MemManage crash read and group alike. CPU exception (which
# older Zephyr uses for every fault), spurious IRQ and oops have no
# equivalent: they stay None ("Crash"), and extra["zephyr_reason"] names them.
STACK_OVERFLOW = 0x800B
TRACE_REASONS = {
    2: STACK_OVERFLOW,
    4: 0x8008,  # KernelPanic
    **dict.fromkeys(range(16, 22), 0x9200),  # MemManage
    **dict.fromkeys(range(22, 29), 0x9100),  # BusFault
    **dict.fromkeys(range(29, 37), 0x9300),  # UsageFault
    32: STACK_OVERFLOW,  # UsageFault STKOF: the v8-M stack limit was hit
    **dict.fromkeys(range(37, 45), 0x9402),  # SecurityViolation
}


def reason_name(code: int) -> str:
    return REASON_NAMES.get(code, f"unknown reason {code}")


# -- the binary format --------------------------------------------------------


def is_zephyr_coredump(data: bytes) -> bool:
    return data[:2] == MAGIC


def parse_zephyr_coredump(data: bytes, container: str = "binary") -> Coredump:
    version, reason, flags = _parse_header(data)
    coredump = Coredump(format=f"zephyr-v{version}", registers={}, machine=EM_ARM)
    coredump.trace_reason = TRACE_REASONS.get(reason)
    coredump.extra.update(
        zephyr_reason={"code": reason, "name": reason_name(reason)},
        zephyr_flags=flags,
        zephyr_container=container,
    )
    crc_found = _parse_blocks(data, coredump)
    if flags & FLAG_CRC and not crc_found and not coredump.truncated:
        _note_truncated(coredump, "the header promises a CRC-32 trailer that never came")
    if not coredump.registers:
        raise CoredumpFormatError("coredump has no arch block, so there is nothing to unwind")
    _move_sp_above_exception_frame(coredump)
    return coredump


def _parse_header(data: bytes) -> tuple[int, int, int]:
    if len(data) < HEADER.size:
        raise CoredumpFormatError(f"coredump is {len(data)} bytes, shorter than its header")
    magic, version, target, pointer_bits, flags, reason = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise CoredumpFormatError(f"not a Zephyr coredump: magic {magic!r}, expected b'ZE'")
    if version not in HEADER_VERSIONS:
        raise CoredumpFormatError(
            f"Zephyr coredump header version {version} is not supported (only 1 and 2)"
        )
    if target != TARGET_ARM_CORTEX_M:
        name = TARGETS.get(target, "a target unknown to dre")
        raise CoredumpFormatError(
            f"Zephyr coredump is for {name} (target code {target}); "
            "dre symbolicates ARM Cortex-M (target code 3) only"
        )
    if pointer_bits != POINTER_BITS_LOG2_32:
        raise CoredumpFormatError(
            f"Zephyr coredump says pointers are 2**{pointer_bits} bits; Cortex-M has 32-bit ones"
        )
    return version, reason, flags


@dataclass(frozen=True)
class _BlockKind:
    """How to read one block id: its header, its payload length, what it means."""

    name: str
    header: struct.Struct
    payload_size: Callable[[tuple], int]
    apply: Callable[[Coredump, tuple, bytes], None]
    keeps_partial_payload: bool = False  # a cut memory block still holds real bytes


def _parse_blocks(data: bytes, coredump: Coredump) -> bool:
    """Apply every block in order; return whether a CRC trailer checked the bytes."""
    offset = HEADER.size
    while offset < len(data):
        block_id = data[offset : offset + 1]
        if block_id == CRC_ID:
            _check_crc(data, offset, coredump)
            return True
        kind = _BLOCK_KINDS.get(block_id)
        if kind is None:
            raise CoredumpFormatError(
                f"unknown block id {block_id!r} at offset {offset}: not a block dre knows, "
                "so the rest of the coredump cannot be read"
            )
        offset = _parse_block(data, offset, kind, coredump)
    return False


def _parse_block(data: bytes, offset: int, kind: _BlockKind, coredump: Coredump) -> int:
    """Apply the block at `offset`; return where the next one starts (or the end)."""
    if offset + kind.header.size > len(data):
        _note_truncated(coredump, f"{kind.name} header at offset {offset} is cut off")
        return len(data)
    fields = kind.header.unpack_from(data, offset)
    payload_at = offset + kind.header.size
    size = kind.payload_size(fields)
    payload = data[payload_at : payload_at + size]
    if len(payload) < size:
        _note_truncated(
            coredump, f"{kind.name} at offset {offset} has {len(payload)} of its {size} bytes"
        )
        if not kind.keeps_partial_payload:
            return len(data)
    kind.apply(coredump, fields, payload)
    return payload_at + size


def _note_truncated(coredump: Coredump, what: str) -> None:
    coredump.truncated = True
    coredump.warnings.append(f"{what}: the coredump was cut short, only what arrived is used")


def _arch(coredump: Coredump, fields: tuple, payload: bytes) -> None:
    _, version, _ = fields
    if coredump.registers:
        coredump.warnings.append("a second arch block was ignored")
        return
    coredump.registers = _arch_registers(version, payload, coredump)
    coredump.extra["zephyr_arch_version"] = version


def _arch_registers(version: int, payload: bytes, coredump: Coredump) -> dict[str, int]:
    """Decode an ARM Cortex-M arch block, leaving out r4-r11 when they were not captured."""
    names = ARCH_LAYOUTS.get(version)
    if names is None:
        raise CoredumpFormatError(
            f"ARM Cortex-M arch block version {version} is not supported (only 1, 2 and 3)"
        )
    if len(payload) < 4 * len(names):
        raise CoredumpFormatError(
            f"arch block version {version} is {len(payload)} bytes, expected {4 * len(names)}"
        )
    if len(payload) > 4 * len(names):
        coredump.warnings.append(
            f"arch block version {version} has {len(payload) - 4 * len(names)} bytes "
            "more than dre knows; they were ignored"
        )
    values = dict(zip(names, struct.unpack_from(f"<{len(names)}I", payload), strict=True))
    if version == 3:
        coredump.extra["zephyr_callee_saved_offset"] = values.pop("callee_saved_offset")
        coredump.extra["zephyr_callee_saved_valid"] = values.pop("callee_saved_valid")
    callee_saved_known = version >= 2 and _callee_saved_look_captured(values, version, coredump)
    if not callee_saved_known:
        for name in CALLEE_SAVED:
            values.pop(name, None)
    return values


def _callee_saved_look_captured(values: dict[str, int], version: int, coredump: Coredump) -> bool:
    """Zephyr fills r4-r11 only with CONFIG_EXTRA_EXCEPTION_INFO and zeroes them
    otherwise, with no flag saying which (5.1). Eight zero registers at a fault are
    far likelier to be that than real values, and a zero r7 would send an -O0
    unwind into the vector table, so they are treated as unknown."""
    if any(values[name] for name in CALLEE_SAVED):
        return True
    coredump.warnings.append(
        f"r4-r11 are all zero in a version {version} arch block, which is what firmware "
        "built without CONFIG_EXTRA_EXCEPTION_INFO writes; they are treated as unknown"
    )
    return False


# -- an arch block whose sp is the exception frame (Zephyr 3.4) -----------------

STACKED = ("r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr")
BASIC_FRAME_SIZE = 0x20
EXTENDED_FRAME_SIZE = 0x68
XPSR_ALIGNED = 1 << 9
FPCCR_ADDRESS = 0xE000EF34  # FPCCR, then FPCAR (ARMv7-M ARM B3.2.2)
FPCCR_LSPACT = 1 << 0
FPCAR_TO_FRAME = 0x20  # FPCAR holds the address of the frame's s0 slot


def _move_sp_above_exception_frame(coredump: Coredump) -> None:
    """When the arch block's sp points at an exception frame holding the block's own
    stacked registers, replace it by the SP the interrupted code had (B1.5.7)."""
    registers = coredump.registers
    frame = registers["sp"]
    if _words(coredump, frame, len(STACKED)) != [registers[name] for name in STACKED]:
        return
    extended = _lazy_fp_frame_at(coredump, frame)
    size = EXTENDED_FRAME_SIZE if extended else BASIC_FRAME_SIZE
    padding = 4 if registers["xpsr"] & XPSR_ALIGNED else 0
    if frame + size + padding > 0xFFFFFFFF:
        return  # no 32-bit stack lies above it: words that only look like a frame
    registers["sp"] = frame + size + padding
    coredump.extra["zephyr_exception_frame"] = frame
    kind = "FPU extended" if extended else "basic"
    coredump.context_hint = (
        f"sp 0x{registers['sp']:08x}: the arch block's sp 0x{frame:08x} is the exception "
        f"frame (as Zephyr 3.4 writes it); above it the {kind} frame"
        + (" and its alignment word" if padding else "")
    )


def _lazy_fp_frame_at(coredump: Coredump, frame: int) -> bool:
    fpccr = _words(coredump, FPCCR_ADDRESS, 2)
    if fpccr is None:
        return False
    return bool(fpccr[0] & FPCCR_LSPACT) and fpccr[1] == frame + FPCAR_TO_FRAME


def _words(coredump: Coredump, address: int, count: int) -> list[int] | None:
    """`count` words at `address` from one captured region, or None if not all captured."""
    region = coredump.region_at(address)
    if region is None or address + 4 * count > region.end:
        return None
    at = address - region.address
    return list(struct.unpack_from(f"<{count}I", region.data, at))


def _threads_metadata(coredump: Coredump, fields: tuple, payload: bytes) -> None:
    _, version, _ = fields
    coredump.extra["zephyr_kernel"] = {"version": version, "data": bytes(payload)}


def _memory_size(fields: tuple) -> int:
    _, version, start, end = fields
    if version != 1:
        raise CoredumpFormatError(f"memory block version {version} is not supported (only 1)")
    if end < start:
        raise CoredumpFormatError(
            f"memory block ends (0x{end:08x}) before it starts (0x{start:08x})"
        )
    return end - start


def _memory(coredump: Coredump, fields: tuple, payload: bytes) -> None:
    _, _, start, _ = fields
    if payload:
        coredump.regions.append(MemoryRegion(start, bytes(payload)))


def _other_cpu(coredump: Coredump, fields: tuple, payload: bytes) -> None:
    """A register snapshot of another CPU (SMP), laid out like the arch block."""
    _, _, _, cpu_id, thread = fields
    version = next((v for v, names in ARCH_LAYOUTS.items() if 4 * len(names) == len(payload)), None)
    if version is None:
        coredump.warnings.append(
            f"register snapshot of CPU {cpu_id} is {len(payload)} bytes, "
            "which is no arch block layout dre knows; ignored"
        )
        return
    coredump.other_cpus.append(_arch_registers(version, payload, coredump))
    coredump.extra.setdefault("zephyr_other_cpus", []).append({"cpu_id": cpu_id, "thread": thread})


CRC_ID = b"C"
CRC_BLOCK = struct.Struct("<cHI")


def _check_crc(data: bytes, offset: int, coredump: Coredump) -> None:
    """The trailer covers every byte before it; a mismatch means some bytes changed,
    and nothing says which, so the dump is refused rather than unwound."""
    if offset + CRC_BLOCK.size > len(data):
        _note_truncated(coredump, f"CRC trailer at offset {offset} is cut off")
        return
    _, version, expected = CRC_BLOCK.unpack_from(data, offset)
    if version != 1:
        raise CoredumpFormatError(f"CRC trailer version {version} is not supported (only 1)")
    computed = zlib.crc32(data[:offset])
    if computed != expected:
        raise CoredumpFormatError(
            f"CRC-32 mismatch: the trailer says 0x{expected:08x}, the bytes give "
            f"0x{computed:08x}; the coredump was corrupted in storage or transit"
        )
    coredump.extra["zephyr_crc"] = expected
    if len(data) > offset + CRC_BLOCK.size:
        extra_bytes = len(data) - offset - CRC_BLOCK.size
        coredump.warnings.append(f"{extra_bytes} bytes after the CRC trailer were ignored")


_BLOCK_KINDS = {
    b"A": _BlockKind("arch block", struct.Struct("<cHH"), lambda f: f[2], _arch),
    b"T": _BlockKind(
        "threads metadata block", struct.Struct("<cHH"), lambda f: f[2], _threads_metadata
    ),
    b"M": _BlockKind(
        "memory block", struct.Struct("<cHII"), _memory_size, _memory, keeps_partial_payload=True
    ),
    b"F": _BlockKind("CPU snapshot block", struct.Struct("<cHHII"), lambda f: f[2], _other_cpu),
}


# -- the logging backend's text form ------------------------------------------

LOG_PREFIX = "#CD:"
LOG_BEGIN = "BEGIN#"
LOG_END = "END#"
LOG_ERROR = "ERROR CANNOT DUMP#"
LOG_BEGIN_LINE = (LOG_PREFIX + LOG_BEGIN).encode()
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # colored log output


def is_zephyr_log(data: bytes) -> bool:
    return LOG_BEGIN_LINE in data


def parse_zephyr_log(data: bytes) -> Coredump:
    """Decode the first `#CD:BEGIN#` ... `#CD:END#` dump of a log and parse it."""
    binary, complete, notes = decode_zephyr_log(data)
    coredump = parse_zephyr_coredump(binary, container="log")
    coredump.warnings[:0] = notes
    if not complete:
        coredump.truncated = True
    return coredump


def decode_zephyr_log(data: bytes) -> tuple[bytes, bool, list[str]]:
    """The coredump bytes of a log, whether `#CD:END#` was seen, and warnings.

    Like Zephyr's own log parser, everything up to `#CD:` on a line is log
    decoration (timestamps, `<err> coredump: `, `E: `) and is skipped; lines
    without `#CD:` are other log output and are ignored.
    """
    chunks: list[bytes] | None = None
    notes: list[str] = []
    if (dumps := data.count(LOG_BEGIN_LINE)) > 1:
        notes.append(f"the log holds {dumps} coredumps; the first complete one is used")
    for number, body in _coredump_lines(data):
        if body == LOG_BEGIN:
            if chunks is not None:
                notes.append(f"line {number}: a dump that never ended was dropped for this one")
            chunks = []
        elif chunks is None:
            continue
        elif body == LOG_END:
            return b"".join(chunks), True, notes
        elif body == LOG_ERROR:
            raise CoredumpFormatError(
                f"line {number}: the device logged #CD:{LOG_ERROR}: its coredump "
                "backend failed, so the dump is incomplete"
            )
        else:
            chunks.append(_hex_line(number, body))
    if chunks is None:
        raise CoredumpFormatError(f"the log has no {LOG_PREFIX}{LOG_BEGIN} line")
    notes.append(f"the log ends before {LOG_PREFIX}{LOG_END}; the coredump was cut short")
    return b"".join(chunks), False, notes


def _coredump_lines(data: bytes):
    text = data.decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        at = line.find(LOG_PREFIX)
        if at >= 0:
            yield number, ANSI_ESCAPE.sub("", line[at + len(LOG_PREFIX) :]).strip()


def _hex_line(number: int, body: str) -> bytes:
    try:
        return bytes.fromhex(body)
    except ValueError:
        raise CoredumpFormatError(
            f"line {number}: {body[:40]!r} after {LOG_PREFIX} is not hex coredump data"
        ) from None


# -- the flash-partition backend's header -------------------------------------

FLASH_MAGIC = b"CD"
FLASH_HEADER = struct.Struct("<2sHIHHi")  # id, hdr_version, size, flags, checksum, error
FLASH_HEADER_VERSION = 1
# The dump starts at the header size rounded up to the flash write block size,
# which is a power of two the dump does not record.
FLASH_DATA_OFFSETS = (16, 32, 64, 128, 256, 512)


def is_zephyr_flash(data: bytes) -> bool:
    return data[:2] == FLASH_MAGIC and _flash_data_offset(data) is not None


def _flash_data_offset(data: bytes) -> int | None:
    return next((at for at in FLASH_DATA_OFFSETS if data[at : at + 2] == MAGIC), None)


def parse_zephyr_flash(data: bytes) -> Coredump:
    """A raw read of the coredump partition: the "CD" header, padding, the dump, erased flash."""
    if len(data) < FLASH_HEADER.size or data[:2] != FLASH_MAGIC:
        raise CoredumpFormatError("not a Zephyr coredump partition: no 'CD' header")
    _, version, size, flags, checksum, error = FLASH_HEADER.unpack_from(data)
    if version != FLASH_HEADER_VERSION:
        raise CoredumpFormatError(f"coredump partition header version {version} is not supported")
    if error != 0:
        raise CoredumpFormatError(
            f"the flash backend recorded error {error} while writing; Zephyr treats such a "
            "dump as absent"
        )
    start = _flash_data_offset(data)
    if start is None:
        raise CoredumpFormatError("no Zephyr coredump follows the coredump partition header")
    dump = data[start : start + size]
    if len(dump) == size and sum(dump) & 0xFFFF != checksum:
        raise CoredumpFormatError(
            f"coredump partition checksum is 0x{checksum:04x} but the bytes sum to "
            f"0x{sum(dump) & 0xFFFF:04x}; the dump was corrupted"
        )
    coredump = parse_zephyr_coredump(dump, container="flash-partition")
    coredump.extra["zephyr_flash_flags"] = flags
    if len(dump) < size:
        _note_truncated(coredump, f"the partition holds {len(dump)} of the dump's {size} bytes")
    return coredump
