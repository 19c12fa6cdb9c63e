"""Mutation fuzzing of the parsers, seeded from the real fixtures (issue 12).

A Target is one parser (or one stage of the pipeline), the real bytes it is fed from
tests/fixtures/ (its seeds), and the errors it documents. `exercise` feeds it mutated
bytes under a time and memory bound and lets only those errors through: anything else,
a run past the time bound or memory growth past the budget fails.

The mutations are plain data (`Mutation`), so one `mutate` serves both drivers: the
Hypothesis tests (test_*_fuzz.py), which draw a few mutations per example and shrink a
failure to the smallest list that still fails, and bench/fuzz.py, which draws them at
random for a longer run and counts what it saw.
"""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import struct
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, is_dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path

import cbor2
from elftools.elf.elffile import ELFFile
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import symbolicator
from dre.ingest import wire
from tests.firmware_fixtures import FIXTURES

# -- mutations ---------------------------------------------------------------------

IN_PLACE = ("flip", "byte", "word", "nudge", "overwrite")
KINDS = (*IN_PLACE, "truncate", "delete", "duplicate")
# Values that make length and offset fields interesting: zero, off by one, signed and
# unsigned extremes.
WORDS = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000)
WORDS += (0xFFFFFFFF, 0xFFFFFFF0, 0xFFFFFFFE, 0x10000)


@dataclass(frozen=True)
class Mutation:
    """One change: `kind` at a position within one of the seed's windows.

    `window` picks the window (modulo their number) and `at` a position in it (modulo
    its size), so any integers make a valid mutation and smaller ones shrink toward
    the start of the first window.
    """

    kind: str
    at: int
    value: int = 0
    size: int = 1
    window: int = 0


@dataclass(frozen=True, repr=False)
class Seed:
    """Real bytes from a fixture, the parts worth mutating, and what the target needs
    next to them (an ELF for a coredump, a coredump for an ELF)."""

    name: str
    data: bytes
    windows: tuple[tuple[int, int], ...] = ()
    partner: str = ""

    def __repr__(self) -> str:  # Hypothesis prints it with a failing example
        return f"Seed({self.name!r})"


def mutate(seed: Seed, mutations: list[Mutation]) -> bytes:
    data = bytearray(seed.data)
    for mutation in mutations:
        start, end = _window(seed, mutation.window, len(data))
        _apply(data, mutation, start + mutation.at % max(1, end - start))
    return bytes(data)


def _window(seed: Seed, number: int, length: int) -> tuple[int, int]:
    windows = seed.windows or ((0, length),)
    start, end = windows[number % len(windows)]
    return min(start, length), min(end, length)


def _apply(data: bytearray, mutation: Mutation, at: int) -> None:
    value, size = mutation.value, mutation.size
    if mutation.kind == "truncate":
        del data[at:]
    elif mutation.kind == "delete":
        del data[at : at + size]
    elif mutation.kind == "duplicate":
        source = value % max(1, len(data))
        data[at:at] = data[source : source + size]
    elif mutation.kind == "overwrite":
        source = value % max(1, len(data))
        piece = data[source : source + size]
        data[at : at + len(piece)] = piece
    elif at < len(data):
        _apply_in_place(data, mutation, at)


def _apply_in_place(data: bytearray, mutation: Mutation, at: int) -> None:
    width = (1, 2, 4)[mutation.size % 3]
    if mutation.kind == "flip":
        data[at] ^= 1 << (mutation.value % 8)
    elif mutation.kind == "byte":
        data[at] = mutation.value & 0xFF
    elif mutation.kind == "word":
        _put(data, at, width, WORDS[mutation.value % len(WORDS)])
    elif mutation.kind == "nudge":  # a length or offset field off by a little
        delta = (mutation.value % 33) - 16 or 64
        _put(data, at, width, _get(data, at, width) + delta)


def _get(data: bytearray, at: int, width: int) -> int:
    return int.from_bytes(data[at : at + width], "little")


def _put(data: bytearray, at: int, width: int, value: int) -> None:
    width = min(width, len(data) - at)
    data[at : at + width] = (value % (1 << (8 * width))).to_bytes(width, "little")


# -- running a target under bounds ---------------------------------------------------


class Runaway(BaseException):
    """The target ran past its time bound. A BaseException so no `except Exception` in
    the code under test can swallow it."""


@dataclass(frozen=True)
class Target:
    name: str
    seeds: Callable[[], list[Seed]]
    run: Callable[[Seed, bytes], object]
    documented: tuple[type[BaseException], ...]
    kinds: tuple[str, ...] = KINDS


