"""The trace page's JSON: variables and their children, registers, disassembly, memory,
regions and globals; scoped like the pages."""

import json

import pytest

from dre import blobs
from dre.symbols.cache import symbol_index_cache_clear

pytestmark = pytest.mark.django_db


@pytest.fixture
def get(client, bob, trace):
    client.force_login(bob)

    def fetch(suffix, status=200, of=trace):
        response = client.get(f"/acme/sensors/traces/{of.pk}/{suffix}")
        assert response.status_code == status, response.content
        return response.json()

    return fetch


def children(get, node, offset=0):
    query = f"root={json.dumps(node['root'])}&path={'.'.join(map(str, node['path']))}"
    return get(f"variables/children.json?{query}&offset={offset}")


def test_a_frames_arguments_and_locals_come_one_level_deep(get):
    found = get("threads/0/frames/3/variables.json")

    assert [(v["name"], v["type"]) for v in found["arguments"]] == [
        ("reading", "const struct sensor_reading *"),
        ("counter", "uint32_t *"),
    ]
    assert [v["name"] for v in found["locals"]] == ["slot", "kind"]
    assert found["arguments"][0]["expandable"]
    assert found["locals"][1]["text"] == "RECORD_KIND_EVENT"


def test_pointers_into_captured_memory_link_there_and_null_does_not(get):
    found = get("threads/0/frames/3/variables.json")
    counter, slot = found["arguments"][1], found["locals"][0]

    assert counter["points_to"] == 0x20000168
    assert slot["text"].startswith("0x0 ")
    assert slot["points_to"] is None
    assert slot["at"] == slot["address"]


def test_children_expand_a_struct_through_its_pointer(get):
    local = get("threads/0/frames/4/variables.json")["locals"][0]
    members = children(get, local)["children"]

    assert local["name"] == "reading"
    assert [(m["name"], m["text"]) for m in members][:2] == [("sensor_id", "5"), ("raw", "-42")]


def test_arrays_expand_a_page_at_a_time(get):
    stack = next(
        g for g in get("globals.json?q=s_main_stack")["globals"] if g["name"] == "s_main_stack"
    )
    first = children(get, stack)
    second = children(get, stack, offset=first["more"])

    assert stack["type"] == "uint32_t [512]"
    assert len(first["children"]) == 100
    assert first["more"] == 100
    assert second["children"][0]["name"] == "[100]"


def test_a_bad_variable_root_is_a_json_error(get):
    error = get('variables/children.json?root={"thread":0}&path=', status=404)

    assert "thread, frame and position" in error["error"]
    assert "error" in get("variables/children.json?root=nope", status=404)


def test_registers_come_in_gdb_order_with_how_each_is_known(get):
    first = get("threads/0/frames/0/registers.json")["registers"]
    caller = {r["name"]: r for r in get("threads/0/frames/1/registers.json")["registers"]}

    assert [r["name"] for r in first] == [f"r{n}" for n in range(13)] + [
        "sp", "lr", "pc", "xpsr", "msp", "psp",
    ]  # fmt: skip
    assert {r["how"] for r in first} == {"context"}
    assert caller["pc"]["how"] == "recovered"
    assert caller["sp"]["how"] == "recovered"
    assert caller["r4"]["how"] == "carried"
    assert caller["sp"]["points_to"] == caller["sp"]["value"]  # the stack was captured


def test_registers_the_unwinder_lost_are_unknown(get, trace):
    from dre.crashes.models import Trace

    data = trace.data
    del data["threads"][0]["frames"][1]["registers"]["r4"]
    Trace.objects.filter(pk=trace.pk).update(data=data)

    caller = {r["name"]: r for r in get("threads/0/frames/1/registers.json")["registers"]}

    assert caller["r4"] == {"name": "r4", "value": None, "how": "unknown", "points_to": None}


def test_fpu_registers_follow_on_a_cortex_m4f(client, bob, project, run_on_commit):
    from tests.dre.conftest import send_coredump, store_elf

    run_on_commit(store_elf, project, "an386-O2")
    coredump = run_on_commit(send_coredump, project, "an386-O2", "fpu_fault")
    coredump.refresh_from_db()
    client.force_login(bob)

    answer = client.get(
        f"/acme/sensors/traces/{coredump.trace.pk}/threads/1/frames/0/registers.json"
    ).json()
    names = [r["name"] for r in answer["registers"]]

    assert names[19:21] == ["s0", "s1"]
    assert "fpscr" in names


