"""Zephyr coredump parsing (cortex-m-unwinding.md 5.1, reason codes 6.4).

The helpers below build each structure byte by byte, so every test states the
bytes it feeds in. test_zephyr_agreement.py uses them to re-encode the
firmware fixtures.
"""

from __future__ import annotations

import struct
import zlib

import pytest

from symbolicator import CoredumpFormatError, detect_format, parse_coredump
from tests.builders import minimal_coredump

BASIC = ("r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr", "sp")
CALLEE_SAVED = tuple(f"r{n}" for n in range(4, 12))


# -- builders ------------------------------------------------------------------


def header(version=2, target=3, pointer_bits=5, flags=0, reason=0) -> bytes:
    """struct coredump_hdr_t (5.1 "File header"): 'Z','E', u16 header version,
    u16 target code, u8 log2 of the pointer bits, u8 flags, u32 reason."""
    return struct.pack("<2sHHBBI", b"ZE", version, target, pointer_bits, flags, reason)


def arch_block(version: int, words: list[int]) -> bytes:
    """'A', u16 version, u16 num_bytes, then the words (5.1, "ARM Cortex-M arch block")."""
    return struct.pack("<cHH", b"A", version, 4 * len(words)) + struct.pack(
        f"<{len(words)}I", *words
    )


def arch_v1(**values: int) -> bytes:
    """36 bytes: r0, r1, r2, r3, r12, lr, pc, xpsr, sp."""
    return arch_block(1, [values.get(name, 0) for name in BASIC])


def arch_v2(**values: int) -> bytes:
    """68 bytes: version 1, then r4-r11."""
    return arch_block(2, [values.get(name, 0) for name in BASIC + CALLEE_SAVED])


def arch_v3(callee_saved_valid=1, callee_saved_offset=0x28, **values: int) -> bytes:
    """76 bytes: version 2, then callee_saved_valid and callee_saved_offset."""
    words = [values.get(name, 0) for name in BASIC + CALLEE_SAVED]
    return arch_block(3, [*words, callee_saved_valid, callee_saved_offset])


def memory_block(start: int, data: bytes, version=1, end: int | None = None) -> bytes:
    """'M', u16 version, u32 start, u32 end (exclusive), then end - start bytes."""
    end = start + len(data) if end is None else end
    return struct.pack("<cHII", b"M", version, start, end) + data


def threads_block(kernel: bytes, version=1) -> bytes:
    """'T', u16 version, u16 num_bytes, then a copy of `_kernel`."""
    return struct.pack("<cHH", b"T", version, len(kernel)) + kernel


def cpu_block(cpu_id: int, thread: int, registers: bytes) -> bytes:
    """'F', u16 version, u16 num_bytes, u32 cpu_id, u32 thread, then an arch payload."""
    return struct.pack("<cHHII", b"F", 1, len(registers), cpu_id, thread) + registers


def crc_block(preceding: bytes, crc: int | None = None) -> bytes:
    """'C', u16 version, u32 CRC-32 (IEEE) of every byte before the block."""
    return struct.pack("<cHI", b"C", 1, zlib.crc32(preceding) if crc is None else crc)


def zephyr_coredump(*blocks: bytes, crc=False, **header_fields) -> bytes:
    """A header and blocks; with crc, flag bit 0 set and a CRC trailer at the end."""
    flags = header_fields.pop("flags", 0) | (1 if crc else 0)
    body = header(flags=flags, **header_fields) + b"".join(blocks)
    return body + crc_block(body) if crc else body


def log_lines(binary: bytes, decoration="[00:00:01.123,456] <err> coredump: ", width=16):
    """The logging backend's lines: #CD:BEGIN#, #CD:<hex> per `width` bytes, #CD:END#."""
    hex_lines = [binary[at : at + width].hex() for at in range(0, len(binary), width)]
    return [f"{decoration}#CD:{body}" for body in ["BEGIN#", *hex_lines, "END#"]]


def flash_partition(binary: bytes, write_size=16, checksum=None, error=0, version=1) -> bytes:
    """struct flash_hdr_t ('C','D', u16 hdr_version, u32 size, u16 flags, u16 checksum,
    i32 error), padding to the flash write size, the dump, then erased flash."""
    checksum = sum(binary) & 0xFFFF if checksum is None else checksum
    hdr = struct.pack("<2sHIHHi", b"CD", version, len(binary), 0, checksum, error)
    padding = b"\xff" * (max(write_size, len(hdr)) - len(hdr))
    return hdr + padding + binary + b"\xff" * 64


