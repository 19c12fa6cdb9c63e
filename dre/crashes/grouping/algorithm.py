"""Fingerprints from the crash reason and the top in-app functions.

Config ids are dated; a change to what contributes to a fingerprint gets a
new config, and the changelog below says what changed, so stored
fingerprints stay explainable. Older configs stay runnable: the issue upsert
computes the previous config's fingerprint too (the secondary hash), so a new
config never splits an issue that already exists.

Changelog:
- dre:2026-11-23: the crash reason + up to 5 in-app function names of the
  crashing thread, innermost first. The reason is the fault analysis's kind
  and cause ("fault: UsageFault DIVBYZERO", "stack_overflow", "assert") when
  the trace has one, else the trace reason's name. Exception frames, frames
  without a function name, C runtime functions and direct recursion do not
  contribute. Addresses never contribute: they change with every build.
- dre:2026-12-04: as before, and (1) the fingerprint ends at the thread's
  entry function: frames past it (the kernel's thread start, or the return
  address a kernel plants, which GDB names after whatever function precedes
  it: xPortPendSVHandler, prvPortStartFirstTask, vPortEnableVFP...) never
  contribute; (2) for a fault taken in handler mode it ends at the
  interrupt's exception frame: what the interrupt interrupted is shown, never
  grouped on; (3) default in-app rules (grouping.defaults) take RTOS kernels
  and ports, fault handlers, the Memfault SDK's fault machinery, the C
  library's assert/abort and HAL assert hooks out; a project's rules come
  after them and can take them back (+app:NAME); (4) exception frames and
  exception-return values (0xFFFFFFxx) are never shown as functions; (5) a fault
  inside the fault handler (fault.fault_path, set by the symbolicator) groups by the
  first fault: its recorded reason and thread, then its own frames (those after the
  handler's exception frame) when unwinding recovered them, never by the handler code
  (memcpy) the second fault stopped in.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from fnmatch import fnmatchcase

from dre.crashes.grouping import frames as frames_v2
from dre.crashes.grouping.defaults import DEFAULT_APP_RULES
from dre.crashes.grouping.model import (
    RUNTIME_FUNCTIONS,
    Component,
    Config,
    GroupingResult,
    Rules,
    crashed_frames,
)
from symbolicator.reasons import reason_name


def group(trace: dict, config_id: str | None = None, rules: Rules | None = None) -> GroupingResult:
    """Fingerprint a stored trace (symbolicator.Trace.to_dict() shape)."""
    config = CONFIGS[config_id or DEFAULT_CONFIG]
    rules = rules or Rules()
    if rules.max_frames:
        config = replace(config, max_frames=rules.max_frames)
    reason = (config.reason and config.reason(trace)) or _reason(trace)
    components = [Component("reason", reason, contributes=True)]
    components += config.frames(trace, config, rules)
    contributing = [f"{c.kind}:{c.value}" for c in components if c.contributes]
    digest = hashlib.sha256("\n".join([config.id, *contributing]).encode()).hexdigest()
    return GroupingResult(config.id, digest, components)


def _reason(trace: dict) -> str:
    fault = trace.get("fault") or {}
    if fault.get("kind") in ("fault", "stack_overflow", "assert", "watchdog"):
        parts = [fault["kind"], fault.get("exception"), fault.get("cause")]
        return " ".join(p for p in parts if p)
    return reason_name(trace.get("trace_reason"))


def _fault_path_reason(trace: dict) -> str | None:
    path = (trace.get("fault") or {}).get("fault_path")
    if not path:
        return None
    reason = path.get("first_reason_name") or reason_name(trace.get("trace_reason"))
    thread = path.get("first_thread")
    return f"fault_path {reason}" + (f" thread {thread}" if thread else "")


# -- dre:2026-11-23 --------------------------------------------------------------------


def _frames_2026_11_23(trace: dict, config: Config, rules: Rules) -> list[Component]:
    components: list[Component] = []
    taken, previous = 0, None
    for frame in crashed_frames(trace):
        name = frame.get("function")
        hint = _ignored_because(frame, name, previous, taken, config) or _by_rule(
            frame, name, rules
        )
        components.append(Component("function", name or f"0x{frame['pc']:08x}", not hint, hint))
        if not hint:
            taken += 1
        previous = name or previous
    return components


def _ignored_because(frame, name, previous, taken, config) -> str:
    if frame.get("kind") == "exception":
        return "ignored: exception frame"
    if not name:
        return "ignored: no function name"
    if RUNTIME_FUNCTIONS.match(name):
        return "ignored: C runtime function"
    if name == previous:
        return "ignored: recursion"
    if taken >= config.max_frames:
        return f"ignored: beyond the top {config.max_frames} frames"
    return ""


def _by_rule(frame: dict, name: str | None, rules: Rules) -> str:
    # This config knew only not-in-app rules, and reported the first that matched.
    if name is None:
        return ""
    file = (frame.get("location") or {}).get("file") or ""
    for rule in rules.not_in_app:
        if not rule.in_app and rule.matches(name, file):
            return f"not in-app (rule {rule.text})"
    for pattern in rules.ignore_functions:
        if fnmatchcase(name, pattern):
            return f"ignored by rule {pattern}"
    return ""


CONFIGS = {
    "dre:2026-11-23": Config(id="dre:2026-11-23", frames=_frames_2026_11_23),
    "dre:2026-12-04": Config(
        id="dre:2026-12-04",
        frames=frames_v2.components,
        default_rules=DEFAULT_APP_RULES,
        reason=_fault_path_reason,
    ),
}
DEFAULT_CONFIG = "dre:2026-12-04"
# The config before DEFAULT_CONFIG: its fingerprint, the secondary hash, finds the issues
# traces went to before the upgrade.
SECONDARY_CONFIG = "dre:2026-11-23"