def test_disassembly_marks_the_pc_the_source_lines_and_branch_targets(get):
    crashing = get("threads/0/frames/0/disassembly.json")["instructions"]
    caller = get("threads/0/frames/1/disassembly.json")["instructions"]

    at_pc = next(i for i in crashing if i["is_pc"])
    assert (at_pc["mnemonic"], at_pc["operands"]) == ("str", "r2, [r3]")
    assert "src/storage.c:26" in [i["source"] for i in crashing]
    assert "<record_word_store>" in [i["target_name"] for i in caller]


def test_an_exception_frame_has_no_disassembly(client, bob, irq_trace):
    client.force_login(bob)

    answer = client.get(
        f"/acme/sensors/traces/{irq_trace.pk}/threads/0/frames/3/disassembly.json"
    ).json()

    assert answer["instructions"] == []
    assert "exception frame" in answer["note"]


def test_memory_jumps_to_symbols_and_marks_what_was_not_captured(get):
    found = get("memory.json?at=g_records_written")
    outside = get("memory.json?at=0x30000000&length=16")

    assert found["address"] == 0x20000168
    assert found["rows"][0]["address"] == 0x20000160
    assert len(found["rows"]) == 16
    assert set(found["rows"][0]["sources"]) == {"coredump"}
    assert outside["rows"][0]["bytes"] == [None] * 16
    assert get("memory.json?at=no_such_symbol", status=404)["error"].startswith("'no_such")


def test_regions_list_the_dump_and_the_elf(get):
    regions = get("regions.json")["regions"]

    assert {"start": 0x20000000, "end": 0x20001E04, "source": "coredump"}.items() <= next(
        r for r in regions if r["start"] == 0x20000000
    ).items()
    assert any(r["source"] == "elf" for r in regions)


def test_globals_are_searchable_by_name(get):
    found = get("globals.json?q=SCHEDULER")

    assert [g["name"] for g in found["globals"]] == ["g_dre_scheduler"]
    assert found["globals"][0]["expandable"]
    assert found["globals"][0]["root"] == {"global": "g_dre_scheduler", "unit": "src/scheduler.c"}
    assert get("globals.json?q=")["total"] > 20


def test_a_frame_that_does_not_exist_is_a_json_error(get):
    assert "no frame" in get("threads/0/frames/99/registers.json", status=404)["error"]
    assert "no frame" in get("threads/9/frames/0/variables.json", status=404)["error"]


def test_a_trace_whose_symbols_are_gone_is_a_json_error(get, trace):
    symbol_file = trace.coredump.symbol_file
    blobs.blob_delete(symbol_file.index_blob)
    blobs.blob_delete(symbol_file.blob)
    symbol_index_cache_clear()

    assert "its symbols cannot be read" in get("regions.json", status=404)["error"]


def test_victor_the_viewer_may_inspect(client, victor, trace):
    client.force_login(victor)

    response = client.get(f"/acme/sensors/traces/{trace.pk}/threads/0/frames/0/registers.json")

    assert response.status_code == 200


ENDPOINTS = [
    "threads/0/frames/0/variables.json",
    "threads/0/frames/0/registers.json",
    "threads/0/frames/0/disassembly.json",
    'variables/children.json?root={"global":"g_dre_scheduler"}&path=',
    "memory.json?at=0x20000000",
    "regions.json",
    "globals.json?q=g",
]


@pytest.mark.parametrize("suffix", ENDPOINTS)
def test_charlie_and_strangers_get_nothing(client, charlie, globex, trace, suffix):
    anonymous = client.get(f"/acme/sensors/traces/{trace.pk}/{suffix}")
    client.force_login(charlie)
    response = client.get(f"/acme/sensors/traces/{trace.pk}/{suffix}")

    assert anonymous.status_code == 302
    assert response.status_code == 404
    assert b"g_dre_scheduler" not in response.content
