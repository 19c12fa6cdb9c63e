"""Grouping: each input in grouping_inputs/ through every config, against text snapshots.

Set DRE_UPDATE_SNAPSHOTS=1 to rewrite the snapshots after a deliberate change, then
read the diff: a changed fingerprint regroups every trace of that shape.
"""

import json
import os
import re
from pathlib import Path

import pytest

from dre.crashes.grouping import CONFIGS, RuleError, Rules, group
from tests.firmware_fixtures import BUILDS

HERE = Path(__file__).parent
INPUTS = sorted((HERE / "grouping_inputs").glob("*.json"))
OLD = "dre:2026-11-23"
BOARDS = ("an385", "an386")  # Cortex-M3, Cortex-M4F


def render(result) -> str:
    lines = [f"config: {result.config}", f"fingerprint: {result.fingerprint}", ""]
    for component in result.components:
        mark = "+" if component.contributes else "-"
        hint = f"  ({component.hint})" if component.hint else ""
        lines.append(f"{mark} {component.kind}: {component.value}{hint}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_grouping_matches_its_snapshot(path, config):
    snapshot = HERE / "grouping_snapshots" / config.replace(":", "_") / f"{path.stem}.txt"
    actual = render(group(json.loads(path.read_text()), config))
    if os.environ.get("DRE_UPDATE_SNAPSHOTS") == "1":
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(actual)
    assert actual == snapshot.read_text()


def test_addresses_never_change_a_fingerprint():
    trace = json.loads(INPUTS[0].read_text())
    moved = json.loads(INPUTS[0].read_text())
    for frame in moved["threads"][0]["frames"]:
        frame["pc"] += 0x40

    assert group(trace).fingerprint == group(moved).fingerprint


def test_a_different_cause_is_a_different_issue():
    trace = json.loads((HERE / "grouping_inputs" / "edge-deep-recursion.json").read_text())
    other = json.loads((HERE / "grouping_inputs" / "edge-deep-recursion.json").read_text())
    other["fault"]["kind"] = "fault"

    assert group(trace).fingerprint != group(other).fingerprint


def load(name: str) -> dict:
    return json.loads((HERE / "grouping_inputs" / f"{name}.json").read_text())


def contributing(result) -> list[str]:
    return [c.value for c in result.components if c.contributes]


# -- dre:2026-12-04 ------------------------------------------------------------------------


def test_it_groups_one_task_crash_from_m3_m4f_o0_and_o2_builds_into_one_fingerprint():
    from tests.dre.crashes.grouping_inputs.reduce import symbolicated

    for kernel in ("freertos", "zephyr"):
        old = {group(symbolicated(f"{kernel}-{b}", "task_fault"), OLD).fingerprint for b in BUILDS}
        new = {group(symbolicated(f"{kernel}-{b}", "task_fault")).fingerprint for b in BUILDS}

        assert len(old) > 1, kernel  # the port's frame past the entry split them
        assert len(new) == 1, kernel


def test_an_isr_fault_groups_whatever_the_interrupt_stopped_and_on_m3_and_m4f():
    from tests.dre.crashes.grouping_inputs.reduce import symbolicated

    for opt in ("O0", "O2"):
        builds = [f"{k}-{board}-{opt}" for k in ("freertos", "zephyr") for board in BOARDS]
        traces = [symbolicated(build, "isr_fault") for build in builds]
        new = {group(trace).fingerprint for trace in traces}
        old = {group(trace, OLD).fingerprint for trace in traces}

        assert len(new) == 1, opt  # FreeRTOS's app_task and Zephyr's app_main interrupted
        # At O0 the handler's own frames fill the first config's five; at O2 its tail
        # calls leave one, and the interrupted task's frames split the issue.
        assert len(old) == (1 if opt == "O0" else 2), opt


def test_what_the_interrupt_interrupted_is_shown_but_never_grouped_on():
    result = group(load("freertos-an385-O0-isr_fault"))

    shown = [c for c in result.components if c.value == "app_run_scenario"]
    assert contributing(result)[1:] == ["storage_commit", "rtos_isr_hook", "Timer1_IRQHandler"]
    assert shown[0].hint == "shown, not grouped: what IRQ 9 (Timer1_IRQHandler) interrupted"


def test_the_frame_gdb_prints_past_a_tasks_entry_never_counts():
    example = load("edge-memfault-freertos-example")
    fingerprints = set()
    for port_function in ("xPortPendSVHandler", "prvPortStartFirstTask", "vPortEnableVFP"):
        example["threads"][0]["frames"][-1]["function"] = port_function
        fingerprints.add(group(example).fingerprint)

    assert len(fingerprints) == 1
    assert contributing(group(example))[1:] == ["storage_commit", "prv_console_task"]


def test_exception_return_values_are_never_functions():
    for path in INPUTS:
        for config in CONFIGS:
            if config == OLD:
                continue  # the first config named them 0xfffffffd; its snapshots keep that
            values = [
                c.value
                for c in group(json.loads(path.read_text()), config).components
                if c.kind == "function"
            ]
            assert not [v for v in values if v.startswith("0xffffff")], path.stem


def test_every_frame_left_out_says_why():
    for path in INPUTS:
        result = group(json.loads(path.read_text()))
        assert all(c.hint for c in result.components if not c.contributes), path.stem


def test_no_address_build_id_or_line_changes_a_fingerprint():
    trace = load("freertos-an385-O0-task_fault")
    moved = load("freertos-an385-O0-task_fault")
    moved["build_id"] = "0" * 40
    for frame in moved["threads"][0]["frames"]:
        frame["pc"] += 0x40
        frame["cfa"] += 0x10
        frame["location"] = {**frame.get("location", {}), "line": 999}

    assert group(trace).fingerprint == group(moved).fingerprint


def test_assert_machinery_neither_titles_nor_fingerprints_the_crash():
    result = group(load("edge-assert-through-libc-and-hal"))

    assert result.title_function == "i2c_read_reg"
    assert result.culprit() == "i2c_read_reg ← sensor_poll ← sensor_task"


def test_a_project_takes_a_default_rule_back_and_marks_its_own_hook_not_in_app():
    rules = Rules.parse("+app:assert_failed\n-app:i2c_*\nfile:src/sensor.c +app")

    result = group(load("edge-assert-through-libc-and-hal"), rules=rules)

    hints = {c.value: c.hint for c in result.components}
    assert contributing(result)[1:] == ["assert_failed", "sensor_poll", "sensor_task"]
    assert hints["assert_failed"] == "in-app (rule +app:assert_failed)"
    assert hints["i2c_read_reg"] == "not in-app (rule -app:i2c_*)"
    assert hints["abort"] == "not in-app (C library assert/abort, default rule function:abort -app)"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("hal_*", "start with +app:, -app:, function: or file:"),
        ("function:hal_* app", "the action after the pattern is +app or -app"),
        ("+app:", "the pattern is empty"),
    ],
)
def test_a_rule_that_does_not_parse_says_why(line, error):
    with pytest.raises(RuleError, match=re.escape(error)):
        Rules.parse(line)
