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
    """A thread's stack as "used of size bytes (n%)"."""
    if not stack or not stack.get("size"):
        return ""
    used, size = stack.get("used") or 0, stack["size"]
    return f"{used} of {size} bytes ({100 * used // size}%)"