def minimal(**header_fields) -> bytes:
    return zephyr_coredump(
        arch_v2(pc=0x1234, lr=0x5679, sp=0x20000100, r7=0x200000F0),
        memory_block(0x20000100, b"\xaa" * 16),
        **header_fields,
    )


# -- header --------------------------------------------------------------------


def test_it_reads_the_interrupted_context_of_a_v2_arch_block():
    words = dict(zip(BASIC + CALLEE_SAVED, range(0x100, 0x100 + 17), strict=True))
    coredump = parse_coredump(zephyr_coredump(arch_v2(**words), reason=4))

    assert coredump.format == "zephyr-v2"
    assert coredump.registers == words
    assert coredump.machine == 40
    assert coredump.extra["zephyr_arch_version"] == 2
    assert coredump.extra["zephyr_container"] == "binary"
    assert not coredump.truncated
    assert coredump.warnings == []


def test_it_reads_a_version_1_header_as_zephyr_before_4_0_writes_it():
    coredump = parse_coredump(minimal(version=1))

    assert coredump.format == "zephyr-v1"
    assert coredump.registers["pc"] == 0x1234


def test_it_rejects_header_versions_newer_than_it_knows():
    with pytest.raises(CoredumpFormatError, match="header version 3 is not supported"):
        parse_coredump(minimal(version=3))


@pytest.mark.parametrize(
    ("target", "name"),
    [(1, "x86"), (2, "x86_64"), (4, "RISC-V"), (5, "Xtensa"), (6, "ARM64"), (0, "unknown")],
)
def test_it_names_the_target_it_cannot_symbolicate(target, name):
    with pytest.raises(CoredumpFormatError, match=rf"for {name} \(target code {target}\)"):
        parse_coredump(minimal(target=target))


def test_it_rejects_64_bit_pointers_on_cortex_m():
    with pytest.raises(CoredumpFormatError, match=r"2\*\*6 bits"):
        parse_coredump(minimal(pointer_bits=6))


def test_it_rejects_a_dump_shorter_than_its_header():
    with pytest.raises(CoredumpFormatError, match="shorter than its header"):
        parse_coredump(header()[:8])


def test_it_rejects_a_dump_without_an_arch_block():
    with pytest.raises(CoredumpFormatError, match="no arch block"):
        parse_coredump(zephyr_coredump(memory_block(0x20000000, b"\x00" * 4)))


# -- reasons (6.4) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name", "trace_reason"),
    [
        (0, "K_ERR_CPU_EXCEPTION", None),
        (1, "K_ERR_SPURIOUS_IRQ", None),
        (2, "K_ERR_STACK_CHK_FAIL", 0x800B),
        (3, "K_ERR_KERNEL_OOPS", None),
        (4, "K_ERR_KERNEL_PANIC", 0x8008),
        (19, "K_ERR_ARM_MEM_DATA_ACCESS", 0x9200),
        (25, "K_ERR_ARM_BUS_PRECISE_DATA_BUS", 0x9100),
        (30, "K_ERR_ARM_USAGE_DIV_0", 0x9300),
        (32, "K_ERR_ARM_USAGE_STACK_OVERFLOW", 0x800B),
        (36, "K_ERR_ARM_USAGE_UNDEFINED_INSTRUCTION", 0x9300),
        (40, "K_ERR_ARM_SECURE_EXCEPTION_RETURN", 0x9402),
        (99, "unknown reason 99", None),
    ],
)
def test_it_names_the_zephyr_reason_and_maps_it_to_a_trace_reason(code, name, trace_reason):
    coredump = parse_coredump(minimal(reason=code))

    assert coredump.extra["zephyr_reason"] == {"code": code, "name": name}
    assert coredump.trace_reason == trace_reason


# -- 'A' arch block --------------------------------------------------------------


def test_it_leaves_r4_to_r11_out_of_a_v1_arch_block():
    coredump = parse_coredump(zephyr_coredump(arch_v1(pc=0x400, sp=0x20000200)))

    assert set(coredump.registers) == set(BASIC)
    assert coredump.registers["sp"] == 0x20000200


def test_it_keeps_r4_to_r11_when_a_v3_block_says_they_are_valid():
    coredump = parse_coredump(zephyr_coredump(arch_v3(r7=0x20000F00, r11=0xB)))

    assert coredump.format == "zephyr-v2"
    assert set(coredump.registers) == set(BASIC + CALLEE_SAVED)
    assert (coredump.registers["r7"], coredump.registers["r11"]) == (0x20000F00, 0xB)
    assert coredump.extra["zephyr_callee_saved_offset"] == 0x28


