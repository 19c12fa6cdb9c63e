"""A GDB remote serial protocol server that serves a Memfault coredump, read-only.

GDB cannot read Memfault coredumps. This server lets it look at one anyway, as if a
halted target held exactly what the dump captured, so GDB's backtrace of a crash can be
compared with dre's and timed against it:

    gdb-multiarch --batch -nx -ex "target remote | python bench/coredump_rsp.py ELF CORE" \
        -ex "thread apply all bt" ELF

What GDB gets:
1. Registers. The target description has `org.gnu.gdb.arm.m-profile` (r0-r12, sp, lr,
   pc, xpsr as register 25) and `org.gnu.gdb.arm.m-system` (msp, psp as 26 and 27): GDB 13
   picks the stack of an exception frame by EXC_RETURN bit 2 only when msp and psp exist
   (tests/firmware/README.md, "Why a proxy").
2. Memory: the dump's regions, then the ELF's allocated read-only sections (code,
   constants), as dre's symbolicator reads them. Everything else answers E01.
3. Threads, when the dump holds dre's scheduler descriptor `g_dre_scheduler`
   (tests/firmware/README.md, "Threads and the scheduler descriptor"): the running thread
   gets the dump's register block, every ready, sleeping or blocked thread the registers
   its save area holds ("Save order of a switched-out thread"). The crashing thread is the
   one GDB stops in. Without a descriptor there is one thread.

Independent of symbolicator on purpose (it parses the ELF and the dump itself), so an
agreement between GDB and dre checks dre's reading of the dump too.

Protocol: GDB manual, appendix "GDB Remote Serial Protocol" (Overview, Packet
Acknowledgment, Standard Replies, General Query Packets, qXfer:features:read,
qXfer:threads:read); packet framing is shared with tests/firmware/rsp_proxy.py.
Usage: coredump_rsp.py ELF COREDUMP [--check]; without --check it talks RSP on
stdin/stdout (GDB's `target remote | COMMAND`). --check prints the threads and exits.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.firmware.rsp_proxy import RspReader, rsp_decode, rsp_escape, rsp_frame

# Memfault coredump (tests/firmware/README.md, "The coredump"; memfault-formats.md 1).
CORE_HEADER = struct.Struct("<4sII")  # "CORE", version, total size
BLOCK_HEADER = struct.Struct("<B3xII")  # type, address, length
CORE_FOOTER_SIZE = 16  # version 2: "DUMP", flags, two reserved words
BLOCK_REGISTERS, BLOCK_MEMORY = 0, 1
REGISTER_NAMES = [f"r{n}" for n in range(13)] + ["sp", "lr", "pc", "xpsr", "msp", "psp"]

# ELF32 little-endian (System V ABI, chapter 4).
ELF_HEADER = struct.Struct("<16sHHIIIIIHHHHHH")
SECTION_HEADER = struct.Struct("<IIIIIIIIII")
SYMBOL = struct.Struct("<IIIBBH")
SHT_SYMTAB, SHT_NOBITS = 2, 8
SHF_WRITE, SHF_ALLOC = 0x1, 0x2

# dre's scheduler descriptor, version 1, and the ARMv7-M exception frame (B1.5.6).
SCHEDULER_SYMBOL = "g_dre_scheduler"
SCHEDULER_MAGIC = 0x53455244
SCHEDULER_HEADER = struct.Struct("<IIII")  # magic, version, thread_count, current
SCHEDULER_THREAD = struct.Struct("<IIIIII")  # name, saved_sp, stack_base, size, state, prio
THREAD_STATES = {0: "unused", 1: "ready", 2: "running", 3: "sleeping", 4: "blocked", 5: "exited"}
SAVED_STATES = {1, 3, 4}
FRAME_REGISTERS = ["r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr"]
CPACR, CPACR_FPU = 0xE000ED88, 0xF << 20  # CP10 and CP11 full access: the M4F build
EXC_RETURN_FTYPE = 1 << 4  # 0: the frame is extended with s0-s15, fpscr
XPSR_STACK_ALIGN = 1 << 9

# Register numbers GDB uses with this target description.
GDB_REGISTERS = {**{f"r{n}": n for n in range(13)}, "sp": 13, "lr": 14, "pc": 15}
GDB_REGISTERS.update({"xpsr": 25, "msp": 26, "psp": 27})
TARGET_XML = (
    '<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd">'
    "<target><architecture>arm</architecture>"
    '<feature name="org.gnu.gdb.arm.m-profile">'
    + "".join(f'<reg name="r{n}" bitsize="32" regnum="{n}"/>' for n in range(13))
    + '<reg name="sp" bitsize="32" regnum="13" type="data_ptr"/>'
    '<reg name="lr" bitsize="32" regnum="14"/>'
    '<reg name="pc" bitsize="32" regnum="15" type="code_ptr"/>'
    '<reg name="xpsr" bitsize="32" regnum="25"/>'
    "</feature>"
    '<feature name="org.gnu.gdb.arm.m-system">'
    '<reg name="msp" bitsize="32" regnum="26" type="data_ptr" group="system"/>'
    '<reg name="psp" bitsize="32" regnum="27" type="data_ptr" group="system"/>'
    "</feature></target>"
).encode()


class ServerError(Exception):
    pass


# Inputs ------------------------------------------------------------------------------------


@dataclass
class Memory:
    """Byte spans by address; a read returns the longest readable prefix."""

    spans: list[tuple[int, bytes]] = field(default_factory=list)

    def read(self, address: int, length: int) -> bytes:
        out = b""
        while len(out) < length:
            chunk = self._chunk(address + len(out), length - len(out))
            if not chunk:
                break
            out += chunk
        return out

    def _chunk(self, address: int, length: int) -> bytes:
        for start, data in self.spans:
            if start <= address < start + len(data):
                return data[address - start : address - start + length]
        return b""

    def u32(self, address: int) -> int:
        data = self.read(address, 4)
        if len(data) != 4:
            raise ServerError(f"0x{address:08x} is not in the coredump or the ELF")
        return struct.unpack("<I", data)[0]

    def c_string(self, address: int, limit: int = 32) -> str:
        data = self.read(address, limit)
        return data.split(b"\0", 1)[0].decode("utf-8", "replace")


def read_coredump(data: bytes) -> tuple[dict[str, int], list[tuple[int, bytes]]]:
    """The register block and the memory regions of a Memfault coredump (v1 or v2)."""
    magic, version, size = CORE_HEADER.unpack_from(data)
    if magic != b"CORE" or version not in (1, 2):
        raise ServerError("not a Memfault coredump (version 1 or 2)")
    end = min(size, len(data)) - (CORE_FOOTER_SIZE if version == 2 else 0)
    registers, regions, offset = {}, [], CORE_HEADER.size
    while offset + BLOCK_HEADER.size <= end:
        kind, address, length = BLOCK_HEADER.unpack_from(data, offset)
        payload = data[offset + BLOCK_HEADER.size : offset + BLOCK_HEADER.size + length]
        offset += BLOCK_HEADER.size + length
        if kind == BLOCK_REGISTERS and not registers:
            values = struct.unpack_from(f"<{len(REGISTER_NAMES)}I", payload)
            registers = dict(zip(REGISTER_NAMES, values, strict=True))
        elif kind == BLOCK_MEMORY and payload:
            regions.append((address, payload))
    if not registers:
        raise ServerError("the coredump has no register block")
    return registers, regions


def read_elf(data: bytes) -> tuple[list[tuple[int, bytes]], dict[str, int]]:
    """Allocated read-only sections with contents, and the symbol table (name -> value)."""
    header = ELF_HEADER.unpack_from(data)
    if header[0][:6] != b"\x7fELF\x01\x01":
        raise ServerError("not a 32-bit little-endian ELF")
    shoff, shnum = header[6], header[12]
    sections = [
        SECTION_HEADER.unpack_from(data, shoff + n * SECTION_HEADER.size) for n in range(shnum)
    ]
    read_only, symbols = [], {}
    for _, kind, flags, address, offset, size, link, _, _, _ in sections:
        if flags & SHF_ALLOC and not flags & SHF_WRITE and kind != SHT_NOBITS and size:
            read_only.append((address, data[offset : offset + size]))
        elif kind == SHT_SYMTAB:
            names = sections[link]
            symbols = _symbols(data[offset : offset + size], data[names[4] : names[4] + names[5]])
    return read_only, symbols


def _symbols(table: bytes, names: bytes) -> dict[str, int]:
    symbols = {}
    for name, value, *_ in SYMBOL.iter_unpack(table):
        if name:
            symbols[names[name : names.index(b"\0", name)].decode()] = value
    return symbols


# Threads -----------------------------------------------------------------------------------


@dataclass
class Thread:
    name: str
    state: str
    registers: dict[str, int]


def discover_threads(memory: Memory, symbols: dict[str, int], core: dict[str, int]):
    """Threads from g_dre_scheduler (crashing thread first), or just the dump's registers."""
    address = symbols.get(SCHEDULER_SYMBOL)
    header = memory.read(address, SCHEDULER_HEADER.size) if address is not None else b""
    if len(header) != SCHEDULER_HEADER.size:
        return [Thread("main", "running", core)]
    magic, version, count, current = SCHEDULER_HEADER.unpack(header)
    if magic != SCHEDULER_MAGIC or version != 1:
        return [Thread("main", "running", core)]
    has_fpu = bool(memory.read(CPACR, 4)) and memory.u32(CPACR) & CPACR_FPU == CPACR_FPU
    crashed, others = [], []
    for n in range(count):
        entry = address + SCHEDULER_HEADER.size + n * SCHEDULER_THREAD.size
        name_at, saved_sp, _, _, state, _ = SCHEDULER_THREAD.unpack(
            memory.read(entry, SCHEDULER_THREAD.size)
        )
        thread = Thread(memory.c_string(name_at), THREAD_STATES.get(state, str(state)), {})
        if entry == current:
            thread.registers = core
            crashed.append(thread)
        elif state in SAVED_STATES:
            thread.registers = saved_registers(memory, saved_sp, core["msp"], has_fpu)
            others.append(thread)
    if not crashed:  # the descriptor names no running thread: keep the dump's registers
        crashed = [Thread("current", "running", core)]
    return crashed + others


