"""Showing estimates: a value with its 95 % interval and the sample behind it."""

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def pct(value) -> str:
    return "\u2013" if value is None else f"{value * 100:.2f} %"


@register.filter
def hours(value) -> str:
    return "\u2013" if value is None else f"{value:,.1f} h"


@register.filter
def interval_pct(estimate) -> str:
    if estimate.value is None:
        return "no data"
    return f"95 % CI {pct(estimate.low)} \u2013 {pct(estimate.high)}"


@register.filter
def interval_hours(estimate) -> str:
    if estimate.sample == 0:
        return "no data"
    high = "\u221e" if estimate.high is None else hours(estimate.high)
    return f"95 % CI {hours(estimate.low)} \u2013 {high}"


# What json_script escapes, so that JSON text cannot close or open a tag.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def json_text_script(text: str, element_id: str) -> str:
    """json_script for JSON that is already text (built by the database): escaped the
    same way, without decoding and encoding it again."""
    escaped = mark_safe(text.translate(JSON_SCRIPT_ESCAPES))
    return format_html('<script id="{}" type="application/json">{}</script>', element_id, escaped)


TIME_FORMATS = {"minutes": "%Y-%m-%d %H:%M", "seconds": "%Y-%m-%d %H:%M:%S"}


@register.filter
def time_tag(value, precision: str = "minutes") -> str:
    """A `<time>` element: the instant in ISO 8601 for machines, local time for people.

    One call where two date filters took a timezone conversion and a formatter walk
    each: the device page shows a hundred of them."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}">{}</time>', local.isoformat(), local.strftime(TIME_FORMATS[precision])
    )
