"""GDB remote serial protocol proxy that gives GDB the MSP and PSP of a QEMU Cortex-M.

Why it exists: QEMU 7.2's gdbstub describes an M-profile core with the feature
`org.gnu.gdb.arm.m-profile` only (r0-r12, sp, lr, pc, xpsr). GDB 13 reads an exception
frame from MSP or PSP (EXC_RETURN bit 2) only when the target description also has the
feature `org.gnu.gdb.arm.m-system` with registers `msp` and `psp`; without it both alias
SP and every backtrace through an exception taken from a PSP thread is wrong
(cortex-m-unwinding.md 1.1; GDB 13.1 arm-tdep.c, arm_gdbarch_init).

What it does, sitting between GDB and QEMU:
1. Serves `target.xml` itself: it fetches QEMU's document (and any file that document
   includes), appends an m-system feature whose msp and psp are numbered right after the
   highest register number QEMU uses, and answers `qXfer:features:read:target.xml` in the
   slices GDB asks for.
2. Answers `p`/`P` (read/write one register) for those two numbers from values it holds.
   QEMU cannot report them, so GDB's script writes them (`set $msp = ...`) from what the
   firmware recorded in g_fault_sp_snapshot.
3. Keeps the xPSR value GDB writes while the target is stopped. QEMU stores a written
   xPSR without its IPSR field (it cannot leave Handler mode through the debugger), so
   reading it back would show the exception number of the handler GDB stopped in, not
   the value GDB wrote when it loads a switched-out thread's saved registers. The proxy
   patches xPSR in QEMU's `g`/`p` replies until the target runs again.
4. Forwards everything else unchanged. Each side is acknowledged by the proxy itself, so
   answering some packets locally never confuses the ack stream of the other side.

Protocol reference: GDB manual, appendix "GDB Remote Serial Protocol": Overview (framing,
checksums, binary escapes, run-length encoding), Packet Acknowledgment, Interrupts,
General Query Packets (qXfer:features:read, QStartNoAckMode) and Target Descriptions.

Usage: rsp_proxy.py --target 127.0.0.1:1234 [--listen 0] [--log traffic.txt]
It prints "listening on PORT" once ready and serves one GDB session.
"""

from __future__ import annotations

import argparse
import collections
import select
import socket
import sys
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field

ACK = b"+"
NAK = b"-"
INTERRUPT = b"\x03"
ESCAPE = 0x7D  # '}'
RUN_LENGTH = 0x2A  # '*'
RUN_LENGTH_BIAS = 29  # "X*n" repeats X another (ord(n) - 29) times
CHARS_TO_ESCAPE = b"#$}*"
XINCLUDE_NS = b"http://www.w3.org/2001/XInclude"
XINCLUDE = "{http://www.w3.org/2001/XInclude}include"  # ElementTree's name for xi:include
QXFER_CHUNK = 0x800
TARGET_XML_QUERY = b"qXfer:features:read:target.xml:"
M_SYSTEM_FEATURE = (
    '<feature name="org.gnu.gdb.arm.m-system">'
    '<reg name="msp" bitsize="32" regnum="{msp}" type="data_ptr" group="system"/>'
    '<reg name="psp" bitsize="32" regnum="{psp}" type="data_ptr" group="system"/>'
    "</feature>"
)


class ProxyError(Exception):
    pass


def rsp_checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def rsp_frame(payload: bytes) -> bytes:
    return b"$" + payload + b"#" + b"%02x" % rsp_checksum(payload)


def rsp_escape(data: bytes) -> bytes:
    """Binary-data escaping: '#', '$', '}' and '*' become '}' followed by byte ^ 0x20."""
    out = bytearray()
    for byte in data:
        if byte in CHARS_TO_ESCAPE:
            out += bytes((ESCAPE, byte ^ 0x20))
        else:
            out.append(byte)
    return bytes(out)


def rsp_decode(payload: bytes) -> bytes:
    """Undo binary escapes and run-length encoding of a received packet's data."""
    out = bytearray()
    index = 0
    while index < len(payload):
        byte = payload[index]
        if byte == ESCAPE:
            out.append(payload[index + 1] ^ 0x20)
            index += 2
        elif byte == RUN_LENGTH and out:
            out += out[-1:] * (payload[index + 1] - RUN_LENGTH_BIAS)
            index += 2
        else:
            out.append(byte)
            index += 1
    return bytes(out)


