"""Grouping: each input in grouping_inputs/ through every config, against text snapshots.

Set DRE_UPDATE_SNAPSHOTS=1 to rewrite the snapshots after a deliberate change, then
read the diff: a changed fingerprint regroups every trace of that shape.
"""

import json
import os
from pathlib import Path

import pytest

from dre.crashes.grouping import CONFIGS, group

HERE = Path(__file__).parent
INPUTS = sorted((HERE / "grouping_inputs").glob("*.json"))


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
