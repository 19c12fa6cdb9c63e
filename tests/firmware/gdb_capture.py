"""GDB script: record GDB's view of one fault scenario as the reference for dre.

Run by capture.py as `gdb-multiarch --batch -nx -x gdb_capture.py ELF` with the
environment variable DRE_CAPTURE_CONFIG naming a JSON file (port of rsp_proxy.py,
scenario, output folder, globals to print). GDB talks to QEMU through rsp_proxy.py, which
adds the registers msp and psp that QEMU's gdbstub lacks.

Steps:
1. Connect, set g_scenario, stop at the first instruction of fault_snapshot_taken: the
   fault shims have stored PSP and MSP in g_fault_sp_snapshot and nothing else changed.
2. Give GDB $msp and $psp from that snapshot, then record the crashing thread: every frame
   after the handler's own frame and its <signal handler called> frame.
3. Continue to coredump_saved and dump the finished coredump.
4. For every other thread, load its saved context (g_dre_scheduler, save order in
   tests/firmware/README.md) into GDB's registers, record it, restore the registers.
5. Print the firmware's globals, write gdb.json and gdb.txt.

The RTOS variants (config "kernel": "freertos" or "zephyr") find their threads in the
kernel's own structures instead (README, "RTOS variants"): FreeRTOS's task lists from
pxCurrentTCB and tasks.c's statics, Zephyr's _kernel.threads list; each switched-out thread
is loaded the way its kernel saved it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import struct
import tempfile

import gdb

FRAME_TYPES = {
    gdb.NORMAL_FRAME: "NORMAL",
    gdb.DUMMY_FRAME: "DUMMY",
    gdb.INLINE_FRAME: "INLINE",
    gdb.TAILCALL_FRAME: "TAILCALL",
    gdb.SIGTRAMP_FRAME: "SIGTRAMP",
    gdb.ARCH_FRAME: "ARCH",
    gdb.SENTINEL_FRAME: "SENTINEL",
}
THREAD_STATES = {0: "UNUSED", 1: "READY", 2: "RUNNING", 3: "SLEEPING", 4: "BLOCKED", 5: "EXITED"}
GDB_SETTINGS = [
    "set pagination off",
    "set height 0",
    "set width 0",
    "set confirm off",
    "set style enabled off",
]
# RTOS variants only: loading a task's registers one by one passes through mixed states (pc
# still in the handler, lr already in the task) whose unwinding can loop without end; GDB's
# get_prev_frame honours this limit everywhere, also while it re-finds the selected frame.
KERNEL_GDB_SETTINGS = ["set backtrace limit 64"]
EXC_RETURN_FTYPE = 1 << 4  # 0 = extended (FPU) frame
XPSR_STACK_ALIGN = 1 << 9
BASIC_FRAME_SIZE = 0x20
EXTENDED_FRAME_SIZE = 0x68
HARDWARE_FRAME_REGISTERS = ["r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr"]
CORE_REGISTERS = [f"r{n}" for n in range(13)] + ["sp", "lr", "pc", "xpsr", "msp", "psp"]
FPU_REGISTERS = [f"d{n}" for n in range(16)] + ["fpscr"]
COREDUMP_HEADER_SIZE = 12
STACK_FILL = b"\xa5"  # DRE_STACK_FILL_BYTE
FRAME_AT = re.compile(r"frame at (0x[0-9a-f]+)")
PREVIOUS_SP = re.compile(r"Previous frame's sp is (0x[0-9a-f]+)")
HISTORY_PREFIX = re.compile(r"^\$\d+ = ", re.MULTILINE)
FLOAT_REGISTER = re.compile(r"s\d+")
RAW_VALUE = re.compile(r"\(raw (0x[0-9a-f]+)\)")


def hex32(value: int) -> str:
    return f"0x{value & 0xFFFFFFFF:08x}"


def run(command: str) -> str:
    """GDB's output of a command as a terminal shows it, error message included."""
    try:
        return gdb.execute(command, to_string=True)
    except gdb.error as error:
        # to_string drops what the command printed before failing ("info frame" of the
        # outermost frame prints most of its text, then "Register 14 was not saved"), so
        # run it again with GDB's log redirected to a file.
        return run_logged(command) + f"{error}\n"


