"""The issue list's small pictures, drawn on the server: no script, nothing to load."""

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()

BAR, GAP, HEIGHT = 3, 1, 20


@register.filter
def sparkline(counts: list[int]):
    """An inline SVG bar chart of `counts`, oldest first; each bar's title says its count."""
    peak = max(counts, default=0) or 1
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        (
            (
                n * (BAR + GAP),
                HEIGHT - _height(count, peak),
                BAR,
                _height(count, peak),
                f"{len(counts) - n - 1} h ago: {count}",
            )
            for n, count in enumerate(counts)
        ),
    )
    total = sum(counts)
    return format_html(
        '<svg class="sparkline" width="{}" height="{}" role="img" aria-label="{}" '
        'data-total="{}">{}</svg>',
        len(counts) * (BAR + GAP),
        HEIGHT,
        f"{total} trace{'s' if total != 1 else ''} in the last {len(counts)} hours",
        total,
        bars,
    )


def _height(count: int, peak: int) -> int:
    # A bar with any traces stays visible (1 px) next to a much taller one.
    return 0 if count == 0 else max(1, round(HEIGHT * count / peak))
