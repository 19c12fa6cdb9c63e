"""How much of a thread's stack is in use at the crash, and the most it ever used.

Stacks grow down on Cortex-M (ARMv7-M ARM B1.5.6: exception entry pushes below SP), so
1. in use at the crash = top of the stack - the thread's SP then. It needs only the SP
   and the bounds, never the stack's bytes: it is known even when a port captured only
   the top of each stack (the Memfault FreeRTOS port keeps 256 bytes from pxTopOfStack,
   memfault-formats.md 1.7);
2. the high-water mark = size - the bytes still holding the kernel's fill pattern from
   the base up (uxTaskGetStackHighWaterMark's rule). It is known only when the captured
   memory runs from the base up to the first overwritten byte; otherwise "not captured";
3. warnings: more than WARN_PERCENT in use, and an SP outside its own stack.
"""

from __future__ import annotations

WARN_PERCENT = 90


def stack_usage(stack: dict | None, sp: int | None) -> dict | None:
    """`stack` is ThreadInfo.stack (base, size, and `unused` fill bytes when known)."""
    if not stack or stack.get("size") is None:
        return stack
    base, size = stack["base"], stack["size"]
    out = {"base": base, "size": size, "top": base + size, "warnings": []}
    _high_water(out, stack.get("unused"))
    if sp is not None:
        _in_use(out, sp)
    return out


def _high_water(out: dict, unused: int | None) -> None:
    if unused is None:
        out["high_water_status"] = "not_captured"
        return
    out["high_water_status"] = "captured"
    # Kept as "used" too: the overflow detector and older stored traces read that key.
    out["used"] = out["high_water"] = out["size"] - unused
    out["high_water_percent"] = percent(out["high_water"], out["size"])


def _in_use(out: dict, sp: int) -> None:
    out["sp"] = sp
    if not out["base"] <= sp <= out["top"]:
        where = "below its base" if sp < out["base"] else "above its top"
        out["warnings"].append(
            f"SP 0x{sp:08x} is outside its stack (0x{out['base']:08x}-0x{out['top']:08x}), {where}"
        )
        return
    out["in_use"] = out["top"] - sp
    out["in_use_percent"] = percent(out["in_use"], out["size"])
    if out["in_use"] * 100 > WARN_PERCENT * out["size"]:
        out["warnings"].append(
            f"{out['in_use_percent']} % of the stack in use at the crash (over {WARN_PERCENT} %)"
        )


def percent(part: int, whole: int) -> int:
    """Rounded to the nearest whole percent, halves up: 1,916 of 1,996 bytes is 96 %."""
    return (200 * part + whole) // (2 * whole) if whole else 0