def run_logged(command: str) -> str:
    # The logging settings must not run under to_string: that output redirection would
    # swallow the log redirection along with it.
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "gdb.log")
        for setting in ("file " + path, "overwrite on", "redirect on", "enabled on"):
            gdb.execute("set logging " + setting)
        try:
            gdb.execute(command)
        except gdb.error:
            pass
        finally:
            gdb.execute("set logging enabled off")
        with open(path, encoding="utf-8") as handle:
            return handle.read()


def parse_registers(text: str) -> dict[str, str]:
    """`info registers` lines -> name: raw value (hex), or GDB's marker such as
    <not saved>. Float registers print their raw bits as "(raw 0x...)"."""
    registers = {}
    for line in text.splitlines():
        parts = line.split(None, 1)
        if len(parts) != 2:
            continue
        name, rest = parts
        raw = RAW_VALUE.search(rest)
        if raw:
            registers[name] = raw.group(1)
        elif rest.startswith("<"):
            registers[name] = rest[: rest.index(">") + 1]
        else:
            registers[name] = rest.split()[0]
    return registers


def read_words(address: int, count: int) -> tuple[int, ...]:
    data = gdb.selected_inferior().read_memory(address, 4 * count).tobytes()
    return struct.unpack(f"<{count}I", data)


# Frames -----------------------------------------------------------------------------------


def frame_location(frame: gdb.Frame) -> dict:
    """Function, file and line as GDB shows them (find_sal: pc - 1 for callers)."""
    sal = frame.find_sal()
    return {
        "function": frame.name(),
        "file": sal.symtab.filename if sal.symtab else None,
        "line": sal.line or None,
    }


def frame_registers(has_fpu: bool) -> dict:
    """`info registers` (r0-r12, sp, lr, pc, xpsr and, from rsp_proxy, msp and psp), plus
    `info registers float` (d0-d15, fpscr, s0-s31) on the FPU board."""
    general = run("info registers")
    registers = parse_registers(general)
    record = {"registers_text": general}
    if has_fpu:
        floats = run("info registers float")
        registers.update(parse_registers(floats))
        record["float_registers_text"] = floats
    record["registers"] = registers
    return record


def describe_frame(frame: gdb.Frame, has_fpu: bool) -> dict:
    frame.select()
    info_frame = run("info frame")
    cfa = FRAME_AT.search(info_frame)
    previous_sp = PREVIOUS_SP.search(info_frame)
    record = {
        "level": frame.level(),
        "type": FRAME_TYPES.get(frame.type(), str(frame.type())),
        "pc": hex32(frame.pc()),
        **frame_location(frame),
        "inlined": frame.type() == gdb.INLINE_FRAME,
        "cfa": cfa.group(1) if cfa else None,
        "previous_sp": previous_sp.group(1) if previous_sp else None,
        "frame_id": run(f"maint print frame-id {frame.level()}").strip(),
        "info_frame": info_frame,
        **frame_registers(has_fpu),
        "args": run("info args"),
        "locals": run("info locals"),
        "unwind_stop_reason": gdb.frame_stop_reason_string(frame.unwind_stop_reason()),
    }
    return record


def walk_frames(has_fpu: bool) -> tuple[list[dict], str | None]:
    """Every frame GDB unwinds, newest first, and the error that ended the walk, if any."""
    records = []
    frame = gdb.newest_frame()
    error = None
    while frame is not None:
        records.append(describe_frame(frame, has_fpu))
        try:
            frame = frame.older()
        except gdb.error as exc:
            error = str(exc)
            break
    gdb.newest_frame().select()
    return records, error


