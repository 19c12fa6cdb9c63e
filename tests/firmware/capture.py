"""Make the GDB reference fixtures in tests/fixtures/ from the test firmware.

For every firmware variant (board and optimisation level) and every scenario: start QEMU
halted, put rsp_proxy.py between it and gdb-multiarch, and let gdb_capture.py record the
crash as GDB sees it. Per variant it also copies the ELF and records addr2line's answers
for a deterministic sample of code addresses.

Usage (normally through `make -C tests/firmware fixtures`):
    capture.py [--build build] [--fixtures ../fixtures] [--scenario NAME]... VARIANT...

Runs are deterministic: QEMU counts instructions (-icount) instead of following the host
clock, so the same ELF gives byte-identical fixtures.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from elftools.elf.elffile import ELFFile

if __package__:  # imported by the tests as tests.firmware.capture
    from .memfault_port import write_for as write_freertos_port_coredump
else:  # run as a script
    from memfault_port import write_for as write_freertos_port_coredump

HERE = Path(__file__).resolve().parent
SCENARIOS = {  # g_scenario values, as in src/scenarios.h
    "null_write": 1,
    "div_zero": 2,
    "undef_instr": 3,
    "invstate": 4,
    "irq_fault": 5,
    "assert": 6,
    "fpu_fault": 7,
    "leaf_fault": 8,
    "stack_overflow": 9,
}
# The RTOS variants (rtos/, "<kernel>-<board>-<opt>") have their own scenarios, as in
# rtos/common/rtos_board.h.
RTOS_SCENARIOS = {
    "task_fault": 1,
    "isr_fault": 2,
}
# The Zephyr replica also raises an error through SVC, as k_oops() does (rtos/zephyr/app.c).
ZEPHYR_SCENARIOS = {**RTOS_SCENARIOS, "oops": 3}
# The diag variants (diag/diag.c, "diag-<board>-<opt>") run the test firmware's scheduler.
DIAG_SCENARIOS = {
    "mpu_fault": 1,
    "irq_pending": 2,
    "deep_stack": 3,
    "handler_fault": 4,
    "heap_fault": 5,
}
# The C++ variants ("cxx-<board>-<opt>") replace the C scenarios by their own (cxx/).
CXX_SCENARIOS = {
    "virtual_call": 1,
    "constructor": 2,
    "destructor": 3,
}
KERNELS = ("freertos", "zephyr")
MACHINES = {"an385": "mps2-an385", "an386": "mps2-an386"}
# Virtual time from instruction counts, and no real-time wait in WFI: identical runs.
QEMU_ICOUNT = "shift=5,sleep=off"
RUN_TIMEOUT_SECONDS = 180
ADDR2LINE_TOTAL = 1000
# The C++ and clang builds came later and sample more: names are what they are about.
ADDR2LINE_TOTAL_NEWER = 3000
NEWER_VARIANTS = ("cxx", "clang")
ADDR2LINE_SEED = 20240611
ADDR2LINE_FUNCTION_BUDGET = 700
# Functions whose every instruction goes into addr2line.json, most wanted first, while they
# fit in ADDR2LINE_FUNCTION_BUDGET: the crash paths, the thread waits, then odd code (the
# context switch, newlib's memcpy without line info). Clones such as
# parse_nested.constprop.0 match their base name.
ADDR2LINE_FUNCTIONS = [
    "storage_write_record",
    "storage_save",
    "calc_ratio",
    "calc_percent",
    "calc_apply_gain",
    "calc_filter",
    "isr_channel_record",
    "isr_process",
    "Timer1_IRQHandler",
    "isr_trigger",
    "config_validate",
    "dre_assert_failed",
    "counter_bump",
    "command_dispatch",
    "command_reboot",
    "firmware_apply_patch",
    "parse_nested",
    "thread_trampoline",
    "fault_snapshot_taken",
    "memcpy",
    "scheduler_yield",
    "scheduler_sleep",
    "scheduler_block",
    "log_flush",
    "log_wait_drain",
    "sensor_thread",
    "sensor_wait_period",
    "comms_wait_event",
    "comms_receive",
    "main_thread",
    "PendSV_Handler",
    "scenario_run",
    "scenario_null_write",
    "scenario_fpu_fault",
]
OBJDUMP_FUNCTION = re.compile(r"^([0-9a-f]+) <([^>]+)>:$")
OBJDUMP_INSTRUCTION = re.compile(r"^\s+([0-9a-f]+):\t(\S+)")
ADDR2LINE_ADDRESS = re.compile(r"^0x[0-9a-f]+$")
DISCRIMINATOR = re.compile(r"^(.*) \(discriminator (\d+)\)$")


class CaptureError(Exception):
    pass


def variant_board(variant: str) -> str:
    return next(part for part in variant.split("-") if part in MACHINES)


def variant_kernel(variant: str) -> str:
    """The kernel a variant runs: dre for the test firmware's scheduler, or a replica."""
    first = variant.split("-")[0]
    return first if first in KERNELS else "dre"