def test_it_keeps_r4_to_r11_of_a_v3_block_whatever_callee_saved_valid_says():
    """Zephyr's own tools take r4-r11 from every block above version 1; the flag only
    says whether callee_saved_offset means something (zephyr-coredumps-in-practice.md)."""
    coredump = parse_coredump(zephyr_coredump(arch_v3(callee_saved_valid=0, r7=0x1)))

    assert set(coredump.registers) == set(BASIC + CALLEE_SAVED)
    assert coredump.registers["r7"] == 0x1
    assert coredump.extra["zephyr_callee_saved_valid"] == 0


def test_it_treats_all_zero_r4_to_r11_of_a_v3_block_as_not_captured():
    coredump = parse_coredump(zephyr_coredump(arch_v3(pc=0x400)))

    assert set(coredump.registers) == set(BASIC)
    assert "version 3 arch block" in coredump.warnings[0]


def test_it_treats_all_zero_r4_to_r11_of_a_v2_block_as_not_captured():
    coredump = parse_coredump(zephyr_coredump(arch_v2(pc=0x400)))

    assert set(coredump.registers) == set(BASIC)
    assert "CONFIG_EXTRA_EXCEPTION_INFO" in coredump.warnings[0]


def test_it_rejects_an_arch_block_version_it_does_not_know():
    with pytest.raises(CoredumpFormatError, match="arch block version 4 is not supported"):
        parse_coredump(zephyr_coredump(arch_block(4, [0] * 19)))


def test_it_rejects_an_arch_block_shorter_than_its_version_needs():
    with pytest.raises(CoredumpFormatError, match="is 36 bytes, expected 68"):
        parse_coredump(zephyr_coredump(arch_block(2, [0] * 9)))


def test_it_warns_about_bytes_past_a_known_arch_layout():
    coredump = parse_coredump(zephyr_coredump(arch_block(1, [7] * 10)))

    assert coredump.registers["sp"] == 7
    assert "4 bytes more than dre knows" in coredump.warnings[0]


# -- an arch block whose sp is the exception frame (Zephyr 3.4) --------------------

STACKED = {"r0": 1, "r1": 2, "r2": 3, "r3": 4, "r12": 0xC, "lr": 0x4F1, "pc": 0x4E0}
ESF = 0x20000100


def frame_words(xpsr: int) -> bytes:
    """An exception frame as the core stacks it: r0-r3, r12, lr, pc, xpsr (B1.5.6)."""
    return struct.pack("<8I", *STACKED.values(), xpsr)


def dump_with_sp_at_frame(xpsr=0x01000000, *extra_blocks: bytes, stack=None) -> bytes:
    stack = frame_words(xpsr) + b"\0" * 0x60 if stack is None else stack
    return zephyr_coredump(
        arch_v2(**STACKED, xpsr=xpsr, sp=ESF), memory_block(ESF, stack), *extra_blocks
    )


def test_it_moves_an_sp_that_points_at_the_exception_frame_above_the_frame():
    coredump = parse_coredump(dump_with_sp_at_frame())

    assert coredump.registers["sp"] == ESF + 0x20
    assert coredump.extra["zephyr_exception_frame"] == ESF
    assert "is the exception frame" in coredump.context_hint


def test_it_adds_the_alignment_word_when_stacked_xpsr_bit_9_is_set():
    coredump = parse_coredump(dump_with_sp_at_frame(0x01000200))

    assert coredump.registers["sp"] == ESF + 0x24
    assert "alignment word" in coredump.context_hint


def test_it_takes_an_fpu_extended_frame_when_fpccr_says_its_state_is_lazily_pending():
    """FPCCR.LSPACT = 1 and FPCAR = the frame's s0 slot (ARMv7-M ARM B3.2.2)."""
    fpccr = memory_block(0xE000EF34, struct.pack("<2I", 0xC0000001, ESF + 0x20))
    coredump = parse_coredump(dump_with_sp_at_frame(0x01000000, fpccr))

    assert coredump.registers["sp"] == ESF + 0x68
    assert "FPU extended" in coredump.context_hint


def test_it_keeps_an_sp_whose_memory_is_not_the_exception_frame():
    coredump = parse_coredump(dump_with_sp_at_frame(stack=b"\x11" * 0x80))

    assert coredump.registers["sp"] == ESF
    assert coredump.context_hint is None
    assert "zephyr_exception_frame" not in coredump.extra


def test_it_keeps_an_sp_with_no_32_bit_address_above_the_frame():
    top = 0xFFFFFFDC  # the frame fits below 2**32, the alignment word does not
    data = zephyr_coredump(
        arch_v2(**STACKED, xpsr=0x01000200, sp=top), memory_block(top, frame_words(0x01000200))
    )

    assert parse_coredump(data).registers["sp"] == top


