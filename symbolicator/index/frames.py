"""Which FDE covers an address, over .debug_frame and .eh_frame.

Only FDE ranges and offsets are indexed; the section bytes are kept so an
unwind step parses just the one FDE it needs.
"""

from __future__ import annotations

import bisect

from symbolicator.cfi import Fde, FrameSection, iter_fdes, parse_fde_at
from symbolicator.index.container import as_u32_array, u32_array

SOURCES = ("debug_frame", "eh_frame")


class FrameTable:
    def __init__(self, sections: dict[str, FrameSection], starts, ends, offsets, sources):
        self._sections = sections
        self._starts, self._ends, self._offsets, self._sources = starts, ends, offsets, sources
        self._cache: dict[int, Fde] = {}

    @classmethod
    def build(cls, sections: dict[str, FrameSection]) -> FrameTable:
        entries = []
        # .debug_frame first: where both describe a function GDB prefers it too.
        for source_id, name in enumerate(SOURCES):
            if name in sections:
                for fde in iter_fdes(sections[name]):
                    if fde.end > fde.start:
                        entries.append((fde.start, fde.end, fde.offset, source_id))
        entries.sort(key=lambda e: (e[0], e[3]))
        kept = []
        for entry in entries:
            if not kept or entry[0] >= kept[-1][1]:
                kept.append(entry)
        columns = list(zip(*kept, strict=True)) if kept else [[], [], [], []]
        return cls(sections, *(list(c) for c in columns))

    def fde_for(self, address: int) -> Fde | None:
        index = bisect.bisect_right(self._starts, address) - 1
        if index < 0 or address >= self._ends[index]:
            return None
        if index not in self._cache:
            section = self._sections[SOURCES[self._sources[index]]]
            self._cache[index] = parse_fde_at(section, self._offsets[index])
        return self._cache[index]

    def __len__(self) -> int:
        return len(self._starts)

    def sections(self) -> tuple[dict, dict[str, bytes]]:
        meta = {name: section.address for name, section in self._sections.items()}
        blobs = {f"frames.section.{name}": s.data for name, s in self._sections.items()}
        blobs.update(
            {
                "frames.starts": u32_array(self._starts),
                "frames.ends": u32_array(self._ends),
                "frames.offsets": u32_array(self._offsets),
                "frames.sources": u32_array(self._sources),
            }
        )
        return meta, blobs

    @classmethod
    def from_sections(cls, meta: dict, sections) -> FrameTable:
        frame_sections = {
            name: FrameSection(
                bytes(sections[f"frames.section.{name}"]), address, name == "eh_frame"
            )
            for name, address in meta.items()
        }
        return cls(
            frame_sections,
            *(
                as_u32_array(sections[f"frames.{n}"])
                for n in ("starts", "ends", "offsets", "sources")
            ),
        )