def capture_backtrace(has_fpu: bool) -> dict:
    frames, error = walk_frames(has_fpu)
    return {"frames": frames, "unwind_error": error, "bt": run("bt"), "bt_full": run("bt full")}


def split_after_fault(frames: list[dict]) -> tuple[list[dict], list[dict]]:
    """Handler frames (fault_snapshot_taken and its <signal handler called>) and the rest:
    dre sees the crash from the coredump, starting at the faulting function."""
    for index, frame in enumerate(frames):
        if frame["type"] == "SIGTRAMP":
            return frames[: index + 1], frames[index + 1 :]
    return frames, []


# Threads ----------------------------------------------------------------------------------


def stack_unused_bytes(base: int, size: int) -> int:
    """Bytes from the bottom of a stack that still hold the fill byte (high-water mark)."""
    data = gdb.selected_inferior().read_memory(base, size).tobytes()
    return len(data) - len(data.lstrip(STACK_FILL))


def scheduler_threads() -> list[dict]:
    scheduler = gdb.parse_and_eval("g_dre_scheduler")
    current = int(scheduler["current"])
    threads = []
    for index in range(int(scheduler["thread_count"])):
        thread = scheduler["threads"][index]
        state = int(thread["state"])
        threads.append(
            {
                "index": index,
                "name": thread["name"].string(),
                "state": THREAD_STATES.get(state, str(state)),
                "priority": int(thread["priority"]),
                "stack_base": hex32(int(thread["stack_base"])),
                "stack_size": int(thread["stack_size"]),
                "stack_unused_bytes": stack_unused_bytes(
                    int(thread["stack_base"]), int(thread["stack_size"])
                ),
                "saved_sp": hex32(int(thread["saved_sp"])),
                "current": int(thread.address) == current,
            }
        )
    return threads


def saved_context(saved_sp: int, has_fpu: bool) -> dict:
    """Where each register of a switched-out thread is saved (README, "Save order"):
    r4-r11, then on the FPU build EXC_RETURN and, if its bit 4 is 0, s16-s31, then the
    hardware frame (basic, or extended with s0-s15 and fpscr)."""
    slots = {f"r{4 + n}": saved_sp + 4 * n for n in range(8)}
    cursor = saved_sp + 0x20
    exc_return = None
    if has_fpu:
        exc_return = read_words(cursor, 1)[0]
        cursor += 4
    extended = exc_return is not None and not exc_return & EXC_RETURN_FTYPE
    if extended:
        slots.update({f"s{16 + n}": cursor + 4 * n for n in range(16)})
        cursor += 0x40
    frame = cursor
    slots.update({name: frame + 4 * n for n, name in enumerate(HARDWARE_FRAME_REGISTERS)})
    if extended:
        slots.update({f"s{n}": frame + 0x20 + 4 * n for n in range(16)})
        slots["fpscr"] = frame + 0x60
    xpsr = read_words(slots["xpsr"], 1)[0]
    size = EXTENDED_FRAME_SIZE if extended else BASIC_FRAME_SIZE
    sp = frame + size + (4 if xpsr & XPSR_STACK_ALIGN else 0)
    return {
        "saved_sp": hex32(saved_sp),
        "exc_return": hex32(exc_return) if exc_return is not None else None,
        "frame_kind": "extended" if extended else "basic",
        "hardware_frame": hex32(frame),
        "sp": hex32(sp),
        "slots": {name: hex32(address) for name, address in slots.items()},
        "values": {name: hex32(read_words(address, 1)[0]) for name, address in slots.items()},
    }


def register_type(name: str) -> str:
    return "float" if FLOAT_REGISTER.fullmatch(name) else "unsigned int"


def save_live_registers(has_fpu: bool) -> list[str]:
    """Keep the live registers in GDB convenience variables ($dre_saved_r0, ...)."""
    names = CORE_REGISTERS + (FPU_REGISTERS if has_fpu else [])
    gdb.newest_frame().select()
    for name in names:
        gdb.execute(f"set $dre_saved_{name} = ${name}")
    return names


