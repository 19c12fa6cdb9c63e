"""Formatting of stored traces for templates. Values from devices are escaped by
Django's autoescaping; these filters only return plain strings."""

from django import template

register = template.Library()


@register.filter
def hex32(value):
    if value is None:
        return ""
    return f"0x{int(value):08x}"


@register.filter
def crashed_frames(trace_data):
    for thread in (trace_data or {}).get("threads", []):
        if thread.get("crashed"):
            return thread.get("frames", [])
    return []


@register.filter
def location(frame):
    return where(frame.get("location"))


@register.filter
def where(place):
    """{"file", "line"} as file:line."""
    return f"{place['file']}:{place['line']}" if place else ""


@register.filter
def stack_use(stack):
    """A thread's stack: in use at the crash (from the SP), then the high-water mark or
    why it is unknown. Never a made-up 0 %: what is not known says so."""
    if not stack or not stack.get("size"):
        return ""
    size = stack["size"]
    if stack.get("in_use") is not None:
        now = f"{stack['in_use']} of {size} bytes in use ({stack['in_use_percent']}%)"
    elif stack.get("sp") is not None:
        now = f"SP outside its {size}-byte stack"
    else:
        now = f"{size} bytes, use at the crash unknown"
    return f"{now}; {_high_water(stack)}"


def _high_water(stack) -> str:
    if stack.get("high_water") is not None:
        return f"peak {stack['high_water']} ({stack['high_water_percent']}%)"
    if stack.get("high_water_status") == "not_captured":
        return "peak not captured"
    if stack.get("used") is not None:  # traces stored before in_use existed
        return f"peak {stack['used']}"
    return "peak unknown"


@register.filter
def bytes_size(value):
    """An MPU region size: 32 B, 1 KB, 64 KB, 4 MB (always a power of two)."""
    if value is None:
        return ""
    for unit, shift in (("GB", 30), ("MB", 20), ("KB", 10)):
        if value >= 1 << shift and value % (1 << shift) == 0:
            return f"{value >> shift} {unit}"
    return f"{value} B"
