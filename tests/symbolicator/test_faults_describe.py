"""The one-sentence description, from hand-made analyses (formatting only)."""

from symbolicator.faults import (
    Access,
    AnalysisStatus,
    Assertion,
    Context,
    FaultAddress,
    FaultAnalysis,
    FaultFlag,
    FaultKind,
    Place,
    StackOverflow,
    describe_fault,
    describe_registers,
)
from symbolicator.faults.bits import decode_register


def analysis(**fields):
    defaults = {
        "status": AnalysisStatus.DECODED,
        "reason": "",
        "kind": FaultKind.FAULT,
        "context": Context("thread", 0, "Thread mode", thread="main", stack="PSP"),
    }
    return FaultAnalysis(**{**defaults, **fields})


def test_it_says_what_was_written_where_and_by_whom():
    text = describe_fault(
        analysis(
            exception="MemManage",
            cause="DACCVIOL",
            access=Access.WRITE,
            address=FaultAddress(0xC, "MMFAR", "g_vector_table", 12, near_null=True),
            place=Place(0x18DA, "record_word_store", "src/storage.c", 26),
        )
    )

    assert text == (
        "MemManage fault: data access violation writing 0x0000000C in record_word_store() "
        "at src/storage.c:26, thread main"
    )


def test_it_names_the_object_a_non_null_address_lies_in():
    text = describe_fault(
        analysis(
            exception="BusFault",
            cause="PRECISERR",
            access=Access.READ,
            address=FaultAddress(0x20000004, "BFAR", "g_sink", 0),
        )
    )

    assert text == "BusFault: precise data bus error reading 0x20000004 <g_sink>, thread main"


def test_an_escalated_fault_says_what_it_escalated_from():
    text = describe_fault(
        analysis(
            exception="HardFault",
            escalated_from="UsageFault",
            cause="DIVBYZERO",
            place=Place(0x66E, "calc_ratio", "src/calc.c", 10),
        )
    )

    assert text == (
        "HardFault (escalated UsageFault): divide by zero in calc_ratio() at src/calc.c:10, "
        "thread main"
    )


def test_an_approximate_pc_is_near_rather_than_in():
    text = describe_fault(
        analysis(
            exception="BusFault",
            cause="IMPRECISERR",
            flags=[FaultFlag.PC_APPROXIMATE],
            place=Place(0x100, "flush", "src/log.c", 7),
        )
    )

    assert text == (
        "BusFault: imprecise data bus error (the PC is approximate) near flush() at "
        "src/log.c:7, thread main"
    )


def test_an_instruction_fetch_from_nowhere_names_the_address_and_caller():
    text = describe_fault(
        analysis(
            exception="MemManage",
            cause="IACCVIOL",
            access=Access.EXECUTE,
            address=FaultAddress(0xE0000000, "PC"),
            place=Place(0xE0000000),
            caller=Place(0x2A0, "dispatch", "src/app.c", 12),
        )
    )

    assert text == (
        "MemManage fault: instruction access violation executing 0xE0000000 at 0xE0000000, "
        "called from dispatch() at src/app.c:12, thread main"
    )


def test_a_fault_in_an_interrupt_names_it_and_the_thread_it_interrupted():
    context = Context("handler", 25, "IRQ 9", "Timer1_IRQHandler", "main", "MSP")

    text = describe_fault(analysis(exception="UsageFault", cause="UNALIGNED", context=context))

    assert (
        text
        == "UsageFault: unaligned access, in IRQ 9 (Timer1_IRQHandler) interrupting thread main"
    )


def test_lockup_and_untrusted_frames_are_qualified():
    text = describe_fault(
        analysis(
            exception="HardFault",
            cause="FORCED",
            flags=[FaultFlag.FRAME_UNTRUSTED, FaultFlag.LOCKUP],
            context=Context("unknown"),
        )
    )

    assert text == (
        "HardFault: escalated fault; the stacked registers are invalid; the core locked up"
    )


