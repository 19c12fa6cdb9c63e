"""The analysis rules (cortex-m-unwinding.md 6.3) on hand-built coredumps."""

import json
import struct

from symbolicator.coredump.model import Coredump, MemoryRegion
from symbolicator.faults import (
    Access,
    AnalysisStatus,
    FaultAnalysis,
    FaultFlag,
    FaultKind,
    analyze_fault,
)
from symbolicator.trace import Frame, FrameKind, SourceLocation, Thread, Trace

THREAD_SP = 0x20000900
CODE = 0x1000


def coredump(
    cfsr=0, hfsr=0, shcsr=0, mmfar=0, bfar=0, icsr=None, reason=None, xpsr=0x01000000, **extra
):
    words = struct.pack("<7I", shcsr, cfsr, hfsr, 0, mmfar, bfar, 0)
    regions = [MemoryRegion(0xE000ED24, words)]
    if icsr is not None:
        regions.append(MemoryRegion(0xE000ED04, struct.pack("<I", icsr)))
    regions.append(MemoryRegion(CODE, bytes.fromhex("c1600068")))  # str r1,[r0,#12]; ldr r0,[r0]
    registers = {"pc": CODE, "sp": THREAD_SP, "psp": THREAD_SP, "msp": 0x20001E00, "xpsr": xpsr}
    return Coredump("memfault", registers, regions, trace_reason=reason, extra=extra)


def trace(*frames, name="main"):
    thread = Thread(name, True, list(frames), stack={"base": 0x20000200, "size": 0x800})
    return Trace([thread])


def frame(pc, function, line, kind=FrameKind.NORMAL):
    return Frame(pc, kind, function=function, location=SourceLocation("src/app.c", line))


def test_a_memmanage_data_access_is_decoded_and_placed():
    dump = coredump(cfsr=0x82, shcsr=0x70001, mmfar=0xC, icsr=0x804, reason=0x9200)

    analysis = analyze_fault(dump, trace(frame(CODE, "store", 26)))

    assert (analysis.status, analysis.kind) == (AnalysisStatus.DECODED, FaultKind.FAULT)
    assert (analysis.exception, analysis.exception_source) == ("MemManage", "ICSR.VECTACTIVE")
    assert (analysis.cause, analysis.cause_source) == ("DACCVIOL", "fault registers")
    assert analysis.access == Access.WRITE
    assert (analysis.address.address, analysis.address.source) == (0xC, "MMFAR")
    assert analysis.address.near_null
    assert (analysis.place.function, analysis.place.line) == ("store", 26)
    assert (analysis.context.mode, analysis.context.stack) == ("thread", "PSP")


def test_an_escalated_usage_fault_names_hardfault_and_the_real_cause():
    # HFSR.FORCED: UsageFault was disabled, so DIVBYZERO became a HardFault (B3.2.16).
    analysis = analyze_fault(coredump(cfsr=0x02000000, hfsr=0x40000000, reason=0x9400))

    assert (analysis.exception, analysis.escalated_from) == ("HardFault", "UsageFault")
    assert analysis.cause == "DIVBYZERO"
    assert analysis.causes == ["DIVBYZERO", "FORCED"]
    assert analysis.flags == [FaultFlag.ESCALATED]


def test_a_hardfault_on_a_vector_table_read_has_no_cfsr_cause():
    analysis = analyze_fault(coredump(hfsr=0x2, cfsr=0x02000000))

    assert (analysis.cause, analysis.causes) == ("VECTTBL", ["VECTTBL"])
    assert FaultFlag.VECTOR_TABLE in analysis.flags
    assert analysis.access == Access.READ


def test_an_imprecise_bus_error_flags_the_pc_as_approximate():
    analysis = analyze_fault(coredump(cfsr=0x0400, shcsr=0x70002, bfar=0x40000000))

    assert analysis.cause == "IMPRECISERR"
    assert analysis.flags == [FaultFlag.PC_APPROXIMATE]
    assert analysis.address is None  # BFARVALID is clear: BFAR is stale
    assert analysis.access == Access.WRITE
    assert "DISDEFWBUF" in analysis.notes[0]


def test_a_precise_bus_error_takes_its_address_from_bfar():
    analysis = analyze_fault(coredump(cfsr=0x8200, shcsr=0x70002, bfar=0x40000000))

    assert analysis.flags == [FaultFlag.PRECISE]
    assert (analysis.address.address, analysis.address.source) == (0x40000000, "BFAR")
    assert analysis.access == Access.WRITE  # str at the PC


def test_a_stacking_error_makes_the_stacked_frame_untrusted():
    analysis = analyze_fault(coredump(cfsr=0x10, shcsr=0x70001, xpsr=0xA5A5A5A5))

    assert analysis.flags == [FaultFlag.FRAME_UNTRUSTED]
    assert analysis.place is None
    assert analysis.context.mode == "thread"  # from PSP, not from the garbage xPSR
    assert analysis.context.exception_number is None
    assert analysis.kind == FaultKind.STACK_OVERFLOW


