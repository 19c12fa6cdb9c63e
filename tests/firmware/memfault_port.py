"""Derive the coredump a Memfault FreeRTOS port would have written from a full one.

The test firmware dumps all of RAM. A device running the Memfault SDK's FreeRTOS
port keeps much less (memfault-formats.md 1.7):

1. the register block, the device blocks and the fault-register ("arch") regions,
   all copied unchanged;
2. the active stack: MEMFAULT_PLATFORM_ACTIVE_STACK_SIZE_TO_COLLECT (512) bytes from
   the SP before the exception;
3. the kernel's variables: tasks.c's statics and pxCurrentTCB (the recipe places
   tasks.c's .bss between __memfault_capture_bss_start and _end);
4. every TCB, sizeof(TCB_t) bytes (memfault_freertos_get_task_regions);
5. MEMFAULT_PLATFORM_TASK_STACK_SIZE_TO_COLLECT (256) bytes of each task's stack from
   pxTopOfStack, cut at the top of the stack.

Addresses come from the fixture's gdb.json (the "kernel" facts and the threads).
capture.py writes the result next to the full dump; tests check it is still what
this module makes.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

ACTIVE_STACK_BYTES = 512
TASK_STACK_BYTES = 256
HEADER = struct.Struct("<4sII")
BLOCK = struct.Struct("<III")
FOOTER = struct.Struct("<4sIII")
MEMORY_REGION, PADDING = 1, 6
RAM_START = 0x20000000
SP_INDEX = 13  # r0-r3, r4-r11, r12, then sp in the register block
OUTPUT = "coredump-freertos-port.bin"


def parse_blocks(data: bytes) -> list[tuple[int, int, bytes]]:
    """(type, address, payload) of every block of a Memfault coredump."""
    magic, _, size = HEADER.unpack_from(data)
    if magic != b"CORE":
        raise ValueError("not a Memfault coredump")
    blocks, offset = [], HEADER.size
    while offset < size - FOOTER.size:
        kind, address, length = BLOCK.unpack_from(data, offset)
        offset += BLOCK.size
        blocks.append((kind & 0xFF, address, data[offset : offset + length]))
        offset += length
    return blocks


def merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted (start, end) ranges with overlapping and touching ones joined."""
    out: list[list[int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(start, end) for start, end in out]


def port_ranges(reference: dict, crash_sp: int) -> list[tuple[int, int]]:
    """Steps 2-5 of the module docstring, as address ranges."""
    ranges = [(crash_sp, crash_sp + ACTIVE_STACK_BYTES)]
    kernel = reference["kernel"]
    for variable in kernel["variables"]:
        start = int(variable["address"], 16)
        ranges.append((start, start + variable["size"]))
    for thread in reference["threads"]:
        tcb = int(thread["tcb"], 16)
        ranges.append((tcb, tcb + kernel["tcb_size"]))
        top = int(thread["saved_sp"], 16)
        stack_end = int(thread["stack_base"], 16) + thread["stack_size"]
        ranges.append((top, min(top + TASK_STACK_BYTES, stack_end)))
    return merged(ranges)


def write_coredump(blocks: list[tuple[int, int, bytes]]) -> bytes:
    body = bytearray()
    for kind, address, payload in blocks:
        if kind == MEMORY_REGION and (HEADER.size + len(body)) % 4:
            pad = 4 - (HEADER.size + len(body)) % 4
            body += BLOCK.pack(PADDING, 0, pad) + bytes(pad)
        body += BLOCK.pack(kind, address, len(payload)) + payload
    size = HEADER.size + len(body) + FOOTER.size
    return HEADER.pack(b"CORE", 2, size) + bytes(body) + FOOTER.pack(b"DUMP", 0, 0, 0)


def freertos_port_coredump(full: bytes, reference: dict) -> bytes:
    blocks = parse_blocks(full)
    device = [b for b in blocks if b[0] not in (MEMORY_REGION, PADDING)]
    arch = [b for b in blocks if b[0] == MEMORY_REGION and b[1] < RAM_START]
    ram = [b for b in blocks if b[0] == MEMORY_REGION and b[1] >= RAM_START]
    registers = next(payload for kind, _, payload in blocks if kind == 0)
    crash_sp = struct.unpack_from("<I", registers, 4 * SP_INDEX)[0]
    kept = []
    for start, end in port_ranges(reference, crash_sp):
        for _, address, payload in ram:
            low, high = max(start, address), min(end, address + len(payload))
            if low < high:
                kept.append((MEMORY_REGION, low, payload[low - address : high - address]))
    return write_coredump(device + arch + kept)


def write_for(scenario: Path) -> Path:
    reference = json.loads((scenario / "gdb.json").read_text())
    full = (scenario / "coredump.bin").read_bytes()
    path = scenario / OUTPUT
    path.write_bytes(freertos_port_coredump(full, reference))
    return path


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        print(write_for(Path(folder)))