def saved_registers(memory: Memory, saved_sp: int, msp: int, has_fpu: bool) -> dict[str, int]:
    """Steps (tests/firmware/README.md, "Save order of a switched-out thread"):
    1. r4-r11 at saved_sp; 2. on the M4F, EXC_RETURN, then s16-s31 if its FType bit is 0;
    3. the hardware frame, basic (0x20 bytes) or extended (0x68); 4. SP after the frame,
    plus 4 when the stacked xPSR says the core aligned the frame."""
    registers = {f"r{4 + n}": memory.u32(saved_sp + 4 * n) for n in range(8)}
    cursor, extended = saved_sp + 0x20, False
    if has_fpu:
        extended = not memory.u32(cursor) & EXC_RETURN_FTYPE
        cursor += 4 + (0x40 if extended else 0)
    registers.update({name: memory.u32(cursor + 4 * n) for n, name in enumerate(FRAME_REGISTERS)})
    sp = cursor + (0x68 if extended else 0x20)
    sp += 4 if registers["xpsr"] & XPSR_STACK_ALIGN else 0
    registers.update(sp=sp, psp=sp, msp=msp)
    return registers


# Protocol ----------------------------------------------------------------------------------


class CoredumpTarget:
    """Answers GDB's packets; every packet gets exactly one reply (None: stop serving)."""

    def __init__(self, memory: Memory, threads: list[Thread]):
        self.memory = memory
        self.threads = threads
        self.selected = 1
        self.threads_xml = self._threads_xml()
        self.handlers = {
            "qSupported": lambda _: (
                b"PacketSize=4000;qXfer:features:read+;qXfer:threads:read+;QStartNoAckMode+"
            ),
            "qXfer:features:read:target.xml:": lambda a: self._xfer(TARGET_XML, a),
            "qXfer:threads:read::": lambda a: self._xfer(self.threads_xml, a),
            "QStartNoAckMode": lambda _: b"OK",
            "qfThreadInfo": lambda _: b"m" + b",".join(b"%x" % t for t in self._ids()),
            "qsThreadInfo": lambda _: b"l",
            "qC": lambda _: b"QC1",
            "qAttached": lambda _: b"1",
            "qSymbol": lambda _: b"OK",
            "qThreadExtraInfo,": self._extra_info,
            "?": lambda _: b"T05thread:1;",
            "H": self._select,
            "T": lambda a: b"OK" if int(a or "0", 16) in self._ids() else b"E01",
            "g": lambda _: self._all_registers(),
            "p": self._register,
            "m": self._read_memory,
            "D": lambda _: b"OK",
        }

    def reply(self, packet: str) -> bytes | None:
        if packet in ("k", "vKill") or packet.startswith("vKill;"):
            return None
        for prefix, handler in self.handlers.items():
            if packet.startswith(prefix) and self._whole(packet, prefix):
                return handler(packet[len(prefix) :])
        if packet[:1] in "GPMXcsCS" or packet.startswith("vCont;"):
            return b"E01"  # a coredump can be neither written nor run
        return b""  # not supported (Standard Replies)

    @staticmethod
    def _whole(packet: str, prefix: str) -> bool:
        """Single-letter packets match by letter; query names must end where the name ends."""
        rest = packet[len(prefix) :]
        return len(prefix) == 1 or not rest or prefix[-1] in ":," or rest[0] in ":;,"

    def _ids(self) -> range:
        return range(1, len(self.threads) + 1)

    def _threads_xml(self) -> bytes:
        entries = "".join(
            f'<thread id="{n:x}" name="{escape(t.name)}"/>'
            for n, t in zip(self._ids(), self.threads, strict=True)
        )
        return f'<?xml version="1.0"?><threads>{entries}</threads>'.encode()

    @staticmethod
    def _xfer(document: bytes, window: str) -> bytes:
        offset, length = (int(part, 16) for part in window.split(","))
        marker = b"l" if offset + length >= len(document) else b"m"
        return marker + rsp_escape(document[offset : offset + length])

    def _extra_info(self, argument: str) -> bytes:
        return self.threads[int(argument, 16) - 1].state.encode().hex().encode()

    def _select(self, argument: str) -> bytes:
        thread = int(argument[1:], 16) if argument[1:] not in ("", "-1") else 0
        if argument[:1] == "g" and thread in self._ids():
            self.selected = thread
        return b"OK"

    def _value(self, name: str) -> bytes:
        registers = self.threads[self.selected - 1].registers
        return struct.pack("<I", registers.get(name, 0)).hex().encode()

    def _all_registers(self) -> bytes:
        return b"".join(self._value(name) for name in GDB_REGISTERS)

    def _register(self, argument: str) -> bytes:
        number = int(argument, 16)
        name = next((n for n, value in GDB_REGISTERS.items() if value == number), None)
        return self._value(name) if name else b"E01"

    def _read_memory(self, argument: str) -> bytes:
        address, length = (int(part, 16) for part in argument.split(","))
        data = self.memory.read(address, length)
        return data.hex().encode() if data else b"E01"