def test_it_keeps_an_sp_whose_memory_was_not_captured():
    coredump = parse_coredump(zephyr_coredump(arch_v2(**STACKED, sp=ESF, r7=1)))

    assert coredump.registers["sp"] == ESF


# -- 'M', 'T' and 'F' blocks -----------------------------------------------------------


def test_it_reads_memory_blocks_whose_end_is_exclusive():
    data = zephyr_coredump(
        arch_v1(),
        memory_block(0x20000000, b"\x01\x02\x03\x04"),
        memory_block(0xE000ED28, struct.pack("<I", 0x8200)),
    )
    coredump = parse_coredump(data)

    assert [(r.address, r.end, r.data) for r in coredump.regions] == [
        (0x20000000, 0x20000004, b"\x01\x02\x03\x04"),
        (0xE000ED28, 0xE000ED2C, b"\x00\x82\x00\x00"),
    ]


def test_it_rejects_a_memory_block_that_ends_before_it_starts():
    with pytest.raises(CoredumpFormatError, match=r"ends \(0x1fffffff\) before it starts"):
        parse_coredump(zephyr_coredump(arch_v1(), memory_block(0x20000000, b"", end=0x1FFFFFFF)))


def test_it_rejects_a_memory_block_version_it_does_not_know():
    with pytest.raises(CoredumpFormatError, match="memory block version 2"):
        parse_coredump(zephyr_coredump(arch_v1(), memory_block(0x20000000, b"ab", version=2)))


def test_it_keeps_the_kernel_copy_of_the_threads_metadata_block():
    kernel = bytes(range(24))
    coredump = parse_coredump(zephyr_coredump(arch_v1(), threads_block(kernel)))

    assert coredump.extra["zephyr_kernel"] == {"version": 1, "data": kernel}


def test_it_reads_the_register_snapshot_of_another_cpu():
    data = zephyr_coredump(arch_v3(pc=0x100), cpu_block(1, 0x20000400, arch_v3(pc=0x200)[5:]))
    coredump = parse_coredump(data)

    assert coredump.registers["pc"] == 0x100
    assert [cpu["pc"] for cpu in coredump.other_cpus] == [0x200]
    assert coredump.extra["zephyr_other_cpus"] == [{"cpu_id": 1, "thread": 0x20000400}]


def test_it_rejects_a_block_id_it_does_not_know():
    with pytest.raises(CoredumpFormatError, match="unknown block id b'X' at offset 85"):
        parse_coredump(zephyr_coredump(arch_v2(r4=1), b"X\x01\x00"))


# -- 'C' CRC trailer and truncation ----------------------------------------------------


def test_it_accepts_a_dump_whose_crc_trailer_matches():
    coredump = parse_coredump(minimal(crc=True))

    assert coredump.extra["zephyr_flags"] == 1
    assert coredump.extra["zephyr_crc"] == zlib.crc32(minimal(flags=1))
    assert not coredump.truncated


def test_it_refuses_a_dump_whose_crc_does_not_match():
    data = bytearray(minimal(crc=True))
    data[41] ^= 0x01  # one bit of the pc (header 12 + block header 5 + six words)

    with pytest.raises(CoredumpFormatError, match="CRC-32 mismatch"):
        parse_coredump(bytes(data))


def test_it_marks_a_dump_truncated_when_the_promised_crc_trailer_is_missing():
    coredump = parse_coredump(minimal(crc=True)[:-7])

    assert coredump.truncated
    assert "promises a CRC-32 trailer" in coredump.warnings[0]


def test_it_warns_about_bytes_after_the_crc_trailer():
    coredump = parse_coredump(minimal(crc=True) + b"\xff\xff")

    assert coredump.warnings == ["2 bytes after the CRC trailer were ignored"]


def test_it_keeps_the_bytes_of_a_memory_block_cut_short():
    coredump = parse_coredump(minimal()[:-6])

    assert coredump.truncated
    assert coredump.regions[0].data == b"\xaa" * 10
    assert "memory block at offset 85 has 10 of its 16 bytes" in coredump.warnings[0]


def test_it_stops_at_a_cut_block_header():
    coredump = parse_coredump(minimal() + b"M\x01\x00\x00")

    assert coredump.truncated
    assert len(coredump.regions) == 1
    assert "memory block header at offset 112 is cut off" in coredump.warnings[0]


# -- the logging backend's text form -------------------------------------------------


