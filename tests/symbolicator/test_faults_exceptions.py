"""Naming exceptions, and finding the one whose handler wrote the dump."""

import pytest

from symbolicator.faults.exceptions import active_exception, cause_groups, exception_name
from symbolicator.faults.registers import FaultRegisters


@pytest.mark.parametrize(
    ("number", "name"),
    [
        (0, "Thread mode"),
        (2, "NMI"),
        (3, "HardFault"),
        (4, "MemManage"),
        (5, "BusFault"),
        (6, "UsageFault"),
        (7, "SecureFault"),
        (11, "SVCall"),
        (14, "PendSV"),
        (15, "SysTick"),
        (16, "IRQ 0"),
        (25, "IRQ 9"),
        (13, "reserved exception 13"),
    ],
)
def test_it_names_exception_numbers_as_the_architecture_does(number, name):
    # ARMv7-M ARM B1.5.2: exception number 16 + n is external interrupt n.
    assert exception_name(number) == name


def test_icsr_vectactive_names_the_active_fault_first():
    # B3.2.4: VECTACTIVE = 4 while the MemManage handler runs.
    registers = FaultRegisters({"ICSR": 0x0400F804, "SHCSR": 0x70008, "CFSR": 0x82})

    assert active_exception(registers, None) == (4, "ICSR.VECTACTIVE")


def test_a_hardfault_cause_in_hfsr_wins_over_an_active_configurable_fault():
    # A fault inside the MemManage handler escalates: MEMFAULTACT stays set, HardFault runs.
    registers = FaultRegisters({"SHCSR": 0x70001, "CFSR": 0x82, "HFSR": 0x40000000})

    assert active_exception(registers, 0x9200) == (3, "HFSR")


def test_shcsr_active_bit_names_the_fault_without_icsr():
    registers = FaultRegisters({"SHCSR": 0x00070008, "CFSR": 0x00010000})

    assert active_exception(registers, None) == (6, "SHCSR")


def test_of_two_active_faults_the_one_with_a_cause_bit_is_chosen():
    # MEMFAULTACT and BUSFAULTACT (nested); only BFSR has a cause bit.
    registers = FaultRegisters({"SHCSR": 0x70003, "CFSR": 0x8200})

    assert active_exception(registers, None) == (5, "SHCSR")


@pytest.mark.parametrize(
    ("reason", "number"),
    [(0x9100, 5), (0x9202, 4), (0x9306, 6), (0x9400, 3), (0x8004, 2)],
)
def test_the_trace_reason_names_it_when_no_register_does(reason, number):
    assert active_exception(FaultRegisters(), reason) == (number, "trace reason")


def test_the_only_cfsr_sub_register_with_a_cause_names_it_last():
    registers = FaultRegisters({"CFSR": 0x02000000})

    assert active_exception(registers, 0x8000) == (6, "CFSR")


def test_it_says_unknown_when_nothing_names_it():
    registers = FaultRegisters({"CFSR": 0x02000082})

    assert active_exception(registers, None) == (None, "unknown")


def test_valid_bits_alone_do_not_make_a_cause_group():
    assert cause_groups(FaultRegisters({"CFSR": 0x8080})) == []
    assert cause_groups(FaultRegisters({"CFSR": 0x8282, "SFSR": 0x48})) == [4, 5, 7]