def test_an_assert_gives_expression_file_line_and_function():
    text = describe_fault(
        analysis(
            kind=FaultKind.ASSERT,
            assertion=Assertion("__assert_func", "newlib", "main.c", 42, "n > 0"),
            place=Place(0x300, "parse", "main.c", 42),
        )
    )

    assert text == "Assertion failed: n > 0 at main.c:42 in parse(), thread main"


def test_an_assert_without_details_falls_back_to_its_place():
    text = describe_fault(
        analysis(
            kind=FaultKind.ASSERT,
            assertion=Assertion("memfault_fault_handling_assert", "Memfault SDK"),
            place=Place(0x300, "parse", "main.c", 42),
        )
    )

    assert text == "Assertion failed in parse() at main.c:42, thread main"


def test_a_stack_overflow_below_the_base_says_so():
    overflow = StackOverflow(
        "sensor", "PSP", 0x200009F0, 0x20000A00, 0x400, ["STKERR", "sp_below_stack_base"]
    )

    text = describe_fault(
        analysis(
            kind=FaultKind.STACK_OVERFLOW,
            exception="BusFault",
            cause="STKERR",
            causes=["STKERR"],
            flags=[FaultFlag.FRAME_UNTRUSTED],
            stack_overflow=overflow,
        )
    )

    assert text == (
        "Stack overflow in thread sensor: BusFault, SP 0x200009F0 below the stack base "
        "0x20000A00; stacking the exception frame failed (STKERR), so the stacked registers "
        "are invalid"
    )


def test_a_stack_overflow_names_the_recursion_found_below_it():
    overflow = StackOverflow(
        "main",
        "PSP",
        0x20000280,
        0x20000200,
        0x800,
        ["MSTKERR", "fault_address_in_unused_stack"],
        "parse_nested",
        46,
    )

    text = describe_fault(
        analysis(
            kind=FaultKind.STACK_OVERFLOW,
            exception="MemManage",
            cause="DACCVIOL",
            causes=["DACCVIOL", "MSTKERR"],
            address=FaultAddress(0x20000278, "MMFAR", "s_main_stack", 120),
            access=Access.UNKNOWN,
            caller=Place(0x12D4, "parse_nested", "src/scenarios.c", 149, 1),
            stack_overflow=overflow,
        )
    )

    assert text == (
        "Stack overflow in thread main: MemManage fault, data access violation accessing "
        "0x20000278 <s_main_stack+120> below SP 0x20000280, called from parse_nested() at "
        "src/scenarios.c:149 (recursing 46 frames deep); stacking the exception frame failed "
        "(MSTKERR)"
    )


def test_a_main_stack_overflow_has_no_thread():
    overflow = StackOverflow(None, "MSP", 0x1FFFFFF0, evidence=["STKERR"])

    text = describe_fault(
        analysis(exception="BusFault", cause="STKERR", causes=["STKERR"], stack_overflow=overflow)
    )

    assert text.startswith("Stack overflow on the main stack (MSP): BusFault, SP 0x1FFFFFF0")


def test_without_a_cause_it_says_what_the_firmware_reported():
    text = describe_fault(
        analysis(
            status=AnalysisStatus.NO_FAULT_BITS,
            kind=FaultKind.WATCHDOG,
            trace_reason=0x8006,
            trace_reason_name="SoftwareWatchdog",
            place=Place(0x400, "spin", "src/app.c", 3),
        )
    )

    assert text == "Software watchdog in spin() at src/app.c:3, thread main"


def test_with_nothing_known_it_still_says_something():
    assert describe_fault(analysis(context=Context("unknown"))) == "Crash"


def test_the_register_table_lists_each_register_with_its_bits():
    lines = describe_registers(
        analysis(
            registers={"CFSR": 0x82, "MMFAR": 0xC},
            bits=decode_register("CFSR", 0x82),
        )
    )

    assert lines == ["CFSR  0x00000082 DACCVIOL MMARVALID", "MMFAR 0x0000000C"]
