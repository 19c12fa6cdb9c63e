"""The trace's analyses beyond the backtrace, on the diag firmware's crashes
(tests/firmware/diag/diag.c): stack use per thread, a fault inside the fault handler,
the MPU region table and the interrupts. Each is checked against what the dump's
registers and memory hold, the GDB reference the harness recorded, and gdb-multiarch
reading the same memory from the exported ELF core.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import pytest

import symbolicator
from symbolicator.export.elf_core import elf_core
from symbolicator.faults import Context
from symbolicator.faults.fault_path import detect_fault_path
from symbolicator.mpu import analyze_mpu, check_access
from symbolicator.rtos.stack_usage import stack_usage
from symbolicator.trace import Frame, FrameKind
from tests.firmware_fixtures import FIXTURES
from tests.symbolicator.gdb_reference import dre_trace, index_for, reference

DIAG = FIXTURES / "diag-an385-O0"
STACK_OVERFLOW_REASON = 0x800B
TRACE_REASON_BLOCK = 5


@cache
def trace(scenario: str) -> symbolicator.Trace:
    return dre_trace(DIAG / scenario)


def gdb_thread(scenario: str, name: str) -> dict:
    return next(t for t in reference(DIAG / scenario)["threads"] if t["name"] == name)


def thread(scenario: str, name: str) -> symbolicator.Thread:
    return next(t for t in trace(scenario).threads if t.name == name)


@cache
def gdb_reads(gdb: str, scenario: str, *expressions: str) -> list[str]:
    """GDB's answer to each expression, on the ELF core dre exports from the dump."""
    coredump = symbolicator.parse_coredump((DIAG / scenario / "coredump.bin").read_bytes())
    commands = []
    for expression in expressions:
        commands += ["-ex", expression]
    with tempfile.TemporaryDirectory() as tmp:
        core = Path(tmp) / "core"
        core.write_bytes(elf_core(coredump, index_for(DIAG.name)))
        result = subprocess.run(
            [gdb, "-nx", "-batch", "-iex", "set debuginfod enabled off", *commands,
             DIAG / "firmware.elf", core],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
    return [line for line in result.stdout.splitlines() if re.match(r"^(\$\d+ =|0x)", line)]


def gdb_word(line: str) -> int:
    """`0xe000e200:\t0x000000a8` or `$1 = 0x200000a0` -> the value."""
    return int(line.split()[-1], 16)


# Stack use ------------------------------------------------------------------------------


def test_it_counts_the_stack_in_use_from_the_sp_and_the_stack_top():
    main = thread("deep_stack", "main")
    gdb = gdb_thread("deep_stack", "main")
    top = int(gdb["stack_base"], 16) + gdb["stack_size"]
    sp = int(gdb["frames"][0]["registers"]["sp"], 16)

    assert main.stack["in_use"] == top - sp == 1960
    assert main.stack["in_use_percent"] == 96


def test_it_takes_the_high_water_mark_from_the_fill_pattern_when_it_was_captured():
    for name in ("main", "sensor", "comms", "logger"):
        gdb = gdb_thread("deep_stack", name)

        stack = thread("deep_stack", name).stack

        assert stack["high_water_status"] == "captured"
        assert stack["high_water"] == gdb["stack_size"] - gdb["stack_unused_bytes"]


def test_it_warns_when_more_than_90_percent_of_a_stack_is_in_use():
    assert thread("deep_stack", "main").stack["warnings"] == [
        "96 % of the stack in use at the crash (over 90 %)"
    ]
    assert thread("deep_stack", "sensor").stack["warnings"] == []


def test_it_says_not_captured_where_a_port_kept_only_the_top_of_each_stack():
    scenario = FIXTURES / "freertos-an385-O0" / "task_fault"
    coredump = symbolicator.parse_coredump((scenario / "coredump-freertos-port.bin").read_bytes())
    port = symbolicator.symbolicate(coredump, index_for("freertos-an385-O0"), variables=False)
    full = dre_trace(scenario)

    for partial, whole in zip(port.threads, full.threads, strict=True):
        assert partial.stack["high_water_status"] == "not_captured"
        assert "high_water" not in partial.stack
        assert partial.stack["in_use"] == whole.stack["in_use"] > 0
        assert whole.stack["high_water_status"] == "captured"


def test_it_reads_the_issues_example_as_96_percent_in_use():
    top, size = 0x200043B4, 1996

    stack = stack_usage({"base": top - size, "size": size}, 0x20003C38)

    assert (stack["in_use"], stack["in_use_percent"]) == (1916, 96)
    assert stack["high_water_status"] == "not_captured"
    assert len(stack["warnings"]) == 1


def test_it_warns_when_the_sp_is_outside_its_stack():
    stack = stack_usage({"base": 0x20001000, "size": 0x400}, 0x20000FF0)

    assert "in_use" not in stack
    assert stack["warnings"] == [
        "SP 0x20000ff0 is outside its stack (0x20001000-0x20001400), below its base"
    ]


# A fault inside the fault handler --------------------------------------------------------


def test_it_recognizes_a_fault_taken_while_the_fault_handler_runs():
    fault = trace("handler_fault").fault

    path = fault["fault_path"]
    assert path["evidence"] == ["interrupted_fault_handler", "fault_path_frames"]
    assert path["interrupted_handler"] == "MemManage"
    assert fault["exception"] == "HardFault"
    assert fault["escalated_from"] == "MemManage"
    assert fault["place"]["function"] == "memcpy"


def test_it_keeps_the_recorded_reason_and_thread_of_the_first_fault():
    path = trace("handler_fault").fault["fault_path"]

    assert (path["first_reason"], path["first_reason_name"]) == (0x9200, "MemManage")
    assert path["first_thread"] == "main"


def test_the_first_faults_frames_are_what_gdb_showed_at_the_first_fault():
    """The harness stopped GDB at the first fault (fault_snapshot_taken's first hit)."""
    crashed = trace("handler_fault").crashed_thread
    first = trace("handler_fault").fault["fault_path"]["first_frame"]
    gdb = gdb_thread("handler_fault", "main")["frames"]

    ours = [(f.pc, f.function) for f in crashed.frames[first:]]

    assert ours == [(int(f["pc"], 16), f["function"]) for f in gdb]


def test_it_says_plainly_whose_registers_these_are():
    built = trace("handler_fault")

    assert built.title == "MemManage in thread main, then a fault in the fault handler"
    assert built.summary.startswith(
        "A second fault inside the fault handler (__wrap_fault_handler_c): the registers are "
        "those of the second fault, not of the crash."
    )
    assert built.summary.endswith(
        "its context, unwound through the handler's exception frame: "
        "scenario_handler_fault() at diag/diag.c:176."
    )


def test_it_does_not_call_a_second_fault_a_main_stack_overflow():
    """The SDK's FreeRTOS example: the reason says StackOverflow, the registers are a
    memcpy in the coredump saver on MSP. The same dump, with that reason."""
    data = bytearray((DIAG / "handler_fault" / "coredump.bin").read_bytes())
    at = _block_payload(data, TRACE_REASON_BLOCK)
    data[at : at + 4] = STACK_OVERFLOW_REASON.to_bytes(4, "little")
    coredump = symbolicator.parse_coredump(bytes(data))

    built = symbolicator.symbolicate(coredump, index_for(DIAG.name), variables=False)

    overflow = built.fault["stack_overflow"]
    assert overflow["thread"] == "main"
    assert overflow["evidence"] == ["trace_reason"]
    assert built.title == "Stack overflow in thread main, then a fault in the fault handler"
    assert "main stack (MSP)" not in built.summary
    assert "The first fault: Stack overflow (recorded reason StackOverflow, 0x800B)" in (
        built.summary
    )


def _block_payload(data: bytearray, block_type: int) -> int:
    offset = 12
    while data[offset : offset + 4] != b"DUMP":
        size = int.from_bytes(data[offset + 8 : offset + 12], "little")
        if data[offset] == block_type:
            return offset + 12
        offset += 12 + size
    raise AssertionError(f"no block of type {block_type}")


def test_it_says_the_first_context_is_lost_when_unwinding_stops_in_the_handler():
    frames = [Frame(0x1000, function="memcpy"), Frame(0x2000, function="memfault_coredump_save")]
    context = Context("handler", 2, "NMI", thread="app")

    path = detect_fault_path(context, frames, STACK_OVERFLOW_REASON)

    assert path.first_context == "lost"
    assert path.first_frame is None
    assert path.functions == ["memfault_coredump_save"]
    assert path.first_thread == "app"


def test_a_fault_in_an_interrupt_handler_is_not_a_fault_in_the_fault_path():
    frames = [Frame(0x1000, function="isr_work"), Frame(0, kind=FrameKind.EXCEPTION)]

    assert detect_fault_path(Context("handler", 25, "IRQ 9"), frames, 0x9200) is None
    assert trace("irq_pending").fault["fault_path"] is None


# MPU -------------------------------------------------------------------------------------


def test_it_decodes_every_mpu_region_the_firmware_programmed():
    mpu = trace("mpu_fault").mpu
    config = index_for(DIAG.name).symbol_named("g_diag_config").address

    assert (mpu["arch"], mpu["implemented"], mpu["enabled"], mpu["privdefena"]) == (
        "armv7-m", 8, True, True,
    )  # fmt: skip
    rows = {r["number"]: r for r in mpu["regions"]}
    assert (rows[0]["base"], rows[0]["size"], rows[0]["privileged"], rows[0]["xn"]) == (
        0, 1024, "none", True,
    )  # fmt: skip
    assert (rows[5]["size"], rows[5]["subregions_disabled"], rows[5]["xn"]) == (65536, [0], False)
    assert rows[5]["memory_type"] == "normal, write-through, no write allocate, not shareable"
    assert (rows[6]["base"], rows[6]["size"]) == (config, 32)
    assert (rows[6]["privileged"], rows[6]["unprivileged"]) == ("RO", "none")
    assert (rows[6]["tex"], rows[6]["c"], rows[6]["b"], rows[6]["s"]) == (1, True, True, True)
    assert (rows[7]["base"], rows[7]["memory_type"]) == (0x40004000, "device, shareable")


def test_it_names_the_region_that_refused_the_access_and_why():
    fault = trace("mpu_fault").mpu["fault"]

    assert (fault["decided_by"], fault["access"]) == ("region 6", "write")
    assert fault["privileged"] == "refused: read-only (AP)"
    assert "Write access is refused to all code" in fault["explanation"]


def test_a_disabled_subregion_hands_the_address_to_a_lower_region():
    fault = trace("irq_pending").mpu["fault"]

    assert fault["decided_by"] == "region 0"
    assert fault["skipped"] == ["region 5: subregion 0 is disabled"]


def test_an_address_in_no_region_falls_to_the_background_map():
    mpu = analyze_mpu(trace_mpu_registers("mpu_fault"))

    result = check_access(mpu, 0x20000800, "write")

    assert result.decided_by == "background map"
    assert result.privileged.startswith("allowed")
    assert result.unprivileged.startswith("refused")


def test_hardfault_bypasses_the_mpu_without_hfnmiena():
    mpu = analyze_mpu(trace_mpu_registers("mpu_fault"))

    assert check_access(mpu, 0x200000A0, "write", handler="HardFault").decided_by == (
        "MPU disabled"
    )


def test_it_decodes_the_armv8m_layout():
    """RBAR BASE|SH|AP|XN and RLAR LIMIT|AttrIndx|EN (Armv8-M ARM, MPU_RBAR/MPU_RLAR)."""
    registers = {
        "type": 0x800,
        "ctrl": 5,
        "regions": [
            {"rbar": 0x20000000 | 3 << 3 | 2 << 1 | 1, "rlar": 0x200003E0 | 1 << 1 | 1},
            {"rbar": 0x08000000 | 3 << 1, "rlar": 0x0807FFE0 | 1},
        ],
    }
    registers["regions"] = [{"rbar": r["rbar"], "rasr": r["rlar"]} for r in registers["regions"]]

    mpu = analyze_mpu(registers)

    first, second = mpu.regions
    assert mpu.arch == "armv8-m"
    assert (first.base, first.size, first.privileged, first.unprivileged, first.xn) == (
        0x20000000, 0x400, "RO", "none", True,
    )  # fmt: skip
    assert first.memory_type == "MAIR attribute 1, inner shareable"
    assert (second.base, second.limit, second.privileged) == (0x08000000, 0x0807FFFF, "RO")
    assert check_access(mpu, 0x20000010, "write").privileged == "refused: read-only (AP)"


def trace_mpu_registers(scenario: str) -> dict:
    coredump = symbolicator.parse_coredump((DIAG / scenario / "coredump.bin").read_bytes())
    return coredump.extra["mpu"]


def test_the_mpu_base_of_region_6_is_where_gdb_finds_g_diag_config(gdb):
    (address,) = gdb_reads(gdb, "mpu_fault", "p/x &g_diag_config")

    assert gdb_word(address) == trace("mpu_fault").mpu["fault"]["address"]


# Interrupts ------------------------------------------------------------------------------


def interrupts(scenario: str) -> dict[str, dict]:
    return {i["name"]: i for i in trace(scenario).interrupts["interrupts"]}


def test_it_lists_enabled_pending_and_active_interrupts_with_priorities_and_handlers():
    found = interrupts("irq_pending")

    assert {name: (i["enabled"], i["pending"], i["active"], i["priority"], i["handler"])
            for name, i in found.items() if name.startswith("IRQ")} == {
        "IRQ 3": (True, True, False, 0xC0, "Default_Handler"),
        "IRQ 5": (True, True, False, 0xC0, "Default_Handler"),
        "IRQ 7": (False, True, False, 0x00, "Default_Handler"),
        "IRQ 9": (True, False, True, 0x80, "Timer1_IRQHandler"),
    }  # fmt: skip
    assert found["MemManage"]["active"]
    assert found["SysTick"]["pending"]


def test_it_names_the_active_exception_and_the_interrupt_the_fault_hit():
    irq = trace("irq_pending").interrupts

    assert (irq["active_exception"], irq["pending_exception"]) == ("MemManage", "IRQ 3")
    assert irq["in_interrupt"] is True
    assert irq["interrupted"] == "IRQ 9 (Timer1_IRQHandler)"
    assert trace("mpu_fault").interrupts["in_interrupt"] is False


def test_the_nvic_words_are_what_gdb_reads_from_the_same_memory(gdb):
    enabled, pending, active, priorities = gdb_reads(
        gdb, "irq_pending", "x/wx 0xE000E100", "x/wx 0xE000E200", "x/wx 0xE000E300",
        "x/3wx 0xE000E400",
    )  # fmt: skip
    found = interrupts("irq_pending")

    def mask(key):
        return sum(1 << (i["number"] - 16) for i in found.values() if i["number"] >= 16 and i[key])

    assert (mask("enabled"), mask("pending"), mask("active")) == (
        gdb_word(enabled), gdb_word(pending), gdb_word(active),
    )  # fmt: skip
    words = [int(w, 16) for w in priorities.split()[1:]]
    assert found["IRQ 3"]["priority"] == words[0] >> 24  # one byte per IRQ, little-endian
    assert found["IRQ 5"]["priority"] == words[1] >> 8 & 0xFF
    assert found["IRQ 9"]["priority"] == words[2] >> 8 & 0xFF


def test_the_vector_table_names_the_handlers_gdb_names(gdb):
    (vector,) = gdb_reads(gdb, "irq_pending", "p/x g_vector_table[16 + 9]")
    handler = index_for(DIAG.name).symbol_at(gdb_word(vector) & ~1)

    assert handler == ("Timer1_IRQHandler", 0)


@pytest.mark.parametrize("scenario", ["mpu_fault", "irq_pending", "deep_stack"])
def test_the_diag_crashes_unwind_like_gdb(scenario):
    """Frame by frame, every thread, as the agreement tests do for the other builds."""
    for ours, gdb in zip(
        trace(scenario).threads, reference(DIAG / scenario)["threads"], strict=True
    ):
        expected = [(int(f["pc"], 16), f["function"]) for f in gdb["frames"]]
        assert [(f.pc, f.function) for f in ours.frames] == expected, ours.name


# Heap ------------------------------------------------------------------------------------


def heap(scenario: str = "heap_fault") -> dict:
    return trace(scenario).heap


def test_it_walks_the_heap_4_free_list_to_pxend():
    free = heap()["freertos"]

    assert (free["status"], free["scheme"]) == ("walked", "heap_4")
    assert [b["size"] for b in free["free_blocks"]] == [112, 208, 552]  # 100 and 200 B freed
    assert (free["free_bytes"], free["largest_free"], free["fragmentation_percent"]) == (
        872, 552, 37,
    )  # fmt: skip
    assert free["free_bytes_remaining"] == free["free_bytes"]  # the kernel's own count


def test_the_free_list_is_what_gdb_reads_from_the_same_memory(gdb):
    first, end = gdb_reads(gdb, "heap_fault", "p/x xStart.pxNextFreeBlock", "p/x pxEnd")
    free = heap()["freertos"]["free_blocks"]
    walked = gdb_reads(gdb, "heap_fault", *(f"p/x *(BlockLink_t *){b['address']}" for b in free))

    assert gdb_word(first) == free[0]["address"]
    nexts = [int(re.search(r"pxNextFreeBlock = (0x[0-9a-f]+)", w).group(1), 16) for w in walked]
    assert nexts == [b["address"] for b in free[1:]] + [gdb_word(end)]


def test_heap_4_blocks_tile_the_heap_allocated_and_free():
    free = heap()["freertos"]
    blocks = sorted(free["free_blocks"] + free["allocated_blocks"], key=lambda b: b["address"])

    for block, after in itertools.pairwise(blocks):
        assert block["address"] + block["size"] == after["address"]
    assert [b["size"] for b in free["allocated_blocks"]] == [32, 80, 24]


def test_it_lists_the_sdk_pools_allocations_newest_first_with_their_callers():
    sdk = heap()["sdk"]

    assert (sdk["in_use_blocks"], sdk["max_in_use_blocks"]) == (3, 5)
    assert [(a["size"], a["in_use"], a["function"]) for a in sdk["allocations"]] == [
        (16, True, "packet_alloc"),
        (200, False, "sample_buffer_alloc"),
        (72, True, "packet_alloc"),
        (100, False, "sample_buffer_alloc"),
        (24, True, "packet_alloc"),
    ]
    allocated = {b["address"] + 8 for b in heap()["freertos"]["allocated_blocks"]}
    assert {a["address"] for a in sdk["allocations"] if a["in_use"]} == allocated


def test_a_heap_never_used_is_said_so():
    assert heap("mpu_fault")["freertos"]["status"] == "uninitialized"


def test_the_heap_is_not_captured_where_its_memory_is_missing():
    from symbolicator.heap import analyze_heap
    from symbolicator.memory import Memory, Span

    coredump = symbolicator.parse_coredump((DIAG / "heap_fault" / "coredump.bin").read_bytes())
    index = index_for(DIAG.name)
    heap_start = index.symbol_named("ucHeap").address
    spans = [
        Span(r.address, r.data[: max(0, heap_start - r.address)] if r.address < heap_start <= r.end
             else r.data, "coredump")
        for r in coredump.regions
    ]  # fmt: skip

    found = analyze_heap(Memory(spans, index.read_only), index)

    assert found.freertos.status == "not_captured"
    assert found.sdk.status == "not_captured"
    assert found.freertos.free_blocks == []