def variant_scenarios(variant: str) -> dict[str, int]:
    if variant.startswith("diag-"):
        return DIAG_SCENARIOS
    if variant.startswith("cxx-"):
        return CXX_SCENARIOS
    kernel = variant_kernel(variant)
    if kernel == "dre":
        return SCENARIOS
    return ZEPHYR_SCENARIOS if kernel == "zephyr" else RTOS_SCENARIOS


def addr2line_total(variant: str) -> int:
    return ADDR2LINE_TOTAL_NEWER if variant.split("-")[0] in NEWER_VARIANTS else ADDR2LINE_TOTAL


# Globals to print --------------------------------------------------------------------------


def variable_name(die) -> tuple[str, bool]:
    """Name and external flag, following DW_AT_specification to the declaration."""
    if "DW_AT_specification" in die.attributes:
        declaration = die.get_DIE_from_attribute("DW_AT_specification")
        return declaration.attributes["DW_AT_name"].value.decode(), True
    return die.attributes["DW_AT_name"].value.decode(), "DW_AT_external" in die.attributes


def firmware_globals(elf_path: Path) -> list[dict]:
    """Every global and file-static variable defined in the firmware's own C files, with the
    expression GDB needs to print it ('file.c'::name for statics)."""
    variables = []
    with elf_path.open("rb") as handle:
        for unit in ELFFile(handle).get_dwarf_info().iter_CUs():
            top = unit.get_top_DIE()
            unit_name = top.attributes["DW_AT_name"].value.decode()
            if not (unit_name.startswith(("src/", "rtos/")) and unit_name.endswith(".c")):
                continue
            for die in top.iter_children():
                if die.tag != "DW_TAG_variable" or "DW_AT_declaration" in die.attributes:
                    continue
                name, external = variable_name(die)
                basename = unit_name.rsplit("/", 1)[-1]
                expression = name if external else f"'{basename}'::{name}"
                variables.append(
                    {
                        "name": name,
                        "file": unit_name,
                        "external": external,
                        "expression": expression,
                    }
                )
    return variables


# addr2line ---------------------------------------------------------------------------------


