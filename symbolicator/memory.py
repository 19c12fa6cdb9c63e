"""One reader over everything known about the target's memory.

The coredump's captured regions come first; the ELF's read-only sections
(code, constant data) fill in addresses the device did not capture, since
they cannot have changed. Anything else is an explicit UnreadableMemory,
never zeros: a guessed value would look like a real one in a trace.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from symbolicator.errors import UnreadableMemory

SOURCE_COREDUMP = "coredump"
SOURCE_ELF = "elf"


@dataclass(frozen=True)
class Span:
    address: int
    data: bytes
    source: str

    @property
    def end(self) -> int:
        return self.address + len(self.data)


class Memory:
    def __init__(self, captured: Iterable[Span], fallback: Iterable[Span] = ()):
        self._captured = _sorted_spans(captured)
        self._fallback = _sorted_spans(fallback)

    @classmethod
    def from_coredump(cls, coredump, elf=None) -> Memory:
        captured = [Span(r.address, r.data, SOURCE_COREDUMP) for r in coredump.regions]
        fallback = []
        if elf is not None:
            fallback = [Span(s.address, s.data, SOURCE_ELF) for s in elf.read_only_sections]
        return cls(captured, fallback)

    def read(self, address: int, size: int) -> bytes:
        """Read `size` bytes, stitching neighbouring spans; raise if any byte is unknown."""
        span = self.span_at(address)
        if span is not None and address + size <= span.end:  # the usual case: one span
            return bytes(span.data[address - span.address : address - span.address + size])
        out = bytearray()
        cursor = address
        while cursor < address + size:
            span = self.span_at(cursor)
            if span is None:
                raise UnreadableMemory(address, size)
            take = min(span.end, address + size) - cursor
            offset = cursor - span.address
            out += span.data[offset : offset + take]
            cursor += take
        return bytes(out)

    def read_u32(self, address: int) -> int:
        return struct.unpack("<I", self.read(address, 4))[0]

    def can_read(self, address: int, size: int = 1) -> bool:
        try:
            self.read(address, size)
        except UnreadableMemory:
            return False
        return True

    def span_at(self, address: int) -> Span | None:
        """The span holding `address`, captured memory before the ELF's."""
        return _find(self._captured, address) or _find(self._fallback, address)

    def source_of(self, address: int) -> str | None:
        span = self.span_at(address)
        return span.source if span else None

    @property
    def captured_spans(self) -> list[Span]:
        return [span for _, span in self._captured]


def _sorted_spans(spans: Iterable[Span]) -> list[tuple[int, Span]]:
    """Sort spans and trim overlaps so each address belongs to one span.

    A device may capture the same window twice (a stack inside a RAM region);
    the span that starts first keeps the overlapping bytes.
    """
    flat: list[Span] = []
    for span in sorted((s for s in spans if s.data), key=lambda s: s.address):
        if flat and span.address < flat[-1].end:
            skip = flat[-1].end - span.address
            if skip >= len(span.data):
                continue
            span = Span(span.address + skip, span.data[skip:], span.source)
        flat.append(span)
    return [(s.address, s) for s in flat]


def _find(spans: list[tuple[int, Span]], address: int) -> Span | None:
    index = bisect.bisect_right(spans, address, key=lambda pair: pair[0]) - 1
    if index < 0:
        return None
    span = spans[index][1]
    return span if address < span.end else None