def restore_live_registers(names: list[str]) -> None:
    for name in names:
        gdb.newest_frame().select()
        gdb.execute(f"set ${name} = $dre_saved_{name}")


def load_context(context: dict) -> None:
    """Copy the saved registers into GDB's frame 0 straight from target memory, so float
    bit patterns survive; then SP (and PSP, the stack a thread runs on) after the frame."""
    for name, address in context["slots"].items():
        gdb.newest_frame().select()
        gdb.execute(f"set ${name} = *({register_type(name)} *){address}")
    gdb.newest_frame().select()
    gdb.execute(f"set $psp = {context['sp']}")
    gdb.newest_frame().select()
    gdb.execute(f"set $sp = {context['sp']}")


SAVE_AREA_SOURCE = (
    "saved context: registers loaded from the thread's save area at saved_sp "
    "(r4-r11[, EXC_RETURN, s16-s31], then the hardware frame); sp = psp = after the "
    "hardware frame (+4 if stacked xPSR bit 9)"
)


def capture_saved_thread(thread: dict, has_fpu: bool, kernel: str = "dre") -> dict:
    if kernel == "zephyr":
        context = zephyr_saved_context(int(thread["tcb"], 16))
    else:
        context = saved_context(int(thread["saved_sp"], 16), has_fpu)
        context["source"] = SAVE_AREA_SOURCE
    saved = save_live_registers(has_fpu)
    try:
        load_context(context)
        backtrace = capture_backtrace(has_fpu)
    finally:
        restore_live_registers(saved)
    context["source"] = context.pop("source")  # last, where the existing fixtures have it
    return {**thread, "crashed": False, "context": context, **backtrace}


# RTOS kernels -----------------------------------------------------------------------------

FREERTOS_FILL = b"\xa5"  # tskSTACK_FILL_BYTE
ZEPHYR_FILL = b"\xaa"  # CONFIG_INIT_STACKS
TASK_WAITING_NOTIFICATION = 1  # taskWAITING_NOTIFICATION in tasks.c
MAX_KERNEL_THREADS = 64
# struct _thread_base.thread_state bits (Zephyr kernel_structs.h, 3.7 and later).
ZEPHYR_STATE_BITS = [
    (0x01, "dummy"),
    (0x02, "pending"),
    (0x04, "sleeping"),
    (0x08, "dead"),
    (0x10, "suspended"),
    (0x20, "aborting"),
    (0x40, "suspending"),
    (0x80, "queued"),
]
ZEPHYR_NOT_BLOCKING = {"queued"}


def unused_bytes(base: int, size: int, fill: bytes) -> int:
    data = gdb.selected_inferior().read_memory(base, size).tobytes()
    return len(data) - len(data.lstrip(fill))


def buffer_symbol(address: int) -> tuple[str | None, int | None]:
    """The variable that starts at `address` (a static stack buffer) and its size."""
    text = gdb.execute(f"info symbol {address}", to_string=True)
    if " + " in text or text.startswith("No symbol"):
        return None, None
    name = text.split()[0]
    symbol = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    return name, symbol.type.sizeof if symbol is not None else None


def freertos_static(name: str) -> gdb.Value:
    return gdb.parse_and_eval(f"'tasks.c'::{name}")


def freertos_list_owners(list_value: gdb.Value) -> list[int]:
    """TCB addresses of a List_t in list order, walked from xListEnd.pxNext back to
    xListEnd, at most uxNumberOfItems of them."""
    end = int(list_value["xListEnd"].address)
    count = int(list_value["uxNumberOfItems"])
    item = list_value["xListEnd"]["pxNext"]
    owners = []
    while int(item) != end and len(owners) < count:
        owners.append(int(item["pvOwner"]))
        item = item["pxNext"]
    return owners


