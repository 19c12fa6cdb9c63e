"""Byte-level tests of rsp_proxy.py (GDB manual, "Remote Protocol": Overview, Target
Descriptions) and of capture.py's addr2line parser. No QEMU or GDB needed."""

from __future__ import annotations

from tests.firmware import capture, rsp_proxy
from tests.firmware.rsp_proxy import MSystemProxy, RspReader, Side

QEMU_TARGET_XML = (
    b'<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target>'
    b"<architecture>arm</architecture>"
    b'<xi:include href="arm-m-profile.xml"/><xi:include href="system-registers.xml"/>'
    b"</target>"
)
M_PROFILE_XML = (
    b'<?xml version="1.0"?><feature name="org.gnu.gdb.arm.m-profile">'
    + b"".join(b'<reg name="r%d" bitsize="32"/>' % n for n in range(13))
    + b'<reg name="sp" bitsize="32" type="data_ptr"/><reg name="lr" bitsize="32"/>'
    b'<reg name="pc" bitsize="32" type="code_ptr"/>'
    b'<reg name="xpsr" bitsize="32" regnum="25"/></feature>'
)
INCLUDES = {
    b"arm-m-profile.xml": M_PROFILE_XML,
    b"system-registers.xml": b'<feature name="org.qemu.gdb.arm.sys.regs"></feature>',
}


def test_it_frames_a_packet_with_its_checksum():
    assert rsp_proxy.rsp_frame(b"OK") == b"$OK#9a"


def test_it_escapes_the_four_special_bytes():
    assert rsp_proxy.rsp_escape(b"a#b$c}d*") == b"a}\x03b}\x04c}]d}\x0a"


def test_it_decodes_escapes_and_run_length_encoding():
    # "0* " is '0' repeated 3 more times (' ' = 32 = 29 + 3).
    assert rsp_proxy.rsp_decode(b"0* }]x") == b"0000}x"


def test_it_splits_a_stream_into_acks_packets_and_interrupts():
    reader = RspReader()
    events = reader.feed(b"+$OK#9a\x03$g#6")
    assert [event.kind for event in events] == ["ack", "packet", "interrupt"]
    assert events[1].payload == b"OK"
    assert events[1].valid
    # The incomplete "$g#6" waits for its second checksum digit.
    assert [event.payload for event in reader.feed(b"7")] == [b"g"]


def test_it_flags_a_bad_checksum():
    (event,) = RspReader().feed(b"$OK#00")
    assert not event.valid


def test_it_numbers_registers_across_included_features():
    layout = rsp_proxy.register_layout(QEMU_TARGET_XML, INCLUDES.__getitem__)
    assert layout["pc"].number == 15
    assert layout["xpsr"].number == 25
    assert layout["xpsr"].offset == 64  # right after r0-pc in a 'g' reply


def test_it_adds_msp_and_psp_after_the_highest_register():
    layout = rsp_proxy.register_layout(QEMU_TARGET_XML, INCLUDES.__getitem__)
    document, msp = rsp_proxy.add_m_system_feature(QEMU_TARGET_XML, layout)
    assert msp == 26
    assert b'<reg name="psp" bitsize="32" regnum="27"' in document
    assert document.endswith(b"</feature></target>")


class FakeSocket:
    def __init__(self):
        self.sent = b""

    def sendall(self, data: bytes) -> None:
        self.sent += data


def proxy_with_description() -> MSystemProxy:
    proxy = MSystemProxy(Side("gdb", FakeSocket()), Side("qemu", FakeSocket()))
    proxy.layout = rsp_proxy.register_layout(QEMU_TARGET_XML, INCLUDES.__getitem__)
    proxy.target_xml, msp = rsp_proxy.add_m_system_feature(QEMU_TARGET_XML, proxy.layout)
    proxy.registers = {msp: 0, msp + 1: 0}
    return proxy


def test_it_answers_reads_and_writes_of_msp_itself():
    proxy = proxy_with_description()
    assert proxy.local_reply(b"P1a=0010002a") == b"OK"
    assert proxy.local_reply(b"p1a") == b"0010002a"
    assert proxy.local_reply(b"p19") is None  # xpsr goes to QEMU


def test_it_serves_the_description_in_slices():
    proxy = proxy_with_description()
    first = proxy.local_reply(b"qXfer:features:read:target.xml:0,10")
    assert first == b"m" + proxy.target_xml[:16]
    last = proxy.local_reply(b"qXfer:features:read:target.xml:10,fff")
    assert last == b"l" + rsp_proxy.rsp_escape(proxy.target_xml[16:])


def test_it_keeps_the_written_xpsr_until_the_target_resumes():
    proxy = proxy_with_description()
    proxy.note_request(b"P19=00020061")
    proxy.note_request(b"g")
    qemu_reply = rsp_proxy.rsp_frame(b"00" * 64 + b"04000061")
    patched = proxy.patched_reply(RspReader().feed(qemu_reply)[0])
    assert patched == rsp_proxy.rsp_frame(b"00" * 64 + b"00020061")
    proxy.note_request(b"c")
    assert proxy.xpsr_written is None


def test_it_parses_addr2line_inline_chains():
    output = (
        "0x000010e4\nrecord_word_store\n./src/storage.c:26\nstorage_save\n"
        "./src/storage.c:59 (discriminator 2)\n0x00001e58\n__aeabi_l2f\n??:?\n"
    )
    frames = capture.parse_addr2line(output)
    assert [frame["function"] for frame in frames[0x10E4]] == ["record_word_store", "storage_save"]
    assert frames[0x10E4][1]["discriminator"] == 2
    assert frames[0x1E58] == [
        {
            "function": "__aeabi_l2f",
            "file": "??",
            "line": None,
            "line_text": "?",
            "discriminator": None,
        }
    ]


def test_it_stops_acknowledging_once_no_ack_mode_is_agreed():
    proxy = proxy_with_description()
    (request,) = RspReader().feed(rsp_proxy.rsp_frame(b"QStartNoAckMode"))
    proxy.on_gdb_packet(request)
    (reply,) = RspReader().feed(rsp_proxy.rsp_frame(b"OK"))
    proxy.on_qemu_packet(reply)
    assert proxy.gdb.sock.sent == b"+" + rsp_proxy.rsp_frame(b"OK")
    assert proxy.qemu.sock.sent == rsp_proxy.rsp_frame(b"QStartNoAckMode") + b"+"
    assert not proxy.gdb.acks
    assert not proxy.qemu.acks