def code_instructions(elf_path: Path) -> dict[str, list[int]]:
    """Instruction addresses per function, from objdump (literal-pool words excluded)."""
    listing = subprocess.run(
        ["arm-none-eabi-objdump", "-d", "--no-show-raw-insn", str(elf_path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    functions: dict[str, list[int]] = {}
    current = None
    for line in listing.splitlines():
        if match := OBJDUMP_FUNCTION.match(line):
            current = functions.setdefault(match.group(2), [])
        elif (match := OBJDUMP_INSTRUCTION.match(line)) and current is not None:
            is_data = match.group(2).startswith(".")  # .word of a literal pool
            if not is_data:
                current.append(int(match.group(1), 16))
    return functions


def text_range(elf_path: Path) -> tuple[int, int]:
    with elf_path.open("rb") as handle:
        section = ELFFile(handle).get_section_by_name(".text")
        return section["sh_addr"], section["sh_addr"] + section["sh_size"]


def sample_functions(elf_path: Path) -> list[tuple[int, str]]:
    by_base_name = {}
    for name, addresses in sorted(code_instructions(elf_path).items()):
        by_base_name.setdefault(name.split(".")[0], []).append((name, addresses))
    sampled = []
    cxx_functions = sorted(name for name in by_base_name if name.startswith("_Z"))
    for wanted in cxx_functions + ADDR2LINE_FUNCTIONS:
        for name, addresses in by_base_name.get(wanted, []):
            if len(sampled) + len(addresses) <= ADDR2LINE_FUNCTION_BUDGET:
                sampled += [(address, f"instruction of {name}") for address in addresses]
    return sampled


def sample_addresses(elf_path: Path, total: int = ADDR2LINE_TOTAL) -> list[tuple[int, str]]:
    """Every instruction of some functions (sample_functions: C++ functions first), then
    seeded random halfword-aligned addresses in .text up to `total`."""
    sampled = sample_functions(elf_path)
    chosen = {address for address, _ in sampled}
    start, end = text_range(elf_path)
    rng = random.Random(ADDR2LINE_SEED)
    while len(sampled) < min(total, (end - start) // 2):
        address = rng.randrange(start, end, 2)
        if address not in chosen:
            chosen.add(address)
            sampled.append((address, "random"))
    return sorted(sampled)


def parse_location(text: str) -> dict:
    """'src/x.c:12 (discriminator 3)' -> file, line (None for '?'), discriminator."""
    discriminator = None
    if match := DISCRIMINATOR.match(text):
        text, discriminator = match.group(1), int(match.group(2))
    file, _, line = text.rpartition(":")
    return {
        "file": file,
        "line": int(line) if line.isdigit() and line != "0" else None,
        "line_text": line,
        "discriminator": discriminator,
    }


def parse_addr2line(output: str) -> dict[int, list[dict]]:
    """Output of `addr2line -a -f -i`: an address line, then function / location pairs,
    innermost inline frame first."""
    results: dict[int, list[dict]] = {}
    lines = output.splitlines()
    index = 0
    while index < len(lines):
        if not ADDR2LINE_ADDRESS.match(lines[index]):
            raise CaptureError(f"unexpected addr2line output: {lines[index]!r}")
        frames = results.setdefault(int(lines[index], 16), [])
        index += 1
        while index < len(lines) and not ADDR2LINE_ADDRESS.match(lines[index]):
            frames.append({"function": lines[index], **parse_location(lines[index + 1])})
            index += 2
    return results


def run_addr2line(elf_path: Path, addresses: list[int], *options: str) -> dict[int, list[dict]]:
    command = ["arm-none-eabi-addr2line", "-a", "-f", "-i", *options, "-e", str(elf_path)]
    stdin = "".join(f"0x{address:08x}\n" for address in addresses)
    output = subprocess.run(command, input=stdin, check=True, capture_output=True, text=True).stdout
    return parse_addr2line(output)


def run_addr2line_alone(elf_path: Path, addresses: list[int], *options: str) -> dict:
    """One addr2line run per address. bfd remembers, per function, the name its first
    address got: a C++ function without DW_AT_linkage_name is named after the ELF symbol
    at the first address asked and after its DWARF name at the next ones (bfd dwarf2.c
    _bfd_dwarf2_find_nearest_line_with_alt), so a batch's answers depend on its order."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = pool.map(lambda a: run_addr2line(elf_path, [a], *options), addresses)
        return {address: found for answer in answers for address, found in answer.items()}


def addr2line_fixture(elf_path: Path, total: int = ADDR2LINE_TOTAL) -> dict:
    """addr2line's answers; for the newer variants, asked one address at a time, also its
    function names with -C ("demangled", one per frame)."""
    sampled = sample_addresses(elf_path, total)
    addresses = [address for address, _ in sampled]
    if total == ADDR2LINE_TOTAL:
        frames = run_addr2line(elf_path, addresses)
    else:
        frames = run_addr2line_alone(elf_path, addresses)
        for address, demangled in run_addr2line_alone(elf_path, addresses, "-C").items():
            for frame, other in zip(frames[address], demangled, strict=True):
                frame["demangled"] = other["function"]
    version = subprocess.run(
        ["arm-none-eabi-addr2line", "--version"], check=True, capture_output=True, text=True
    ).stdout.splitlines()[0]
    return {
        "command": "arm-none-eabi-addr2line -f -i -e firmware.elf ADDRESS"
        + ("" if total == ADDR2LINE_TOTAL else " (one run per address; names also with -C)"),
        "addr2line": version,
        "addresses": [
            {"address": f"0x{address:08x}", "sampled_as": reason, "frames": frames[address]}
            for address, reason in sampled
        ],
    }


# One scenario run --------------------------------------------------------------------------


_ports_lock = threading.Lock()
_ports_given: set[int] = set()


def free_port() -> int:
    """A port nothing listens on. Runs go in parallel, so never hand out one port twice."""
    with _ports_lock:
        while True:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            if port not in _ports_given:
                _ports_given.add(port)
                return port


def start_qemu(elf_path: Path, machine: str, uart_log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [
        "qemu-system-arm",
        "-M",
        machine,
        "-nographic",
        "-S",
        "-gdb",
        f"tcp:127.0.0.1:{port}",
        "-icount",
        QEMU_ICOUNT,
        "-kernel",
        str(elf_path),
    ]
    with uart_log.open("w") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    return process, port


def start_proxy(qemu_port: int, traffic_log: Path) -> tuple[subprocess.Popen, int]:
    command = [
        sys.executable,
        str(HERE / "rsp_proxy.py"),
        "--target",
        f"127.0.0.1:{qemu_port}",
        "--log",
        str(traffic_log),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    banner = process.stdout.readline()
    if not banner.startswith("listening on "):
        raise CaptureError(f"rsp_proxy did not start: {banner!r}")
    return process, int(banner.split()[-1])


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    process.wait(timeout=10)


def run_gdb(elf_path: Path, config_path: Path) -> subprocess.CompletedProcess:
    command = ["gdb-multiarch", "--batch", "-nx", "-x", str(HERE / "gdb_capture.py"), str(elf_path)]
    env = {"PATH": "/usr/bin:/bin", "DRE_CAPTURE_CONFIG": str(config_path), "LANG": "C"}
    return subprocess.run(
        command, cwd=HERE, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS
    )


def check_coredump(path: Path) -> None:
    """The dump must be complete: 'CORE', version 2, total size = file size, 'DUMP'."""
    data = path.read_bytes()
    size = int.from_bytes(data[8:12], "little")
    if data[:4] != b"CORE" or data[4:8] != b"\x02\0\0\0" or size != len(data):
        raise CaptureError(f"{path}: bad coredump header")
    if data[-16:-12] != b"DUMP":
        raise CaptureError(f"{path}: no coredump footer")


def scenario_capture(
    elf_path: Path, variant: str, scenario: str, globals_: list[dict], output: Path
) -> None:
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    board = variant_board(variant)
    with tempfile.TemporaryDirectory(prefix=f"dre-{variant}-{scenario}-") as work:
        work_dir = Path(work)
        config = {
            "variant": variant,
            "machine": MACHINES[board],
            "scenario": scenario,
            "scenario_id": variant_scenarios(variant)[scenario],
            "has_fpu": board == "an386",
            "kernel": variant_kernel(variant),
            "output": str(output.resolve()),
            "globals": globals_,
        }
        qemu, qemu_port = start_qemu(elf_path, MACHINES[board], work_dir / "uart.log")
        proxy = None
        try:
            proxy, config["port"] = start_proxy(qemu_port, work_dir / "rsp.log")
            config_path = work_dir / "config.json"
            config_path.write_text(json.dumps(config))
            result = run_gdb(elf_path, config_path)
        finally:
            for process in (qemu, proxy):
                if process is not None:
                    stop(process)
        if not (output / "gdb.json").exists():
            uart = (work_dir / "uart.log").read_text(errors="replace")
            raise CaptureError(
                f"{variant}/{scenario}: GDB failed\n{result.stdout}\n{result.stderr}\n{uart}"
            )
    check_coredump(output / "coredump.bin")
    if variant_kernel(variant) == "freertos":
        write_freertos_port_coredump(output)


# Variants ----------------------------------------------------------------------------------


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n")


def variant_capture(
    variant: str, build: Path, fixtures: Path, scenarios: list[str], jobs: int
) -> None:
    elf_path = (build / f"{variant}.elf").resolve()
    output = fixtures / variant
    output.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(elf_path, output / "firmware.elf")
    write_json(output / "addr2line.json", addr2line_fixture(elf_path, addr2line_total(variant)))
    globals_ = firmware_globals(elf_path)
    scenarios = [name for name in scenarios if name in variant_scenarios(variant)]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        runs = [
            pool.submit(scenario_capture, elf_path, variant, scenario, globals_, output / scenario)
            for scenario in scenarios
        ]
        for run in runs:
            run.result()
    print(f"{variant}: {len(scenarios)} scenarios captured")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help="e.g. an385-O0 an386-O2")
    parser.add_argument("--build", type=Path, default=HERE / "build")
    parser.add_argument("--fixtures", type=Path, default=HERE.parent / "fixtures")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted({*SCENARIOS, *ZEPHYR_SCENARIOS, *DIAG_SCENARIOS, *CXX_SCENARIOS}),
        help="only these scenarios (default: all of each variant)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="scenarios run in parallel")
    args = parser.parse_args(argv)
    scenarios = args.scenario or [*SCENARIOS, *ZEPHYR_SCENARIOS, *DIAG_SCENARIOS, *CXX_SCENARIOS]
    try:
        for variant in args.variants:
            variant_capture(variant, args.build, args.fixtures, scenarios, args.jobs)
    except (CaptureError, subprocess.SubprocessError) as error:
        print(f"capture failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
