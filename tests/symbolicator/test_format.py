"""Frame arguments as GDB's `bt` prints them: `print frame-arguments scalars` and
`print entry-values default` (stack.c print_frame_args)."""

from symbolicator.format import arguments_text
from symbolicator.trace import VariableInfo


def argument(name="x", text="1", scalar=True, entry=None, entry_matches=False):
    return VariableInfo(name, "int", text, scalar=scalar, entry=entry, entry_matches=entry_matches)


def test_scalars_print_their_value():
    assert arguments_text([argument("a", "1"), argument("b", "0x0")]) == "a=1, b=0x0"


def test_structs_unions_and_arrays_print_an_ellipsis():
    assert arguments_text([argument("t", "{ticks = 5}", scalar=False)]) == "t=..."


def test_an_entry_value_equal_to_the_current_one_is_shown_once():
    shown = arguments_text([argument("v", "42", entry="42", entry_matches=True)])

    assert shown == "v=v@entry=42"


def test_a_different_entry_value_is_shown_beside_the_current_one():
    shown = arguments_text([argument("v", "<optimized out>", entry="42")])

    assert shown == "v=<optimized out>, v@entry=42"


def test_a_struct_entry_value_is_summarised_too():
    timeout = argument("timeout", "<optimized out>", scalar=False, entry="{ticks = 30000}")

    assert arguments_text([timeout]) == "timeout=..., timeout@entry=..."