@dataclass
class Event:
    """One unit of the byte stream: an ack, a nak, the interrupt byte or a packet."""

    kind: str  # "ack", "nak", "interrupt", "packet" ($) or "notification" (%)
    raw: bytes
    payload: bytes = b""  # between '$' and '#', still escaped
    valid: bool = True


class RspReader:
    """Splits a byte stream into events; keeps an incomplete packet for the next feed."""

    SINGLE_BYTES = {ACK: "ack", NAK: "nak", INTERRUPT: "interrupt"}

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Event]:
        self._buffer += data
        events = []
        while (event := self._next_event()) is not None:
            events.append(event)
        return events

    def _next_event(self) -> Event | None:
        while self._buffer:
            first = bytes(self._buffer[:1])
            if first in self.SINGLE_BYTES:
                del self._buffer[0]
                return Event(self.SINGLE_BYTES[first], first)
            if first in (b"$", b"%"):
                return self._next_packet()
            del self._buffer[0]  # line noise between packets: ignored, as GDB does
        return None

    def _next_packet(self) -> Event | None:
        end = self._buffer.find(b"#")
        if end < 0 or len(self._buffer) < end + 3:
            return None
        raw = bytes(self._buffer[: end + 3])
        del self._buffer[: end + 3]
        payload = raw[1:end]
        try:
            valid = int(raw[end + 1 :], 16) == rsp_checksum(payload)
        except ValueError:
            valid = False
        kind = "packet" if raw[:1] == b"$" else "notification"
        return Event(kind, raw, payload, valid)


@dataclass
class Side:
    """One connection (GDB or QEMU) with its own ack mode and undelivered events."""

    name: str
    sock: socket.socket
    log: object | None = None
    acks: bool = True
    last_packet: bytes = b""
    reader: RspReader = field(default_factory=RspReader)
    pending: collections.deque = field(default_factory=collections.deque)

    def send(self, data: bytes) -> None:
        if self.log:
            self.log.write(f"-> {self.name}: {data!r}\n")
        self.sock.sendall(data)

    def send_packet(self, raw: bytes) -> None:
        self.last_packet = raw
        self.send(raw)

    def receive(self) -> bool:
        """Read what is available; False once the peer has closed the connection."""
        data = self.sock.recv(65536)
        if not data:
            return False
        if self.log:
            self.log.write(f"<- {self.name}: {data!r}\n")
        self.pending.extend(self.reader.feed(data))
        return True

    def next_event(self) -> Event:
        """Block until an event arrives (used while the other side is waiting)."""
        while not self.pending:
            if not self.receive():
                raise ProxyError(f"{self.name} closed the connection")
        return self.pending.popleft()