SECONDS = 10  # CPU seconds: a parser that takes longer on a 90 KB input is looping
MEMORY = 512 << 20  # bytes of address space beyond what the process had


def exercise(target: Target, seed: Seed, data: bytes) -> BaseException | None:
    """Run the target on `data`; return the documented error it raised, if any. Any
    other exception, a run past SECONDS or growth past MEMORY (MemoryError) goes up."""
    with bounded(SECONDS, MEMORY):
        try:
            target.run(seed, data)
        except target.documented as error:
            return error
    return None


@contextmanager
def bounded(seconds: float, memory: int):
    """Stop the code inside after `seconds` (Runaway) and let it grow by at most
    `memory` bytes of address space (MemoryError): an infinite loop or a runaway
    allocation fails the one input instead of hanging or swapping the machine."""

    def expire(signum, frame):
        raise Runaway(f"still running after {seconds} s of CPU time")

    # CPU time, not wall time: on a machine shared with other jobs only our own
    # work counts.
    previous = signal.signal(signal.SIGVTALRM, expire)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    limits = resource.getrlimit(resource.RLIMIT_AS)
    soft = _address_space() + memory
    if limits[1] != resource.RLIM_INFINITY:
        soft = min(soft, limits[1])
    resource.setrlimit(resource.RLIMIT_AS, (soft, limits[1]))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, limits)


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


# -- symbolicator targets -----------------------------------------------------------

ELF_BUILDS = ("an385-O0", "an386-O2", "freertos-an385-O2", "zephyr-an386-O0")
ZEPHYR_SAMPLES = {  # tests/fixtures/zephyr/README.md: which ELF each sample is from
    "an385-O0-null_write.bin": "an385-O0",
    "an386-O2-fpu_fault.log": "an386-O2",
}


@cache
def fixture_index(build: str) -> symbolicator.SymbolIndex:
    return symbolicator.build_index((FIXTURES / build / "firmware.elf").read_bytes())


def symbolicated(coredump: symbolicator.Coredump, index: symbolicator.SymbolIndex) -> None:
    """Symbolicate as the worker does, and store the result as JSON."""
    trace = symbolicator.symbolicate(coredump, index)
    json.dumps(trace.to_dict())


def memfault_seeds() -> list[Seed]:
    found = []
    for path in sorted(FIXTURES.glob("*/*/coredump.bin")):
        data, build = path.read_bytes(), path.parent.parent.name
        windows = ((0, 12), (12, 200), (0, len(data)), (len(data) - 16, len(data)))
        found.append(Seed(f"{build}/{path.parent.name}", data, windows, build))
    return found


def zephyr_binary_seeds() -> list[Seed]:
    binary = (FIXTURES / "zephyr" / "an385-O0-null_write.bin").read_bytes()
    logged = symbolicator.coredump.zephyr.decode_zephyr_log(
        (FIXTURES / "zephyr" / "an386-O2-fpu_fault.log").read_bytes()
    )[0]
    return [
        Seed("zephyr/an385-O0-null_write.bin", binary, ((0, 12), (12, 120), (0, len(binary)))),
        Seed("zephyr/an386-O2-fpu_fault (binary)", logged, ((0, 12), (12, 150))),
        Seed("zephyr/an385-O0-null_write.bin (flash)", _flash_partition(binary), ((0, 16),)),
    ]


def _flash_partition(dump: bytes) -> bytes:
    """The coredump partition as Zephyr's flash backend writes it: struct flash_hdr_t
    ("CD", u16 version 1, u32 size, u16 flags, u16 checksum, i32 error) padded to the
    write block, the dump, erased flash (cortex-m-unwinding.md 5.1, from Zephyr's
    subsys/debug/coredump/coredump_backend_flash_partition.c)."""
    header = struct.pack("<2sHIHHi", b"CD", 1, len(dump), 0, sum(dump) & 0xFFFF, 0)
    return header + b"\xff" * 16 + dump + b"\xff" * 64


def zephyr_log_seeds() -> list[Seed]:
    log = (FIXTURES / "zephyr" / "an386-O2-fpu_fault.log").read_bytes()
    begin = log.index(b"#CD:BEGIN#")
    return [Seed("zephyr/an386-O2-fpu_fault.log", log, ((begin, begin + 600), (0, len(log))))]


def _zephyr_partner(seed: Seed) -> str:
    return next(build for name, build in ZEPHYR_SAMPLES.items() if name.split(".")[0] in seed.name)


