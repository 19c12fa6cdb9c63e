"""Arguments, locals, globals and registers equal what GDB showed, for every frame of
every thread of every fixture, the FreeRTOS and Zephyr builds included (`info args`,
`info locals`, `print`, `info registers`).

Differences kept on purpose, each asserted below rather than skipped:
- Memfault's register block has no FPU registers, so a value GDB read from a live
  s-register (frame 0 at -O2 on the FPU board, or an outer frame's callee-saved s16+)
  prints `<not captured>`; they are listed in NOT_CAPTURED.
- Memory the device did not put in the dump (the coredump buffer itself) prints
  `<not captured>` where GDB read the live target.
- xPSR of the frame an exception interrupted: GDB 13.1 rebuilds its T bit from the
  stacked PC, whose bit 0 the core always clears, so it shows T=0; dre shows the
  stacked xPSR, checked here against the word in the coredump.
- MSP: the dump holds the MSP the fault handler read inside its C code, GDB stopped at
  the handler's first instruction, so MSP is checked against the dump instead.
- stack_overflow: the core never wrote the exception frame (MSTKERR), so the registers
  it stacks are unknown to dre where GDB shows the garbage the handler read; frames
  dre recovers by scanning the stack have no GDB counterpart.
"""

import re

import pytest

from symbolicator import parse_coredump
from symbolicator.symbolicate import coredump_memory
from symbolicator.variables import VariableReader
from tests.symbolicator.gdb_reference import (
    NOT_CAPTURED,
    comparable,
    dre_trace,
    index_for,
    reference,
    rtos_scenario_dirs,
    scenario_dirs,
    toolchain_scenario_dirs,
    without_gdb_warnings,
)

SCENARIOS = scenario_dirs() + rtos_scenario_dirs() + toolchain_scenario_dirs()
NO_SYMBOLS = "No symbol table info available.\n"
REGISTERS = [f"r{n}" for n in range(13)] + ["sp", "lr", "pc", "psp"]


def scenario_id(path):
    return f"{path.parent.name}/{path.name}"


UNSTACKED = {"r0", "r1", "r2", "r3", "r12", "lr", "xpsr"}


def frame_pairs(scenario):
    trace = {t.name: t for t in dre_trace(scenario).threads}
    for thread in reference(scenario)["threads"]:
        ours = trace[thread["name"]]
        frames = comparable(scenario, ours.frames, len(thread["frames"]), ours.crashed)
        for gdb_frame, dre_frame in zip(thread["frames"], frames, strict=True):
            yield thread["name"], gdb_frame, dre_frame


def listing(variables, empty: str, function) -> str:
    if function is None:
        return NO_SYMBOLS
    return "".join(f"{v.name} = {v.text}\n" for v in variables) or empty


def expected_listing(gdb_text: str, key: tuple) -> str:
    lines = []
    for line in gdb_text.splitlines(keepends=True):
        name = line.split(" = ", 1)[0]
        if (*key, name) in NOT_CAPTURED:
            line = f"{name} = <not captured>\n"
        lines.append(line)
    return "".join(lines)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_arguments_and_locals_print_as_gdb_printed_them(scenario):
    for thread, gdb_frame, frame in frame_pairs(scenario):
        if gdb_frame["type"] == "SIGTRAMP":
            continue
        key = (scenario_id(scenario), thread, gdb_frame["level"])
        args = listing(frame.arguments, "No arguments.\n", frame.function)
        local = listing(frame.locals, "No locals.\n", frame.function)
        assert args == expected_listing(without_gdb_warnings(gdb_frame["args"]), key), key
        assert local == expected_listing(gdb_frame["locals"], key), key


