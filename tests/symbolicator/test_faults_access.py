"""Read or write: the faulting Thumb instruction, decoded with capstone."""

import pytest

from symbolicator.faults.access import access_of, direction_of, instruction_at
from symbolicator.faults.model import Access
from symbolicator.memory import SOURCE_ELF, Memory, Span

PC = 0x1000


def code(hex_bytes: str) -> Memory:
    return Memory([], [Span(PC, bytes.fromhex(hex_bytes), SOURCE_ELF)])


@pytest.mark.parametrize(
    ("encoding", "mnemonic", "access"),
    [
        ("c160", "str", Access.WRITE),  # str r1, [r0, #12]
        ("43f80420", "str.w", Access.WRITE),  # str.w r2, [r3, r4]
        ("c0e90023", "strd", Access.WRITE),
        ("80b5", "push", Access.WRITE),
        ("83ed000a", "vstr", Access.WRITE),  # vstr s0, [r3]
        ("0068", "ldr", Access.READ),  # ldr r0, [r0]
        ("d0e90023", "ldrd", Access.READ),
        ("50e8001f", "ldrex", Access.READ),
        ("80bd", "pop", Access.READ),
        ("93ed000a", "vldr", Access.READ),
        ("4ff0ff30", "mov.w", Access.UNKNOWN),
    ],
)
def test_it_tells_loads_from_stores(encoding, mnemonic, access):
    assert instruction_at(code(encoding), PC) == mnemonic
    assert direction_of(mnemonic) == access


def test_a_data_access_violation_takes_its_direction_from_the_instruction():
    assert access_of("DACCVIOL", code("c160"), PC | 1, True) == (
        Access.WRITE,
        "decoded 'str' at 0x00001001",
    )


def test_a_16_bit_instruction_at_the_end_of_memory_still_decodes():
    assert access_of("PRECISERR", code("0068"), PC, True)[0] == Access.READ


def test_an_untrusted_pc_is_not_decoded():
    assert access_of("DACCVIOL", code("c160"), PC, False) == (
        Access.UNKNOWN,
        "stacked PC not trusted",
    )


def test_code_that_was_not_captured_leaves_the_direction_unknown():
    access, hint = access_of("DACCVIOL", code("c160"), 0x2000, True)

    assert access == Access.UNKNOWN
    assert "no instruction readable" in hint


@pytest.mark.parametrize(
    ("cause", "access"),
    [
        ("IACCVIOL", Access.EXECUTE),
        ("IBUSERR", Access.EXECUTE),
        ("IMPRECISERR", Access.WRITE),  # only buffered writes are imprecise
        ("MSTKERR", Access.WRITE),
        ("STKERR", Access.WRITE),
        ("MLSPERR", Access.WRITE),
        ("MUNSTKERR", Access.READ),
        ("UNSTKERR", Access.READ),
        ("VECTTBL", Access.READ),
        ("DIVBYZERO", Access.NONE),
        ("UNDEFINSTR", Access.NONE),
        (None, Access.NONE),
    ],
)
def test_other_causes_have_a_direction_fixed_by_the_architecture(cause, access):
    assert access_of(cause, code(""), None, False)[0] == access
