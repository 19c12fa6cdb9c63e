"""Stack overflow detection, and naming the thread whose stack overflowed."""

from symbolicator.faults.model import FaultAddress
from symbolicator.faults.overflow import detect_stack_overflow
from symbolicator.trace import Frame, Thread

MAIN_BASE = 0x20000200


def threads(main_used=200):
    return [
        Thread("main", True, stack={"base": MAIN_BASE, "size": 0x800, "used": main_used}),
        Thread("sensor", False, stack={"base": 0x20000A00, "size": 0x400, "used": 168}),
        Thread("idle", False),  # no stack bounds known
    ]


def test_a_stacking_error_with_sp_in_a_threads_stack_names_that_thread():
    # The fixture's stack_overflow: SP 0x80 above the base, the push hit the 128-byte guard.
    overflow = detect_stack_overflow(
        ["DACCVIOL", "MSTKERR"],
        0x20000280,
        "PSP",
        FaultAddress(0x20000278, "MMFAR"),
        threads(),
    )

    assert (overflow.thread, overflow.stack, overflow.sp) == ("main", "PSP", 0x20000280)
    assert (overflow.stack_base, overflow.stack_size) == (MAIN_BASE, 0x800)
    assert overflow.evidence == ["MSTKERR", "fault_address_in_unused_stack"]


def test_sp_below_the_crashed_threads_stack_base_is_an_overflow():
    overflow = detect_stack_overflow(["PRECISERR"], MAIN_BASE - 0x40, "PSP", None, threads())

    assert overflow.thread == "main"
    assert overflow.evidence == ["sp_below_stack_base"]


def test_sp_just_below_another_stack_names_that_stack_when_the_crashed_one_is_elsewhere():
    others = [
        Thread("main", True, stack={"base": 0x20002000, "size": 0x400}),
        Thread("sensor", False, stack={"base": 0x20000A00, "size": 0x400}),
    ]

    overflow = detect_stack_overflow(["STKERR"], 0x200009F0, "PSP", None, others)

    assert overflow.thread == "sensor"
    assert overflow.evidence == ["STKERR", "sp_below_stack_base"]


def test_a_data_fault_in_the_unused_part_of_the_sp_stack_means_a_guard_was_hit():
    overflow = detect_stack_overflow(
        ["DACCVIOL"], 0x20000290, "PSP", FaultAddress(0x20000210, "MMFAR"), threads()
    )

    assert overflow.evidence == ["fault_address_in_unused_stack"]


def test_a_fault_address_above_sp_is_ordinary_stack_use():
    result = detect_stack_overflow(
        ["DACCVIOL"], 0x20000290, "PSP", FaultAddress(0x20000300, "MMFAR"), threads()
    )

    assert result is None


def test_an_ordinary_fault_is_no_overflow():
    assert detect_stack_overflow(["DIVBYZERO"], 0x20000900, "PSP", None, threads()) is None


def test_the_firmwares_own_word_is_evidence():
    memfault = detect_stack_overflow([], 0x20000900, "PSP", None, threads(), (0x800B, None))
    zephyr = detect_stack_overflow([], 0x20000900, "PSP", None, threads(), (None, 32))

    assert memfault.evidence == ["trace_reason"]
    assert zephyr.evidence == ["zephyr_reason"]


def test_an_exhausted_fill_pattern_only_supports_other_evidence():
    assert detect_stack_overflow(["DIVBYZERO"], 0x20000900, "PSP", None, threads(0x800)) is None

    overflow = detect_stack_overflow(["STKOF"], 0x20000900, "PSP", None, threads(0x800))
    assert overflow.evidence == ["STKOF", "high_water_mark_at_base"]


def test_an_overflow_of_the_main_stack_belongs_to_no_thread():
    overflow = detect_stack_overflow(["STKERR"], 0x1FFFFFF0, "MSP", None, threads())

    assert (overflow.thread, overflow.stack, overflow.stack_base) == (None, "MSP", None)


def test_without_stack_bounds_the_crashed_thread_on_psp_is_named():
    bare = [Thread("main", True)]

    overflow = detect_stack_overflow(["MSTKERR"], 0x20000100, "PSP", None, bare)

    assert (overflow.thread, overflow.stack_base) == ("main", None)


def test_it_measures_the_recursion_that_ran_the_stack_out():
    frames = [Frame(0xA5A5A5A4)] + [Frame(0x12D4, function="parse_nested")] * 5
    frames += [Frame(0x1300, function="scenario_run"), Frame(0x5AE, function="main_thread")]

    overflow = detect_stack_overflow(["MSTKERR"], 0x20000280, "PSP", None, threads(), frames=frames)

    assert (overflow.recursion, overflow.recursion_depth) == ("parse_nested", 5)


def test_two_frames_of_a_function_are_no_recursion():
    frames = [Frame(0x100, function="a"), Frame(0x100, function="a"), Frame(0x200, function="b")]

    overflow = detect_stack_overflow(["MSTKERR"], 0x20000280, "PSP", None, threads(), frames=frames)

    assert (overflow.recursion, overflow.recursion_depth) == (None, 0)