def serve(target: CoredumpTarget, stdin: int = 0, stdout: int = 1) -> None:
    """Packets in on stdin, acks and replies out on stdout, until kill, detach or EOF."""
    reader, acks = RspReader(), True
    while data := os.read(stdin, 65536):
        for event in reader.feed(data):
            if event.kind != "packet":
                continue  # acks, naks and interrupts: nothing runs, nothing to resend
            if acks:
                os.write(stdout, b"+" if event.valid else b"-")
            packet = rsp_decode(event.payload).decode("latin-1")
            reply = target.reply(packet) if event.valid else b""
            if reply is None:
                return
            os.write(stdout, rsp_frame(reply))
            acks = acks and packet != "QStartNoAckMode"
            if packet.startswith("D"):
                return


def load(elf_path: Path, core_path: Path) -> CoredumpTarget:
    read_only, symbols = read_elf(elf_path.read_bytes())
    registers, regions = read_coredump(core_path.read_bytes())
    memory = Memory(regions + read_only)  # the dump first: it holds what the device had
    return CoredumpTarget(memory, discover_threads(memory, symbols, registers))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("elf", type=Path)
    parser.add_argument("coredump", type=Path)
    parser.add_argument("--check", action="store_true", help="print the threads and exit")
    args = parser.parse_args(argv)
    try:
        target = load(args.elf, args.coredump)
    except (ServerError, OSError, struct.error) as error:
        print(f"coredump_rsp: {error}", file=sys.stderr)
        return 1
    if args.check:
        for n, thread in enumerate(target.threads, 1):
            print(n, thread.name, thread.state, f"pc=0x{thread.registers['pc']:08x}")
        return 0
    serve(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
