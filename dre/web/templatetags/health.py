"""Showing estimates: a value with its 95 % interval and the sample behind it."""

from django import template

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
