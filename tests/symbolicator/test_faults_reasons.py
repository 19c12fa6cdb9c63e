"""Memfault trace reasons with their fault sub-codes, and Zephyr's fatal error reasons."""

import pytest

from symbolicator.faults.reasons import (
    coredump_zephyr_reason,
    coredump_zephyr_version,
    trace_reason_info,
    zephyr_reason_info,
)


@pytest.mark.parametrize(
    ("code", "bit"),
    [
        (0x9101, "IBUSERR"),
        (0x9103, "IMPRECISERR"),
        (0x9105, "STKERR"),
        (0x9107, "BFARVALID"),
        (0x9201, "IACCVIOL"),
        (0x9202, "DACCVIOL"),
        (0x9204, "MSTKERR"),
        (0x9301, "UNDEFINSTR"),
        (0x9302, "INVSTATE"),
        (0x9306, "DIVBYZERO"),
    ],
)
def test_fault_sub_codes_stand_for_cfsr_bits(code, bit):
    # memfault-formats.md 1.9, from Memfault's reference-reboot-reason-ids.
    assert trace_reason_info(code).fault_bit == bit


@pytest.mark.parametrize("code", [0x9100, 0x9400, 0x9401, 0x9108, 0x9307, 0x8001])
def test_codes_without_a_bit_have_none(code):
    assert trace_reason_info(code).fault_bit is None


@pytest.mark.parametrize(
    ("code", "category"),
    [
        (0x0000, "unknown"),
        (0x0003, "expected"),
        (0x1001, "user_expected"),
        (0x8001, "unexpected"),
        (0x800B, "unexpected"),
        (0x9202, "fault"),
        (0x9401, "fault"),
        (0xA001, "user_unexpected"),
        (0xB000, "unknown"),
    ],
)
def test_it_sorts_trace_reasons_into_memfaults_ranges(code, category):
    assert trace_reason_info(code).category == category


def test_it_names_trace_reasons_as_symbolicator_reasons_does():
    assert trace_reason_info(0x8001).name == "Assert"
    assert trace_reason_info(0x9202).name == "MemManage (DACCVIOL)"


@pytest.mark.parametrize(
    ("code", "name", "bit"),
    [
        (0, "K_ERR_CPU_EXCEPTION", None),
        (2, "K_ERR_STACK_CHK_FAIL", None),
        (4, "K_ERR_KERNEL_PANIC", None),
        (16, "K_ERR_ARM_MEM_GENERIC", None),
        (19, "K_ERR_ARM_MEM_DATA_ACCESS", "DACCVIOL"),
        (26, "K_ERR_ARM_BUS_IMPRECISE_DATA_BUS", "IMPRECISERR"),
        (30, "K_ERR_ARM_USAGE_DIV_0", "DIVBYZERO"),
        (32, "K_ERR_ARM_USAGE_STACK_OVERFLOW", "STKOF"),
        (36, "K_ERR_ARM_USAGE_UNDEFINED_INSTRUCTION", "UNDEFINSTR"),
        (41, "K_ERR_ARM_SECURE_ATTRIBUTION_UNIT", "AUVIOL"),
        (44, "K_ERR_ARM_SECURE_LAZY_STATE_ERROR", "LSERR"),
    ],
)
def test_it_names_zephyr_reasons_and_their_fault_bits(code, name, bit):
    # cortex-m-unwinding.md 6.4; Arm codes from K_ERR_ARCH_START = 16 (Zephyr >= 3.3).
    reason = zephyr_reason_info(code)

    assert (reason.name, reason.fault_bit) == (name, bit)


def test_arm_codes_of_a_zephyr_older_than_3_3_are_not_guessed():
    reason = zephyr_reason_info(19, version=(3, 2, 0))

    assert reason.name == "arch-specific reason 19 (Zephyr 3.2.0)"
    assert reason.fault_bit is None
    assert zephyr_reason_info(4, version=(2, 7)).name == "K_ERR_KERNEL_PANIC"


def test_an_unknown_zephyr_code_keeps_its_number():
    assert zephyr_reason_info(99).name == "reason 99"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"zephyr_reason": 19}, 19),
        ({"zephyr_reason": "19"}, 19),
        ({"zephyr_reason": {"code": 16, "name": "K_ERR_ARM_MEM_GENERIC"}}, 16),
        ({"zephyr_reason": True}, None),
        ({"zephyr_reason": "nineteen"}, None),
        ({"zephyr_reason": [19]}, None),
        ({}, None),
    ],
)
def test_it_reads_the_zephyr_reason_whatever_shape_the_parser_left(extra, code):
    assert coredump_zephyr_reason(extra) == code


@pytest.mark.parametrize(
    ("extra", "version"),
    [
        ({"zephyr_version": "3.5.0"}, (3, 5, 0)),
        ({"zephyr_version": "v3.3"}, (3, 3)),
        ({"zephyr_version": [2, 7, 1]}, (2, 7, 1)),
        ({"zephyr_version": "main"}, None),
        ({}, None),
    ],
)
def test_it_reads_a_zephyr_version_if_one_was_recorded(extra, version):
    assert coredump_zephyr_version(extra) == version