def run_coredump(seed: Seed, data: bytes) -> None:
    """Parse a mutated coredump, then symbolicate it with the fixture's own ELF."""
    coredump = symbolicator.parse_coredump(data)
    symbolicated(coredump, fixture_index(seed.partner or _zephyr_partner(seed)))


# Sections where a changed byte changes what is parsed (code bytes mostly do not).
ELF_SECTIONS = (
    ".debug_info",
    ".debug_abbrev",
    ".debug_line",
    ".debug_str",
    ".debug_line_str",
    ".debug_rnglists",
    ".debug_loclists",
    ".debug_frame",
    ".debug_ranges",
    ".debug_loc",
    ".symtab",
    ".strtab",
    ".note.gnu.build-id",
    ".shstrtab",
)


def elf_seeds() -> list[Seed]:
    return [_elf_seed(build) for build in ELF_BUILDS]


def _elf_seed(build: str) -> Seed:
    data = (FIXTURES / build / "firmware.elf").read_bytes()
    elf = ELFFile(io.BytesIO(data))
    header = elf.header
    windows = [(0, 52), (header["e_shoff"], header["e_shoff"] + 40 * header["e_shnum"])]
    for name in ELF_SECTIONS:
        section = elf.get_section_by_name(name)
        if section is not None and section["sh_size"]:
            start = section["sh_offset"]
            windows.append((start, start + section["sh_size"]))
    return Seed(f"{build}/firmware.elf", data, tuple(windows), _first_scenario(build))


def _first_scenario(build: str) -> str:
    return str(sorted((FIXTURES / build).glob("*/coredump.bin"))[0].relative_to(FIXTURES))


def run_elf(seed: Seed, data: bytes) -> None:
    """What dre does with a symbol file: read its identity, build the index, store and
    load it, then symbolicate a fixture coredump against it."""
    elf = symbolicator.ElfImage(data)
    elf.is_arm, elf.has_dwarf, elf.build_id  # noqa: B018 - the upload's checks
    index = symbolicator.build_index(data)
    index = symbolicator.SymbolIndex.from_bytes(index.to_bytes())
    symbolicated(symbolicator.parse_coredump((FIXTURES / seed.partner).read_bytes()), index)


MEMFAULT = Target("memfault", memfault_seeds, run_coredump, (symbolicator.SymbolicatorError,))
ZEPHYR = Target("zephyr", zephyr_binary_seeds, run_coredump, (symbolicator.SymbolicatorError,))
ZEPHYR_LOG = Target("zephyr-log", zephyr_log_seeds, run_coredump, (symbolicator.SymbolicatorError,))
# In place only: an ELF's section headers sit at its end, so a mutation that moves the
# bytes after it (or cuts them off) only ever tests the section table.
ELF = Target("elf", elf_seeds, run_elf, (symbolicator.SymbolicatorError,), IN_PLACE)

# -- device data (dre.ingest.wire) ----------------------------------------------------

CHUNKS_DIR = FIXTURES / "memfault-chunks"
MAX_PAYLOAD = 4 << 20  # settings.MAX_COREDUMP_BYTES


def chunk_seeds() -> list[Seed]:
    """Chunk streams, each chunk framed by a u16 length so mutations can move the
    boundaries too."""
    single = (CHUNKS_DIR / "chunk_v2_single_chunk_msg.bin").read_bytes()
    parts = [(CHUNKS_DIR / f"chunk_v2_chunk_msg_pt{n}_of_2.bin").read_bytes() for n in (1, 2)]
    coredump = wire.encode_chunks(_coredump_message(), chunk_size=400)
    return [
        Seed("memfault-chunks/single", _framed([single])),
        Seed("memfault-chunks/pt1+pt2", _framed(parts)),
        Seed("an385-O0/null_write as chunks", _framed(coredump)),
    ]


def _framed(chunks: list[bytes]) -> bytes:
    return b"".join(struct.pack("<H", len(chunk)) + chunk for chunk in chunks)


def _unframed(data: bytes) -> list[bytes]:
    chunks, at = [], 0
    while at < len(data):
        (length,) = struct.unpack_from("<H", data.ljust(at + 2, b"\0"), at)
        chunks.append(data[at + 2 : at + 2 + length])
        at += 2 + length
    return chunks


def _coredump_message() -> bytes:
    coredump = (FIXTURES / "an385-O0" / "null_write" / "coredump.bin").read_bytes()
    return wire.encode_message(wire.MessageType.COREDUMP, coredump, rle=True)