def test_it_decodes_the_log_form_among_decorations_and_other_log_lines():
    lines = log_lines(minimal(), width=8)
    lines[0] = "E: #CD:BEGIN#"  # minimal log decoration
    lines[2] = f"\x1b[1;31m{lines[2]}\x1b[0m"  # colored output
    lines.insert(3, "[00:00:01.123,500] <inf> app: another thread still logs")
    text = "\r\n".join(["*** Booting Zephyr OS ***", "#CD:stray line before the dump", *lines])
    coredump = parse_coredump(text.encode())

    assert detect_format(text.encode()) == "zephyr-log"
    assert coredump.format == "zephyr-v2"
    assert coredump.extra["zephyr_container"] == "log"
    assert coredump.registers["pc"] == 0x1234
    assert coredump.regions[0].data == b"\xaa" * 16
    assert not coredump.truncated


def test_it_reports_a_device_that_logged_it_could_not_dump():
    lines = log_lines(minimal())
    lines.insert(-1, "[00:00:01.200,000] <err> coredump: #CD:ERROR CANNOT DUMP#")

    with pytest.raises(CoredumpFormatError, match="coredump backend failed"):
        parse_coredump("\n".join(lines).encode())


def test_it_marks_a_log_without_its_end_line_as_truncated():
    lines = log_lines(minimal(), width=8)[:-2]  # the last hex line and #CD:END# never came
    coredump = parse_coredump("\n".join(lines).encode())

    assert coredump.truncated
    assert "ends before #CD:END#" in coredump.warnings[0]
    assert coredump.regions[0].data == b"\xaa" * 8


def test_it_rejects_a_log_line_that_is_not_hex():
    lines = log_lines(minimal())
    lines[3] = lines[3][:-3] + "zz"

    with pytest.raises(CoredumpFormatError, match=r"line 4: .* is not hex"):
        parse_coredump("\n".join(lines).encode())


def test_it_uses_the_first_complete_dump_of_a_log_with_several():
    first, second = minimal(), zephyr_coredump(arch_v1(pc=0x999))
    cut = log_lines(second)[:3]
    text = "\n".join([*cut, *log_lines(first), *log_lines(second)])
    coredump = parse_coredump(text.encode())

    assert coredump.registers["pc"] == 0x1234
    assert coredump.warnings[:2] == [
        "the log holds 3 coredumps; the first complete one is used",
        "line 4: a dump that never ended was dropped for this one",
    ]


# -- the flash-partition header ---------------------------------------------------------


@pytest.mark.parametrize("write_size", [4, 16, 32])
def test_it_unwraps_a_raw_read_of_the_coredump_partition(write_size):
    data = flash_partition(minimal(), write_size=write_size)
    coredump = parse_coredump(data)

    assert detect_format(data) == "zephyr-flash"
    assert coredump.extra["zephyr_container"] == "flash-partition"
    assert coredump.registers["pc"] == 0x1234
    assert coredump.warnings == []


def test_it_refuses_a_partition_whose_checksum_does_not_match():
    with pytest.raises(CoredumpFormatError, match="checksum is 0x0001"):
        parse_coredump(flash_partition(minimal(), checksum=1))


def test_it_reports_the_error_the_flash_backend_recorded():
    with pytest.raises(CoredumpFormatError, match="recorded error -5"):
        parse_coredump(flash_partition(minimal(), error=-5))


def test_it_rejects_a_partition_header_version_it_does_not_know():
    with pytest.raises(CoredumpFormatError, match="partition header version 2"):
        parse_coredump(flash_partition(minimal(), version=2))


def test_it_uses_what_a_short_partition_read_holds():
    coredump = parse_coredump(flash_partition(minimal())[:-70])

    assert coredump.truncated
    assert "the partition holds 106 of the dump's 112 bytes" in coredump.warnings[-1]


# -- recognizing the formats ---------------------------------------------------


def test_it_recognizes_every_format_from_its_bytes():
    dump = minimal()

    assert detect_format(minimal_coredump()) == "memfault"
    assert detect_format(dump) == "zephyr"
    assert detect_format(flash_partition(dump)) == "zephyr-flash"
    assert detect_format("\n".join(log_lines(dump)).encode()) == "zephyr-log"
    assert detect_format(b"CD\x01\x00 not followed by a dump") is None
    assert detect_format(b"just a log line\n") is None


def test_it_does_not_take_a_binary_dump_holding_log_text_for_a_log():
    dump = zephyr_coredump(arch_v1(), memory_block(0x20000000, b"#CD:BEGIN#\n"))

    assert detect_format(dump) == "zephyr"
    assert parse_coredump(dump).regions[0].data == b"#CD:BEGIN#\n"
