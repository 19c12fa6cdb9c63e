"""Run the big benchmark firmware in QEMU until it faults and keep its coredump.

The same harness as the test firmware's fixtures (tests/firmware/capture.py): QEMU
mps2-an385 halted at reset, rsp_proxy.py adding MSP/PSP, and gdb_capture.py stopping at
fault_snapshot_taken, recording GDB's live view of every thread (gdb.json, gdb.txt) and
dumping the coredump the firmware wrote (coredump.bin). The firmware runs the generated
chain whatever g_scenario says (bench/bigfw/scenario.c).

    capture_bigfw.py --elf build/bigfw/firmware.elf --output build/bigfw/crash
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.firmware import capture

MACHINE = "mps2-an385"
SCENARIO = "bigfw_chain"
SCENARIO_ID = 1  # written to g_scenario by gdb_capture.py; bench/bigfw/scenario.c ignores it


def run(elf: Path, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dre-bigfw-") as work:
        work_dir = Path(work)
        config = {
            "variant": "an385-O2-bigfw",
            "machine": MACHINE,
            "scenario": SCENARIO,
            "scenario_id": SCENARIO_ID,
            "has_fpu": False,
            "output": str(output.resolve()),
            "globals": [],  # thousands of them; the benchmark compares backtraces only
        }
        qemu, qemu_port = capture.start_qemu(elf, MACHINE, work_dir / "uart.log")
        proxy = None
        try:
            proxy, config["port"] = capture.start_proxy(qemu_port, work_dir / "rsp.log")
            config_path = work_dir / "config.json"
            config_path.write_text(json.dumps(config))
            result = capture.run_gdb(elf, config_path)
        finally:
            for process in (qemu, proxy):
                if process is not None:
                    capture.stop(process)
        if not (output / "gdb.json").exists():
            uart = (work_dir / "uart.log").read_text(errors="replace")
            raise capture.CaptureError(f"GDB failed\n{result.stdout}\n{result.stderr}\n{uart}")
    capture.check_coredump(output / "coredump.bin")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elf", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        run(args.elf.resolve(), args.output)
    except (capture.CaptureError, subprocess.SubprocessError) as error:
        print(f"capture failed: {error}", file=sys.stderr)
        return 1
    print(f"captured {args.output / 'coredump.bin'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