class MSystemProxy:
    def __init__(self, gdb: Side, qemu: Side) -> None:
        self.gdb = gdb
        self.qemu = qemu
        self.registers: dict[int, int] = {}
        self.target_xml: bytes | None = None
        self.noack_requested = False
        self.layout: dict[str, RegisterSlot] = {}
        self.xpsr_written: bytes | None = None  # hex digits GDB wrote, target byte order
        self.last_request = b""

    def run(self) -> None:
        sides = {self.gdb.sock: self.gdb, self.qemu.sock: self.qemu}
        while True:
            self._drain()
            readable, _, _ = select.select(list(sides), [], [])
            for sock in readable:
                if not sides[sock].receive():
                    return

    def _drain(self) -> None:
        while self.gdb.pending or self.qemu.pending:
            if self.gdb.pending:
                self.on_gdb_event(self.gdb.pending.popleft())
            if self.qemu.pending:
                self.on_qemu_event(self.qemu.pending.popleft())

    # GDB -> proxy -----------------------------------------------------------------------

    def on_gdb_event(self, event: Event) -> None:
        # GDB's '+' acknowledge packets the proxy sent; the proxy acknowledges QEMU itself,
        # so they stop here.
        if event.kind == "interrupt":
            self.qemu.send(INTERRUPT)
        elif event.kind == "nak":
            self.gdb.send(self.gdb.last_packet)
        elif event.kind == "packet":
            self.on_gdb_packet(event)

    def on_gdb_packet(self, event: Event) -> None:
        if not event.valid:
            if self.gdb.acks:
                self.gdb.send(NAK)
            return
        if self.gdb.acks:
            self.gdb.send(ACK)
        payload = rsp_decode(event.payload)
        reply = self.local_reply(payload)
        if reply is not None:
            self.gdb.send_packet(rsp_frame(reply))
            return
        if payload == b"QStartNoAckMode":
            self.noack_requested = True
        self.note_request(payload)
        self.qemu.send_packet(event.raw)

    def note_request(self, payload: bytes) -> None:
        """Remember what QEMU's next reply answers (all-stop mode: one request at a time)
        and track the xPSR override: set by a write, dropped when the target resumes."""
        self.last_request = payload
        xpsr = self.layout.get("xpsr")
        if payload[:1] == b"P" and xpsr and payload[1:].split(b"=")[0] == b"%x" % xpsr.number:
            self.xpsr_written = payload.split(b"=", 1)[1]
        elif payload[:1] in b"cCsS" or payload.startswith(b"vCont;"):
            self.xpsr_written = None

    def local_reply(self, payload: bytes) -> bytes | None:
        """The reply to a packet the proxy answers itself, or None to forward it."""
        if payload.startswith(TARGET_XML_QUERY):
            return self.target_xml_slice(payload[len(TARGET_XML_QUERY) :])
        if payload[:1] == b"p" and self.owns_register(payload[1:]):
            value = self.registers[int(payload[1:], 16)]
            return value.to_bytes(4, "little").hex().encode()
        if payload[:1] == b"P" and self.owns_register(payload[1:].split(b"=")[0]):
            number, value = payload[1:].split(b"=", 1)
            self.registers[int(number, 16)] = int.from_bytes(
                bytes.fromhex(value.decode()), "little"
            )
            return b"OK"
        return None

    def owns_register(self, number: bytes) -> bool:
        try:
            return int(number, 16) in self.registers
        except ValueError:
            return False

    # QEMU -> proxy ----------------------------------------------------------------------

    def on_qemu_event(self, event: Event) -> None:
        if event.kind == "nak":
            self.qemu.send(self.qemu.last_packet)
        elif event.kind == "notification":
            self.gdb.send(event.raw)
        elif event.kind == "packet":
            self.on_qemu_packet(event)

    def on_qemu_packet(self, event: Event) -> None:
        if not event.valid:
            if self.qemu.acks:
                self.qemu.send(NAK)
            return
        if self.qemu.acks:
            self.qemu.send(ACK)
        self.gdb.send_packet(self.patched_reply(event))
        if self.noack_requested:
            # The reply to QStartNoAckMode is the last packet either side acknowledges.
            self.noack_requested = False
            if rsp_decode(event.payload) == b"OK":
                self.gdb.acks = False
                self.qemu.acks = False

    def patched_reply(self, event: Event) -> bytes:
        """QEMU's reply, with xPSR as GDB last wrote it if GDB is reading it back."""
        xpsr = self.layout.get("xpsr")
        if self.xpsr_written is None or xpsr is None:
            return event.raw
        reply = rsp_decode(event.payload)
        if self.last_request == b"g" and len(reply) >= 2 * (xpsr.offset + xpsr.size):
            start = 2 * xpsr.offset
            reply = reply[:start] + self.xpsr_written + reply[start + 2 * xpsr.size :]
        elif self.last_request == b"p%x" % xpsr.number:
            reply = self.xpsr_written
        else:
            return event.raw
        return rsp_frame(reply)

    # Target description -----------------------------------------------------------------

    def target_xml_slice(self, window: bytes) -> bytes:
        """qXfer reply: 'm' + data while more follows, 'l' + data for the last slice."""
        offset, length = (int(part, 16) for part in window.split(b","))
        document = self.target_description()
        chunk = document[offset : offset + length]
        marker = b"l" if offset + length >= len(document) else b"m"
        return marker + rsp_escape(chunk)

    def target_description(self) -> bytes:
        if self.target_xml is None:
            original = self.qemu_read_object(b"target.xml")
            self.layout = register_layout(original, self.qemu_read_object)
            self.target_xml, msp = add_m_system_feature(original, self.layout)
            self.registers = {msp: 0, msp + 1: 0}
        return self.target_xml

    def qemu_read_object(self, annex: bytes) -> bytes:
        data = bytearray()
        while True:
            query = b"qXfer:features:read:%s:%x,%x" % (annex, len(data), QXFER_CHUNK)
            reply = self.qemu_request(query)
            if reply[:1] not in (b"m", b"l"):
                raise ProxyError(f"QEMU refused to send {annex!r}: {reply!r}")
            data += reply[1:]
            if reply[:1] == b"l":
                return bytes(data)

    def qemu_request(self, payload: bytes) -> bytes:
        """Send a packet of the proxy's own to QEMU and wait for its reply.

        Only done while GDB waits for an answer, so no other reply can be in flight.
        """
        self.qemu.send_packet(rsp_frame(payload))
        while True:
            event = self.qemu.next_event()
            if event.kind == "nak":
                self.qemu.send(self.qemu.last_packet)
            elif event.kind == "packet":
                if self.qemu.acks:
                    self.qemu.send(ACK)
                return rsp_decode(event.payload)