def freertos_lists() -> list[gdb.Value]:
    """Ready lists (highest priority first), pending ready, delayed, overflow delayed,
    suspended, waiting termination: the order tasks are listed in."""
    ready = freertos_static("pxReadyTasksLists")
    count = ready.type.sizeof // ready[0].type.sizeof
    lists = [ready[priority] for priority in reversed(range(count))]
    lists.append(freertos_static("xPendingReadyList"))
    lists.append(freertos_static("pxDelayedTaskList").dereference())
    lists.append(freertos_static("pxOverflowDelayedTaskList").dereference())
    lists.append(freertos_static("xSuspendedTaskList"))
    lists.append(freertos_static("xTasksWaitingTermination"))
    return lists


def freertos_state(tcb: gdb.Value, current: int) -> str:
    """eTaskGetState's rules (tasks.c), lower-case."""
    if int(tcb.address) == current:
        return "running"
    state_list = int(tcb["xStateListItem"]["pxContainer"])
    event_list = int(tcb["xEventListItem"]["pxContainer"])
    if event_list == int(freertos_static("xPendingReadyList").address):
        return "ready"
    delayed = {int(freertos_static(n)) for n in ("pxDelayedTaskList", "pxOverflowDelayedTaskList")}
    if state_list in delayed:
        return "blocked"
    if state_list == int(freertos_static("xSuspendedTaskList").address):
        notify = tcb["ucNotifyState"]
        waiting = any(
            int(notify[n]) == TASK_WAITING_NOTIFICATION
            for n in range(notify.type.sizeof // notify[0].type.sizeof)
        )
        return "blocked" if event_list or waiting else "suspended"
    if state_list in (0, int(freertos_static("xTasksWaitingTermination").address)):
        return "deleted"
    return "ready"


def freertos_thread(index: int, tcb: gdb.Value, current: int) -> dict:
    base = int(tcb["pxStack"])
    symbol, size = buffer_symbol(base)
    fields = [field.name for field in tcb.type.strip_typedefs().fields()]
    end = int(tcb["pxEndOfStack"]) if "pxEndOfStack" in fields else None
    return {
        "index": index,
        "name": tcb["pcTaskName"].string(),
        "state": freertos_state(tcb, current),
        "priority": int(tcb["uxPriority"]),
        "stack_base": hex32(base),
        "stack_size": size,
        "stack_unused_bytes": unused_bytes(base, size, FREERTOS_FILL),
        "saved_sp": hex32(int(tcb["pxTopOfStack"])),
        "current": int(tcb.address) == current,
        "tcb": hex32(int(tcb.address)),
        "stack_symbol": symbol,
        "end_of_stack": hex32(end) if end is not None else None,
    }


def freertos_threads() -> list[dict]:
    current = int(gdb.parse_and_eval("pxCurrentTCB"))
    tcb_pointer = gdb.parse_and_eval("pxCurrentTCB").type.strip_typedefs().target().pointer()
    found = []
    for list_value in freertos_lists():
        for owner in freertos_list_owners(list_value):
            if owner not in found:
                found.append(owner)
    if current not in found:
        found.insert(0, current)
    tcbs = [gdb.Value(owner).cast(tcb_pointer).dereference() for owner in found]
    return [freertos_thread(index, tcb, current) for index, tcb in enumerate(tcbs)]


def freertos_kernel() -> dict:
    """What a Memfault FreeRTOS port captures of the kernel: tasks.c's variables and
    pxCurrentTCB (memfault-formats.md 1.7), and the size of a TCB."""
    variables = []
    block = gdb.lookup_static_symbol("pxReadyTasksLists").symtab.static_block()
    for symbol in [*block, gdb.lookup_global_symbol("pxCurrentTCB")]:
        if symbol.is_variable and symbol.addr_class == gdb.SYMBOL_LOC_STATIC:
            value = symbol.value()
            variables.append(
                {
                    "name": symbol.name,
                    "address": hex32(int(value.address)),
                    "size": value.type.sizeof,
                }
            )
    variables.sort(key=lambda variable: variable["address"])
    tcb_type = gdb.parse_and_eval("pxCurrentTCB").type.strip_typedefs().target()
    return {"name": "freertos", "variables": variables, "tcb_size": tcb_type.sizeof}


def zephyr_state(thread: gdb.Value, current: int) -> tuple[str, list[str]]:
    bits = int(thread["base"]["thread_state"])
    names = [name for bit, name in ZEPHYR_STATE_BITS if bits & bit]
    if int(thread.address) == current:
        return "running", names
    blocking = [name for name in names if name not in ZEPHYR_NOT_BLOCKING]
    return ("+".join(blocking) or "ready"), names


def zephyr_thread(index: int, thread: gdb.Value, current: int) -> dict:
    base = int(thread["stack_info"]["start"])
    size = int(thread["stack_info"]["size"])
    state, names = zephyr_state(thread, current)
    return {
        "index": index,
        "name": thread["name"].string(),
        "state": state,
        "state_bits": names,
        "thread_state": int(thread["base"]["thread_state"]),
        "priority": int(thread["base"]["prio"]),
        "stack_base": hex32(base),
        "stack_size": size,
        "stack_unused_bytes": unused_bytes(base, size, ZEPHYR_FILL),
        "saved_sp": hex32(int(thread["callee_saved"]["psp"])),
        "current": int(thread.address) == current,
        "tcb": hex32(int(thread.address)),
    }


def zephyr_threads() -> list[dict]:
    kernel = gdb.parse_and_eval("_kernel")
    current = int(kernel["cpus"][0]["current"])
    threads, seen = [], set()
    pointer = kernel["threads"]
    while int(pointer) and int(pointer) not in seen and len(threads) < MAX_KERNEL_THREADS:
        seen.add(int(pointer))
        threads.append(zephyr_thread(len(threads), pointer.dereference(), current))
        pointer = pointer.dereference()["next_thread"]
    return threads


def zephyr_saved_context(address: int) -> dict:
    """A switched-out Zephyr thread (swap_helper.S z_arm_pendsv): r4-r11 and PSP in
    callee_saved, the hardware frame at PSP, EXC_RETURN's low byte in arch.mode_exc_return
    (0xFD, a basic frame, without CONFIG_ARM_STORE_EXC_RETURN) and s16-s31 in
    arch.preempt_float when its bit 4 is 0."""
    thread = gdb.parse_and_eval(f"*(struct k_thread *){address}")
    callee = thread["callee_saved"]
    slots = {f"r{4 + n}": int(callee[f"v{1 + n}"].address) for n in range(8)}
    exc_return = 0xFFFFFFFD
    with contextlib.suppress(gdb.error):  # in an anonymous struct in an anonymous union
        exc_return = 0xFFFFFF00 | int(thread["arch"]["mode_exc_return"])
    extended = not exc_return & EXC_RETURN_FTYPE
    if extended:
        floats = thread["arch"]["preempt_float"]
        slots.update({f"s{16 + n}": int(floats[f"s{16 + n}"].address) for n in range(16)})
    frame = int(callee["psp"])
    slots.update({name: frame + 4 * n for n, name in enumerate(HARDWARE_FRAME_REGISTERS)})
    if extended:
        slots.update({f"s{n}": frame + 0x20 + 4 * n for n in range(16)})
        slots["fpscr"] = frame + 0x60
    xpsr = read_words(slots["xpsr"], 1)[0]
    size = EXTENDED_FRAME_SIZE if extended else BASIC_FRAME_SIZE
    sp = frame + size + (4 if xpsr & XPSR_STACK_ALIGN else 0)
    return {
        "source": (
            "saved context: r4-r11 from k_thread.callee_saved, the hardware frame at "
            "callee_saved.psp, EXC_RETURN = 0xFFFFFF00 | arch.mode_exc_return, s16-s31 from "
            "arch.preempt_float when its bit 4 is 0; sp = psp = after the hardware frame "
            "(+4 if stacked xPSR bit 9)"
        ),
        "saved_sp": hex32(frame),
        "exc_return": hex32(exc_return),
        "frame_kind": "extended" if extended else "basic",
        "hardware_frame": hex32(frame),
        "sp": hex32(sp),
        "slots": {name: hex32(address) for name, address in slots.items()},
        "values": {name: hex32(read_words(address, 1)[0]) for name, address in slots.items()},
    }


def zephyr_kernel() -> dict:
    kernel = gdb.parse_and_eval("_kernel")
    return {
        "name": "zephyr",
        "kernel_address": hex32(int(kernel.address)),
        "kernel_size": kernel.type.sizeof,
        "thread_size": gdb.lookup_type("struct k_thread").sizeof,
    }


KERNEL_THREADS = {"dre": None, "freertos": freertos_threads, "zephyr": zephyr_threads}
KERNEL_FACTS = {"dre": None, "freertos": freertos_kernel, "zephyr": zephyr_kernel}


# Scenario steps ---------------------------------------------------------------------------


def gdb_settings(config: dict) -> list[str]:
    return GDB_SETTINGS + (KERNEL_GDB_SETTINGS if config.get("kernel", "dre") != "dre" else [])


def connect(config: dict) -> None:
    for setting in gdb_settings(config):
        gdb.execute(setting)
    gdb.execute(f"target remote 127.0.0.1:{config['port']}")
    gdb.execute(f"set var g_scenario = {config['scenario_id']}")


def stop_at(location: str, expected_function: str) -> None:
    breakpoint_ = gdb.Breakpoint(location, internal=True)
    gdb.execute("continue")
    breakpoint_.delete()
    frame = gdb.newest_frame()
    if frame.name() != expected_function:
        raise gdb.GdbError(f"stopped in {frame.name()} at {hex32(frame.pc())}")


def give_gdb_msp_psp() -> dict:
    """MSP first: it equals SP here, so GDB can always tell which stack SP is."""
    psp = int(gdb.parse_and_eval("g_fault_sp_snapshot[0]"))
    msp = int(gdb.parse_and_eval("g_fault_sp_snapshot[1]"))
    gdb.execute(f"set $msp = {hex32(msp)}")
    gdb.execute(f"set $psp = {hex32(psp)}")
    return {"psp": hex32(psp), "msp": hex32(msp)}


def capture_crashing_thread(threads: list[dict], has_fpu: bool) -> tuple[dict, dict]:
    snapshot = give_gdb_msp_psp()
    backtrace = capture_backtrace(has_fpu)
    handler_frames, frames = split_after_fault(backtrace["frames"])
    current = next(thread for thread in threads if thread["current"])
    context = {
        "source": (
            "live registers stopped at fault_snapshot_taken (first instruction after the "
            "fault shim); msp and psp from g_fault_sp_snapshot through rsp_proxy"
        ),
        "g_fault_sp_snapshot": snapshot,
    }
    thread = {**current, "crashed": True, "context": context, **backtrace, "frames": frames}
    return thread, {"handler_frames": handler_frames, **snapshot}


def dump_coredump(output: str) -> dict:
    address = int(gdb.parse_and_eval("(unsigned int)&g_coredump_buffer"))
    magic, version, size = read_words(address, COREDUMP_HEADER_SIZE // 4)
    path = os.path.join(output, "coredump.bin")
    gdb.execute(f"dump binary memory {path} {address} {address + size}")
    return {
        "file": "coredump.bin",
        "address": hex32(address),
        "size": size,
        "magic": hex32(magic),
        "version": version,
    }


# Zephyr's own coredumps, which the Zephyr replica writes next to the Memfault one
# (rtos/zephyr/debug_coredump.c): g_zephyr_coredumps[n] = {size, bytes[]}.
ZEPHYR_COREDUMP_FILES = ("coredump-zephyr-3.4.bin", "coredump-zephyr-arch-v3.bin")


def dump_zephyr_coredumps(output: str) -> list[dict]:
    dumped = []
    for n, name in enumerate(ZEPHYR_COREDUMP_FILES):
        dump = gdb.parse_and_eval(f"g_zephyr_coredumps[{n}]")
        size = int(dump["size"])
        address = int(dump["bytes"].address)
        path = os.path.join(output, name)
        gdb.execute(f"dump binary memory {path} {address} {address + size}")
        dumped.append({"file": name, "address": hex32(address), "size": size})
    return dumped


def print_globals(variables: list[dict]) -> list[dict]:
    printed = []
    for variable in variables:
        text = run(f"print {variable['expression']}")
        printed.append({**variable, "value": HISTORY_PREFIX.sub("", text, count=1)})
    return printed


def capture(config: dict) -> dict:
    has_fpu = config["has_fpu"]
    kernel = config.get("kernel", "dre")
    connect(config)
    stop_at("*fault_snapshot_taken", "fault_snapshot_taken")
    threads = (KERNEL_THREADS[kernel] or scheduler_threads)()
    crashed, fault = capture_crashing_thread(threads, has_fpu)
    stop_at("coredump_saved", "coredump_saved")
    # The handler runs on MSP, so $sp is the live MSP now. GDB tells which stack SP is by
    # comparing it with $msp and $psp, so keep $msp current while thread contexts load.
    gdb.execute("set $msp = $sp")
    coredump = dump_coredump(config["output"])
    if kernel == "zephyr":
        coredump["zephyr"] = dump_zephyr_coredumps(config["output"])
    captured = [crashed]
    for thread in threads:
        if not thread["current"]:
            captured.append(capture_saved_thread(thread, has_fpu, kernel))
    facts = {"kernel": KERNEL_FACTS[kernel]()} if KERNEL_FACTS[kernel] else {}
    return {
        "schema": 1,
        "variant": config["variant"],
        "machine": config["machine"],
        "scenario": {"id": config["scenario_id"], "name": config["scenario"]},
        "gdb": {
            "version": gdb.VERSION,
            "settings": [*gdb_settings(config), "(print settings: defaults)"],
        },
        "fault": fault,
        "threads": captured,
        "coredump": coredump,
        **facts,
        "globals": print_globals(config["globals"]),
    }


# Text report ------------------------------------------------------------------------------


def frame_text(frame: dict) -> str:
    parts = [
        f"--- frame {frame['level']} ({frame['type']}): {frame['function']}\n",
        frame["info_frame"],
        frame["registers_text"],
    ]
    parts += [
        frame.get("float_registers_text", ""),
        "args:\n",
        frame["args"],
        "locals:\n",
        frame["locals"],
    ]
    return "".join(parts)


def thread_text(thread: dict) -> str:
    role = "crashing thread" if thread["crashed"] else "thread"
    parts = [
        f'=== {role} {thread["index"]} "{thread["name"]}" ({thread["state"]})\n',
        f"context: {thread['context']['source']}\n",
        "--- bt\n",
        thread["bt"],
        "--- bt full\n",
        thread["bt_full"],
    ]
    parts += [frame_text(frame) for frame in thread["frames"]]
    return "".join(parts)


def report_text(result: dict) -> str:
    header = (
        f"{result['variant']} {result['scenario']['name']} "
        f"(g_scenario = {result['scenario']['id']}), {result['gdb']['version']}\n"
    )
    globals_text = "".join(f"{v['expression']} = {v['value']}" for v in result["globals"])
    threads = "".join(thread_text(thread) for thread in result["threads"])
    return header + threads + "=== globals\n" + globals_text


def main() -> None:
    with open(os.environ["DRE_CAPTURE_CONFIG"], encoding="utf-8") as handle:
        config = json.load(handle)
    result = capture(config)
    output = config["output"]
    with open(os.path.join(output, "gdb.json"), "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")
    with open(os.path.join(output, "gdb.txt"), "w", encoding="utf-8") as handle:
        handle.write(report_text(result))
    gdb.execute("kill")


main()
