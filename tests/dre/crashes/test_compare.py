"""Two traces of one issue compared: threads paired by name, frames by position, and
only the values that differ."""

from dre.crashes.compare import globals_diff, trace_diff


def frame(function, line=1, **variables):
    return {
        "function": function,
        "kind": "normal",
        "location": {"file": "src/app.c", "line": line},
        "arguments": [],
        "locals": [{"name": k, "text": v} for k, v in variables.items()],
    }


def trace(*threads):
    return {"threads": [dict(t) for t in threads]}


def thread(name, *frames, state="running", in_use=100):
    return {"name": name, "state": state, "stack": {"in_use": in_use}, "frames": list(frames)}


def test_it_pairs_threads_by_name_and_marks_frames_that_differ():
    a = trace(thread("main", frame("store", 10), frame("main_thread", 5)), thread("logger"))
    b = trace(thread("main", frame("store", 12), frame("main_thread", 5)), thread("rx"))

    diff = trace_diff(a, b)

    assert [t.name for t in diff.threads] == ["main", "logger", "rx"]
    main = diff.threads[0]
    assert [(f.a, f.b, f.differs) for f in main.frames] == [
        ("store src/app.c:10", "store src/app.c:12", True),
        ("main_thread src/app.c:5", "main_thread src/app.c:5", False),
    ]
    assert diff.threads[1].state == ("running", None)


def test_it_lists_only_the_locals_that_differ_in_frames_of_the_same_function():
    a = trace(thread("main", frame("store", count="3", slot="0x0"), frame("run", n="1")))
    b = trace(thread("main", frame("store", count="4", slot="0x0"), frame("other", n="2")))

    diff = trace_diff(a, b)

    assert [(v.where, v.name, v.a, v.b) for v in diff.variables] == [
        ("main #0 store", "count", "3", "4")
    ]


def test_it_lists_globals_whose_printed_values_differ_or_exist_in_one_trace_only():
    a = [
        {"name": "g_count", "file": "a.c", "text": "1"},
        {"name": "s_x", "file": "a.c", "text": "0"},
    ]
    b = [
        {"name": "g_count", "file": "a.c", "text": "2"},
        {"name": "s_x", "file": "a.c", "text": "0"},
    ]
    b.append({"name": "s_new", "file": "b.c", "text": "7"})

    found = globals_diff(a, b)

    assert [(v.name, v.a, v.b) for v in found] == [("g_count", "1", "2"), ("s_new", None, "7")]
