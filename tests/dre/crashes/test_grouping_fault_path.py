"""Grouping of a fault inside the fault handler: by the first fault's recorded reason and
thread, then its own frames, never by the handler code the second fault stopped in."""

from dre.crashes.grouping.algorithm import group


def frame(function, kind="normal"):
    return {"pc": 0x100, "function": function, "kind": kind}


HANDLER_FRAMES = [frame("memcpy"), frame("memfault_coredump_save"), frame(None, "exception")]


def trace(first_frame, frames, reason="StackOverflow", thread="app"):
    return {
        "trace_reason": 0x800B,
        "fault": {
            "kind": "stack_overflow",
            "exception": "HardFault",
            "cause": "DACCVIOL",
            "fault_path": {
                "first_reason_name": reason,
                "first_thread": thread,
                "first_frame": first_frame,
            },
        },
        "threads": [{"name": thread, "crashed": True, "frames": frames}],
    }


def test_it_groups_by_the_first_faults_reason_thread_and_frames():
    unwound = trace(3, [*HANDLER_FRAMES, frame("sensor_read"), frame("sensor_task")])

    result = group(unwound)

    contributing = [c.value for c in result.components if c.contributes]
    assert contributing == ["fault_path StackOverflow thread app", "sensor_read", "sensor_task"]


def test_when_the_first_context_is_lost_only_reason_and_thread_count():
    lost = trace(None, HANDLER_FRAMES)
    other_handler_code = trace(None, [frame("memset"), frame("prv_write_coredump_sections")])

    assert [c.value for c in group(lost).components] == ["fault_path StackOverflow thread app"]
    assert group(lost).fingerprint == group(other_handler_code).fingerprint


def test_another_thread_or_reason_is_another_issue():
    base = group(trace(None, HANDLER_FRAMES)).fingerprint

    assert group(trace(None, HANDLER_FRAMES, thread="rx")).fingerprint != base
    assert group(trace(None, HANDLER_FRAMES, reason="HardFault")).fingerprint != base
