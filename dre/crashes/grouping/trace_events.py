"""Grouping of trace events: reason + code location (+ status code), pure and versioned.

A trace event (MEMFAULT_TRACE_EVENT*) has no stack, only the PC and LR where the firmware
recorded it. Two occurrences are the same problem when the firmware gave the same reason
at the same place; a status code, where the call site sends one, tells apart failures
that share a place (MEMFAULT_TRACE_EVENT_WITH_STATUS). Every component carries a hint.

Config changelog:
- trace-event:2026-12-05: reason name, function of the PC (else of the LR, else the
  raw address), status code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dre.crashes.grouping.model import Component, GroupingResult

CONFIG = "trace-event:2026-12-05"


@dataclass(frozen=True)
class TraceEventFacts:
    """What grouping sees of a trace event: names, not addresses, wherever there is one."""

    reason: int
    reason_name: str = ""
    pc_function: str | None = None
    lr_function: str | None = None
    pc: int | None = None
    lr: int | None = None
    status_code: int | None = None


def group_trace_event(facts: TraceEventFacts) -> GroupingResult:
    components = [_reason(facts), *_location(facts), _status(facts)]
    contributing = [f"{c.kind}:{c.value}" for c in components if c.contributes]
    digest = hashlib.sha256("\n".join([CONFIG, *contributing]).encode()).hexdigest()
    return GroupingResult(CONFIG, digest[:32], components)


def _reason(facts: TraceEventFacts) -> Component:
    if facts.reason_name:
        return Component("reason", facts.reason_name, True, "user trace reason from the ELF")
    return Component("reason", f"reason {facts.reason}", True, "the ELF does not name it")


def _location(facts: TraceEventFacts) -> list[Component]:
    pc = Component("function", facts.pc_function or "", bool(facts.pc_function), "")
    lr = Component("function", facts.lr_function or "", False, "")
    if facts.pc_function:
        pc.hint = "where the trace event was recorded (PC)"
        lr.hint = "ignored: the PC names the place" if facts.lr_function else ""
        return [c for c in (pc, lr) if c.value]
    if facts.lr_function:
        lr.contributes, lr.hint = True, "the caller (LR): the PC has no symbol"
        return [lr]
    address = facts.pc if facts.pc is not None else facts.lr
    if address is None:
        return [Component("address", "none", False, "ignored: the event has no PC or LR")]
    return [Component("address", f"0x{address:08x}", True, "no symbol for the address")]


def _status(facts: TraceEventFacts) -> Component:
    if facts.status_code is None:
        return Component("status_code", "none", False, "ignored: no status code sent")
    return Component("status_code", str(facts.status_code), True, "status code of the call site")


def trace_event_title(facts: TraceEventFacts, result: GroupingResult) -> str:
    reason = facts.reason_name or f"reason {facts.reason}"
    where = result.title_function
    status = f" (status {facts.status_code})" if facts.status_code is not None else ""
    return f"Trace event {reason}{status}" + (f" in {where}" if where else "")
