"""Make the fleet fixtures in tests/fixtures/<board>_fleet/ from the fleet firmware.

The fleet firmware (fleet/) lives four boots under QEMU and writes every event it sends
as Memfault chunks on the console (`MC:<base64>:`, the SDK's data export), each preceded
by an `EXPECT {...}` line saying what it meant to send. This script runs it once with
semihosting (the firmware ends the run itself) and saves:

    firmware.elf     the ELF, for the symbol upload
    firmware-compressed.elf   the same with zlib-compressed debug sections (SHF_COMPRESSED),
                     as the SDK example's build leaves them and CI uploads them
    console.txt      QEMU's console, byte for byte: progress, EXPECT and MC: lines
    expected.json    the EXPECT objects in order, plus the run's facts

Usage (normally through `make -C tests/firmware fleet-fixtures`):
    fleet_capture.py [--build build] [--fixtures ../fixtures] VARIANT...

Deterministic like capture.py: QEMU counts instructions (-icount), and the firmware's
clock is simulated, so the same ELF gives byte-identical fixtures.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MACHINES = {"an385": "mps2-an385", "an386": "mps2-an386"}
QEMU_ICOUNT = "shift=5,sleep=off"
RUN_TIMEOUT_SECONDS = 120
EXPECT = re.compile(r"^EXPECT (\{.*\})$", re.MULTILINE)
CHUNK = re.compile(r"^MC:([A-Za-z0-9+/=]+):$", re.MULTILINE)


class CaptureError(Exception):
    pass


def qemu_command(elf: Path, machine: str) -> list[str]:
    return [
        "qemu-system-arm",
        "-M",
        machine,
        "-nographic",
        "-icount",
        QEMU_ICOUNT,
        "-semihosting-config",
        "enable=on,target=native",
        "-kernel",
        str(elf),
    ]


def run(elf: Path, machine: str) -> str:
    """The console of one whole run; the firmware exits through semihosting SYS_EXIT."""
    result = subprocess.run(
        qemu_command(elf, machine),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    console = result.stdout.decode("ascii")
    if result.returncode != 0 or not console.rstrip().endswith("fleetfw: done"):
        raise CaptureError(f"{elf.name}: QEMU exited {result.returncode}: {console[-500:]!r}")
    return console


def compress_debug_sections(elf: Path, out: Path) -> None:
    subprocess.run(
        ["arm-none-eabi-objcopy", "--compress-debug-sections=zlib", str(elf), str(out)],
        check=True,
    )


def gnu_build_id(elf: Path) -> str:
    from elftools.elf.elffile import ELFFile

    with elf.open("rb") as stream:
        for section in ELFFile(stream).iter_sections():
            if section.name == ".note.gnu.build-id":
                return next(iter(section.iter_notes()))["n_desc"]
    raise CaptureError(f"{elf} has no GNU build id")


def expected(console: str, variant: str, machine: str, elf: Path) -> dict:
    events = [json.loads(match.group(1)) for match in EXPECT.finditer(console)]
    if len(events) != console.count("EXPECT "):
        raise CaptureError(f"{variant}: an EXPECT line is not one line of JSON")
    chunks = [base64.b64decode(match.group(1)) for match in CHUNK.finditer(console)]
    return {
        "schema": 1,
        "variant": variant,
        "machine": machine,
        "qemu": " ".join(qemu_command(Path("firmware.elf"), machine)),
        "build_id": gnu_build_id(elf),
        "elf_sha256": hashlib.sha256(elf.read_bytes()).hexdigest(),
        "chunk_count": len(chunks),
        "chunk_bytes": sum(len(chunk) for chunk in chunks),
        "events": events,
    }


def variant_capture(variant: str, build: Path, fixtures: Path) -> Path:
    board = variant.split("-")[1]
    machine = MACHINES[board]
    elf = build / f"{variant}.elf"
    out = fixtures / f"{board}_fleet"
    out.mkdir(parents=True, exist_ok=True)
    console = run(elf, machine)
    shutil.copyfile(elf, out / "firmware.elf")
    compress_debug_sections(out / "firmware.elf", out / "firmware-compressed.elf")
    (out / "console.txt").write_text(console)
    data = expected(console, variant, machine, elf)
    (out / "expected.json").write_text(json.dumps(data, indent=1) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=HERE / "build")
    parser.add_argument("--fixtures", type=Path, default=HERE.parent / "fixtures")
    parser.add_argument("variants", nargs="+")
    args = parser.parse_args(argv)
    for variant in args.variants:
        out = variant_capture(variant, args.build, args.fixtures)
        print(f"{variant}: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
