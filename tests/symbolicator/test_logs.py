"""Compact logs: the `log_fmt` section and printf rendering (memfault-elf-metadata.md,
"Compact logs"). Byte-level tests build the section; the fixture is a real ELF
(tests/fixtures/trace-events, built by its build.sh)."""

import json
from pathlib import Path

import pytest

from symbolicator import ElfError, LogStatus, read_log_formats, render_compact_log
from symbolicator.logs import FormatMismatch, LogFormats, printf

ELF = (Path(__file__).parents[1] / "fixtures" / "trace-events" / "firmware.elf").read_bytes()
HEADER = b"LOGf" + (1).to_bytes(4, "little")


def section(*entries: bytes) -> LogFormats:
    """A log_fmt section as bytes: the header, then NUL-terminated entries back to back."""
    return LogFormats(data=HEADER + b"".join(e + b"\0" for e in entries), version=1)


def test_it_reads_the_section_of_a_real_elf():
    formats = read_log_formats(ELF)

    assert (formats.present, formats.address) == (True, 0xF0000000)
    entry = formats.get(0x08)
    assert entry.arg_count == 1
    assert entry.file == "../../components/demo/src/memfault_demo_cli_trace_event.c"
    assert (entry.line, entry.format) == (17, "Example Trace Event. Num Args %d")


def test_the_example_trace_event_renders_as_the_reference_shows():
    rendered = render_compact_log(read_log_formats(ELF), [0x08, 1])

    assert (rendered.status, rendered.text) == (
        LogStatus.FORMATTED,
        "Example Trace Event. Num Args 1",
    )


def test_an_absolute_address_in_the_section_means_its_offset():
    assert render_compact_log(read_log_formats(ELF), [0xF0000008, 7]).text.endswith("Args 7")


def test_the_format_id_is_a_byte_offset_into_the_section():
    formats = section(b"0;a.c;1;first", b"1;b.c;2;second %u")

    assert formats.get(8).format == "first"
    assert formats.get(8 + len(b"0;a.c;1;first\0")).format == "second %u"


@pytest.mark.parametrize("format_id", [0, 4, 7, 9, 10_000])
def test_an_id_that_points_at_no_entry_is_unknown(format_id):
    rendered = render_compact_log(section(b"0;a.c;1;first"), [format_id])

    assert rendered.status == LogStatus.UNKNOWN_FORMAT
    assert rendered.text == f"<format 0x{format_id:x}> []"


def test_an_elf_without_the_section_has_no_formats_and_lines_stay_raw():
    metrics_elf = Path(__file__).parents[1] / "fixtures" / "heartbeat-metadata" / "metrics.elf"
    formats = read_log_formats(metrics_elf.read_bytes())

    rendered = render_compact_log(formats, [8, 1, "x"])

    assert not formats.present
    assert (rendered.status, rendered.text) == (LogStatus.NO_FORMATS, "<format 0x8> [1, 'x']")


def test_a_section_without_the_magic_is_refused():
    elf = bytearray(ELF)
    start = elf.index(b"LOGf")
    elf[start : start + 4] = b"XXXX"

    with pytest.raises(ElfError, match="does not start with"):
        read_log_formats(bytes(elf))


@pytest.mark.parametrize(
    ("fmt", "args", "text"),
    [
        ("%d %i", [-3, 4], "-3 4"),
        ("%u", [-1], "4294967295"),
        ("%llu", [-1], "18446744073709551615"),
        ("%lu items", [9], "9 items"),
        ("0x%08x %X %o", [255, 255, 8], "0x000000ff FF 10"),
        ("%5d|%-5d|%05d", [42, 42, 42], "   42|42   |00042"),
        ("%.2f %e %g", [3.14159, 1500.0, 0.5], "3.14 1.500000e+03 0.5"),
        ("%s=%c", ["key", 65], "key=A"),
        ("%.3s", ["abcdef"], "abc"),
        ("%p", [0x20001000], "0x20001000"),
        ("%*d", [4, 7], "   7"),
        ("100%%", [], "100%"),
        ("%zu %hhd", [3, 1], "3 1"),
    ],
)
def test_it_renders_with_printf_semantics(fmt, args, text):
    assert printf(fmt, args) == text


@pytest.mark.parametrize(
    ("fmt", "args", "reason"),
    [
        ("%d", [], "no argument left for %d"),
        ("%d", [1, 2], "1 arguments left over"),
        ("%f", [1], "%f got a int"),
        ("%d", ["x"], "%d got a str"),
        ("%s", [1], "%s got a int"),
        ("%d", [True], "%d got a bool"),
    ],
)
def test_an_argument_that_does_not_fit_is_never_guessed(fmt, args, reason):
    with pytest.raises(FormatMismatch, match=reason):
        printf(fmt, args)


def test_a_mismatch_is_shown_raw_with_the_reason():
    rendered = render_compact_log(section(b"1;s.c;3;temp %.1f"), [8, "hot"])

    assert rendered.status == LogStatus.ARGUMENT_MISMATCH
    assert rendered.text == "temp %.1f ['hot']"
    assert rendered.reason == "%f got a str"


def test_an_argument_count_other_than_the_entry_says_is_a_mismatch():
    rendered = render_compact_log(section(b"2;s.c;3;just %d"), [8, 1])

    assert rendered.status == LogStatus.ARGUMENT_MISMATCH
    assert rendered.reason == "the entry names 2 arguments, 1 came"


@pytest.mark.parametrize("value", [None, [], ["8"], "text", [1.5]])
def test_a_value_that_is_not_a_compact_log_is_malformed(value):
    assert render_compact_log(section(b"0;a;1;x"), value).status == LogStatus.MALFORMED


FLEET_FIXTURE = Path(__file__).parents[1] / "fixtures" / "an385_fleet"
FLEET_ELF = FLEET_FIXTURE / "firmware.elf"
# Compact logs of the fleet test firmware (tests/firmware/fleet) with the text printf gave
# on the device; 32-bit arguments travel as signed CBOR integers whatever their C type, so
# 0xdeadbeef arrives as -559038737. File and line are the firmware's own (expected.json).
FLEET_LOGS = [
    ([60, -559038737, 2], "block 0xdeadbeef retry 2"),
    ([8, 517, 0xBEEF], "packet of 517 bytes, crc 0xbeef"),
    ([100, -559038737, -110], "flash block 0xdeadbeef: erase failed (-110)"),
    ([156, "up", 3, -71], "link up after 3 min, rssi -71 dBm"),
    ([244, 1], "boot 1"),
]


def fleet_log_source(format_id: int) -> tuple[str, int]:
    """Where the firmware's own record (EXPECT lines) says a compact log was written."""
    events = json.loads((FLEET_FIXTURE / "expected.json").read_text())["events"]
    logs = [line for e in events for line in e.get("lines", []) if "format_id" in line]
    logs += [e["log"] for e in events if "format_id" in e.get("log", {})]
    (found,) = {(log["file"], log["line"]) for log in logs if log["format_id"] == format_id}
    return found


@pytest.mark.skipif(not FLEET_ELF.exists(), reason="the fleet firmware fixture is not here")
@pytest.mark.parametrize(("value", "text"), FLEET_LOGS)
def test_it_agrees_with_the_fleet_firmware_fixture(value, text):
    rendered = render_compact_log(read_log_formats(FLEET_ELF.read_bytes()), value)

    assert (rendered.status, rendered.text) == (LogStatus.FORMATTED, text)
    assert (rendered.file, rendered.line) == fleet_log_source(value[0])
