"""Registers a context switch saved on a thread's stack.

The layout shared by the ARM_CM3 / ARM_CM4F FreeRTOS ports and dre's test
scheduler (cortex-m-unwinding.md 4.1): r4-r11 at the top of the save area,
on FPU ports EXC_RETURN after them and s16-s31 when its FType bit is 0, then
the hardware exception frame PendSV was entered with.
"""

from __future__ import annotations

from symbolicator.unwind import cortex_m

THREAD_PSP_BASIC = 0xFFFFFFFD


def read_saved_context(
    memory, save_area: int, *, has_exc_return: bool | None = None
) -> dict[str, int]:
    """Return the thread's registers; `has_exc_return` None means decide by plausibility."""
    registers = {f"r{4 + n}": memory.read_u32(save_area + 4 * n) for n in range(8)}
    cursor = save_area + 0x20
    if has_exc_return is None:
        has_exc_return = cortex_m.is_exc_return(memory.read_u32(cursor))
    exc_return = THREAD_PSP_BASIC
    if has_exc_return:
        exc_return = memory.read_u32(cursor)
        cursor += 4
        if cortex_m.ExcReturn(exc_return).extended_frame:
            for n in range(16):
                registers[f"s{16 + n}"] = memory.read_u32(cursor + 4 * n)
            cursor += 0x40
    stacked = cortex_m.read_exception_frame(memory, cortex_m.ExcReturn(exc_return), cursor)
    registers.update(stacked.registers)
    registers["sp"] = registers["psp"] = stacked.sp_before
    return registers


def unused_stack(memory, base: int, size: int, fill: int) -> int | None:
    """Bytes from the stack's low end that still hold the fill byte, or None when the
    captured memory does not reach from the base to the first overwritten byte (a port
    that keeps only the top of each stack): the bytes not seen may have been used."""
    data = _captured_from(memory, base, size)
    unused = len(data) - len(data.lstrip(bytes([fill])))
    if unused == len(data) and len(data) < size:
        return None
    return unused


def _captured_from(memory, address: int, size: int) -> bytes:
    """The longest readable run of bytes from `address`, at most `size`."""
    out = b""
    while len(out) < size:
        span = memory.span_at(address + len(out))
        if span is None:
            break
        offset = address + len(out) - span.address
        out += span.data[offset : offset + size - len(out)]
    return out