def test_a_fault_in_an_isr_names_the_interrupt_and_its_handler():
    frames = (
        frame(CODE, "isr_channel_record", 31),
        frame(0x1100, "Timer1_IRQHandler", 44),
        Frame(0xFFFFFFFD, FrameKind.EXCEPTION),
        frame(0x1200, "isr_trigger", 54),
    )
    dump = coredump(cfsr=0x82, shcsr=0x70001, xpsr=0x01000019)
    dump.registers.update(sp=0x20001DD0, msp=0x20001DD0)

    context = analyze_fault(dump, trace(*frames)).context

    assert (context.mode, context.exception, context.handler) == (
        "handler",
        "IRQ 9",
        "Timer1_IRQHandler",
    )
    assert (context.stack, context.thread) == ("MSP", "main")


def test_an_invalid_state_blames_the_caller_of_the_bad_branch():
    frames = (frame(CODE, "command_reboot", 83), frame(0x1184, "command_dispatch", 94))

    analysis = analyze_fault(coredump(cfsr=0x20000, shcsr=0x70008, xpsr=0), trace(*frames))

    assert analysis.caller.function == "command_dispatch"
    assert (analysis.address.address, analysis.address.source) == (CODE, "PC")


def test_a_fault_interrupting_the_hardfault_handler_is_a_lockup():
    analysis = analyze_fault(coredump(cfsr=0x82, hfsr=0x40000000, xpsr=0x01000003))

    assert FaultFlag.LOCKUP in analysis.flags


def test_a_lockup_pc_or_reason_is_a_lockup():
    dump = coredump(reason=0x9401)
    dump.registers["pc"] = 0xEFFFFFFE

    assert FaultFlag.LOCKUP in analyze_fault(dump).flags


def test_clear_registers_with_a_watchdog_reason_is_a_watchdog():
    analysis = analyze_fault(coredump(reason=0x8006))

    assert (analysis.status, analysis.kind) == (AnalysisStatus.NO_FAULT_BITS, FaultKind.WATCHDOG)
    assert analysis.cause is None


def test_without_fault_registers_the_zephyr_reason_gives_the_cause():
    dump = coredump(reason=0x9300, zephyr_reason={"code": 30, "name": "K_ERR_ARM_USAGE_DIV_0"})
    dump.regions = [r for r in dump.regions if r.address < 0xE0000000]

    analysis = analyze_fault(dump)

    assert analysis.status == AnalysisStatus.NOT_CAPTURED
    assert (analysis.exception, analysis.exception_source) == ("UsageFault", "trace reason")
    assert (analysis.cause, analysis.cause_source) == ("DIVBYZERO", "zephyr reason")
    assert analysis.zephyr_reason_name == "K_ERR_ARM_USAGE_DIV_0"


def test_without_fault_registers_a_memfault_sub_code_gives_the_cause():
    dump = coredump(reason=0x9202)
    dump.regions = []

    analysis = analyze_fault(dump)

    assert (analysis.exception, analysis.cause, analysis.cause_source) == (
        "MemManage",
        "DACCVIOL",
        "trace reason",
    )
    assert analysis.access == Access.UNKNOWN  # no code to decode


def test_a_zephyr_kernel_panic_without_a_fault_is_an_error():
    dump = coredump(zephyr_reason=4)

    assert analyze_fault(dump).kind == FaultKind.ERROR


def test_an_assert_reason_makes_it_an_assert_even_without_a_handler_frame():
    analysis = analyze_fault(coredump(cfsr=0x10000, shcsr=0x70008, reason=0x8001))

    assert analysis.kind == FaultKind.ASSERT
    assert analysis.assertion.handler is None


def test_it_serializes_to_json():
    analysis = analyze_fault(coredump(cfsr=0x82, shcsr=0x70001, mmfar=0xC))

    data = json.loads(json.dumps(analysis.to_dict()))

    assert data["cause"] == "DACCVIOL"
    assert data["bits"][0] == {
        "register": "SHCSR",
        "bit": 0,
        "name": "MEMFAULTACT",
        "meaning": "MemManage handler active",
        "kind": "active",
        "group": "",
        "width": 1,
        "value": 1,
    }


def test_a_stored_analysis_comes_back_equal():
    frames = (frame(CODE, "store", 26),)
    analysis = analyze_fault(coredump(cfsr=0x92, shcsr=0x70001, mmfar=0x20000210), trace(*frames))

    stored = json.loads(json.dumps(analysis.to_dict()))

    assert FaultAnalysis.from_dict(stored) == analysis