def run_chunks(seed: Seed, data: bytes) -> None:
    """Reassemble as the chunks endpoint does (it never raises: each chunk gets an
    outcome), then decode each message."""
    result = wire.reassemble(_unframed(data), max_message_length=MAX_PAYLOAD)
    for message in result.messages:
        run_message(seed, message)


def message_seeds() -> list[Seed]:
    single = (CHUNKS_DIR / "chunk_v2_single_chunk_msg.bin").read_bytes()
    return [
        Seed("memfault-chunks event message", single[1:-2]),
        Seed("an385-O0/null_write message (RLE)", _coredump_message(), ((0, 64), (0, 1 << 20))),
    ]


def run_message(seed: Seed, data: bytes) -> None:
    message = wire.parse_message(data, max_payload_size=MAX_PAYLOAD)
    if message.type == wire.MessageType.COREDUMP:
        # Ingest refuses a message that holds no coredump with this error.
        with suppress(symbolicator.CoredumpFormatError):
            symbolicator.parse_coredump(message.payload)
    else:
        run_events(seed, message.payload)


def rle_seeds() -> list[Seed]:
    return [
        Seed(f"{build}/null_write (RLE)", wire.rle_encode(coredump))
        for build, coredump in (
            (build, (FIXTURES / build / "null_write" / "coredump.bin").read_bytes())
            for build in ("an385-O0", "an386-O2")
        )
    ]


def run_rle(seed: Seed, data: bytes) -> None:
    wire.rle_decode(data, max_output=MAX_PAYLOAD)


def event_seeds() -> list[Seed]:
    single = (CHUNKS_DIR / "chunk_v2_single_chunk_msg.bin").read_bytes()
    envelope = {2: 1, 3: 1, 10: "main", 9: "1.2.3", 6: "evt_24"}
    reboot = {**envelope, 2: 2, 4: {1: 3, 5: 0}, 1: 1_700_000_000, 11: b"\x01" * 6}
    logs = {**envelope, 2: 4, 4: [1, "boot ok", 2, "low battery"]}
    cdr = {**envelope, 2: 6, 4: [0, 2, b"\x82\x0a\x01"]}
    return [
        Seed("memfault-chunks heartbeat", single[2:-2]),
        Seed("reboot, logs, recording", cbor2.dumps([reboot, logs, cdr])),
    ]


def run_events(seed: Seed, data: bytes) -> None:
    """Decode, and turn the events into JSON as ingest stores them."""
    json.dumps([_plain(event) for event in wire.decode_events(data)])


def _plain(value):
    if is_dataclass(value):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return value


WIRE_ERRORS = (wire.WireError,)
CHUNKS = Target("chunks", chunk_seeds, run_chunks, WIRE_ERRORS)
MESSAGES = Target("message", message_seeds, run_message, WIRE_ERRORS)
RLE = Target("rle", rle_seeds, run_rle, WIRE_ERRORS)
EVENTS = Target("events", event_seeds, run_events, WIRE_ERRORS)

TARGETS = {t.name: t for t in (MEMFAULT, ZEPHYR, ZEPHYR_LOG, ELF, CHUNKS, MESSAGES, RLE, EVENTS)}


# -- the Hypothesis side ---------------------------------------------------------------

SIZES = (1, 2, 3, 4, 8, 16, 64, 300)


def mutation_lists(target: Target, max_size: int = 4):
    """One to `max_size` mutations; Hypothesis shrinks a failure to fewer, smaller ones."""
    mutation = st.builds(
        Mutation,
        kind=st.sampled_from(target.kinds),
        at=st.integers(0, 2**32 - 1),
        value=st.integers(0, 2**32 - 1),
        size=st.sampled_from(SIZES),
        window=st.integers(0, 255),
    )
    return st.lists(mutation, min_size=1, max_size=max_size)


def fuzz_settings(examples: int) -> settings:
    """`examples` per test, derandomized, so CI runs the same inputs every time and a
    failure there reproduces anywhere. DRE_FUZZ_EXAMPLES=N runs N random ones instead
    (printing a @reproduce_failure blob for anything it finds)."""
    longer = int(os.environ.get("DRE_FUZZ_EXAMPLES", "0"))
    return settings(
        max_examples=longer or examples,
        derandomize=not longer,
        database=None,
        deadline=timedelta(seconds=SECONDS / 2),
        print_blob=bool(longer),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