def parse_description(document: bytes) -> ElementTree.Element:
    """Parse a target description. QEMU writes <xi:include> without declaring the xi
    prefix (GDB's own parser does not mind); declare it so a strict parser accepts it."""
    if b"xmlns:xi" not in document:
        document = document.replace(b"<target>", b'<target xmlns:xi="%s">' % XINCLUDE_NS, 1)
    return ElementTree.fromstring(document)


def iter_registers(element: ElementTree.Element, load_include):
    """Every <reg> in document order, following <xi:include> into the included files."""
    for child in element:
        if child.tag == XINCLUDE:
            included = parse_description(load_include(child.get("href").encode()))
            yield from iter_registers(included, load_include)
        elif child.tag == "reg":
            yield child
        else:
            yield from iter_registers(child, load_include)


@dataclass(frozen=True)
class RegisterSlot:
    number: int
    offset: int  # bytes into a 'g' reply
    size: int


def register_layout(document: bytes, load_include) -> dict[str, RegisterSlot]:
    """Number, 'g' packet offset and size of every register of a target description.

    GDB numbering: an explicit regnum, else one more than the previous register. A 'g'
    packet holds the registers in number order, each in its bitsize."""
    numbered = []
    next_number = 0
    for reg in iter_registers(parse_description(document), load_include):
        number = int(reg.get("regnum", next_number))
        numbered.append((number, reg.get("name"), int(reg.get("bitsize")) // 8))
        next_number = number + 1
    layout = {}
    offset = 0
    for number, name, size in sorted(numbered):
        layout[name] = RegisterSlot(number, offset, size)
        offset += size
    return layout


def add_m_system_feature(document: bytes, layout: dict[str, RegisterSlot]) -> tuple[bytes, int]:
    """Return the document with msp/psp appended, and the register number of msp."""
    msp = max(slot.number for slot in layout.values()) + 1
    feature = M_SYSTEM_FEATURE.format(msp=msp, psp=msp + 1).encode()
    end = document.rindex(b"</target>")
    return document[:end] + feature + document[end:], msp


def connect_with_retry(address: tuple[str, int], timeout: float = 10.0) -> socket.socket:
    """QEMU opens its gdbstub port a moment after it starts; probing it would use up its
    single connection, so retry the real connection instead."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(address)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def serve(listen_port: int, target: tuple[str, int], log=None) -> None:
    with socket.create_server(("127.0.0.1", listen_port)) as server:
        print(f"listening on {server.getsockname()[1]}", flush=True)
        gdb_sock, _ = server.accept()
    qemu_sock = connect_with_retry(target)
    for sock in (gdb_sock, qemu_sock):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        MSystemProxy(Side("gdb", gdb_sock, log), Side("qemu", qemu_sock, log)).run()
    except (ConnectionResetError, BrokenPipeError):
        pass  # GDB's "kill" ends QEMU, which may drop the connection mid-exchange
    finally:
        gdb_sock.close()
        qemu_sock.close()


def parse_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="QEMU gdbstub, HOST:PORT")
    parser.add_argument("--listen", type=int, default=0, help="port for GDB (0: any)")
    parser.add_argument("--log", help="write all traffic to this file")
    args = parser.parse_args(argv)
    log = open(args.log, "w", encoding="utf-8") if args.log else None  # noqa: SIM115
    try:
        serve(args.listen, parse_address(args.target), log)
    except (ProxyError, OSError) as error:
        print(f"rsp_proxy: {error}", file=sys.stderr)
        return 1
    finally:
        if log:
            log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