# The coredump buffers lie outside the RAM the dumps hold: the Memfault one, and the
# Zephyr ones the Zephyr replica writes next to it.
NOT_DUMPED = ("g_coredump_buffer", "g_zephyr_coredumps")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_globals_print_as_gdb_printed_them(scenario):
    index = index_for(scenario.parent.name)
    coredump = parse_coredump((scenario / "coredump.bin").read_bytes())
    reader = VariableReader(index, coredump_memory(coredump, index))
    ours = {(g.name, g.file.rsplit("/", 1)[-1]): g for g in reader.globals()}
    for expected in reference(scenario)["globals"]:
        found = ours[(expected["name"], expected["file"].rsplit("/", 1)[-1])]
        if expected["name"] in NOT_DUMPED:  # the dump cannot contain itself
            assert found.text == "<not captured>"
            continue
        assert found.text + "\n" == expected["value"], expected["name"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_registers_of_every_frame_match_gdb(scenario):
    coredump = parse_coredump((scenario / "coredump.bin").read_bytes())
    memory = coredump_memory(coredump, index_for(scenario.parent.name))
    for thread, gdb_frame, frame, restored in frames_with_origin(scenario):
        if gdb_frame["type"] == "SIGTRAMP":
            continue
        where = (thread, gdb_frame["level"])
        unstacked = frame.hint.startswith("registers not stacked")
        for name in REGISTERS:
            expected = gdb_frame["registers"].get(name)
            actual = frame.registers.get(name)
            if unstacked and name in UNSTACKED:
                assert actual is None, (*where, name)
                continue
            assert (None if actual is None else hex(actual)) == expected, (*where, name)
        if unstacked:
            assert "xpsr" not in frame.registers
        elif restored:
            assert frame.registers["xpsr"] == stacked_xpsr(memory, frame, coredump), where
        else:
            assert hex(frame.registers["xpsr"]) == gdb_frame["registers"]["xpsr"], where


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_the_registers_unwinding_restored_are_the_ones_gdb_found_saved(scenario):
    # GDB's `info frame` lists where a frame saved its caller's registers; dre marks them
    # recovered in the caller (with sp and pc, which unwinding always computes).
    checked, callee = 0, (None, set())
    for thread, gdb_frame, frame in frame_pairs(scenario):
        if frame.kind.value in ("inline", "tailcall"):
            continue
        if frame.hint == "CFI" and callee[0] == thread:
            assert set(frame.recovered) - {"sp", "pc"} == callee[1], (thread, frame.pc)
            checked += 1
        callee = (thread, gdb_saved_registers(gdb_frame["info_frame"]))
    assert checked


def gdb_saved_registers(info_frame: str) -> set[str]:
    """The names in `info frame`'s "Saved registers: r4 at 0x..., lr at 0x..." list."""
    listed = info_frame.partition("Saved registers:")[2]
    return set(re.findall(r"(\w+) at 0x", listed))


def frames_with_origin(scenario):
    """Frame pairs, each flagged when its registers came out of an exception frame
    (its inline frames share the real frame's registers and its origin)."""
    pairs = list(frame_pairs(scenario))
    restored, out = False, []
    for thread, gdb_frame, frame in reversed(pairs):
        if frame.kind.value != "inline":
            restored = frame.hint.startswith("exception frame") or (
                frame.hint == "registers from the coredump" and thread == pairs[0][0]
            )
        out.append((thread, gdb_frame, frame, restored))
    return reversed(out)


def stacked_xpsr(memory, frame, coredump) -> int:
    """The xPSR word the core pushed, read from the dumped stack under the frame's SP
    (ARMv7-M B1.5.6: the basic frame's last word, the extended frame's eighth)."""
    if frame.hint == "registers from the coredump":
        return coredump.registers["xpsr"]  # the SDK copies it from the stacked frame
    size = 0x68 if "FPU extended" in frame.hint else 0x20
    sp = frame.registers["sp"]
    for padding in (0, 4):  # xPSR bit 9 says whether the core skipped a word
        word = memory.read_u32(sp - size - padding + 0x1C)
        if bool(word & (1 << 9)) == bool(padding):
            return word
    raise AssertionError("no consistent exception frame below the frame's SP")


def test_the_crashed_threads_msp_is_the_one_in_the_coredump():
    scenario = next(s for s in SCENARIOS if scenario_id(s) == "an385-O0/null_write")
    coredump = parse_coredump((scenario / "coredump.bin").read_bytes())
    crashed = dre_trace(scenario).threads[0]

    assert {f.registers["msp"] for f in crashed.frames} == {coredump.registers["msp"]}
