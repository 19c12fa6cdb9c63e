"""Call sites per function: where each call returns, what it calls, and whether it is a
tail call (DWARF 5 section 3.4). GDB builds TAILCALL frames from these."""

from __future__ import annotations

from dataclasses import dataclass

from symbolicator.index.container import as_u32_array, u32_array

NO_TARGET = 0xFFFFFFFF


@dataclass(frozen=True)
class CallSite:
    pc: int  # the return address (DW_AT_call_return_pc)
    target: int | None  # entry address of the called function, when DWARF names it
    tail: bool


class CallSiteTable:
    def __init__(self, pcs, targets, tails, group_starts):
        self._pcs, self._targets, self._tails = pcs, targets, tails
        self._group_starts = group_starts

    @classmethod
    def build(cls, groups: list[list[tuple[int, int | None, bool]]]) -> CallSiteTable:
        pcs, targets, tails, starts = [], [], [], [0]
        for group in groups:
            for pc, target, tail in sorted(group, key=lambda site: site[0]):
                pcs.append(pc)
                targets.append(NO_TARGET if target is None else target)
                tails.append(int(tail))
            starts.append(len(pcs))
        return cls(pcs, targets, tails, starts)

    def _group(self, function: int) -> range:
        if function + 1 >= len(self._group_starts):
            return range(0)
        return range(self._group_starts[function], self._group_starts[function + 1])

    def _site(self, i: int) -> CallSite:
        target = self._targets[i]
        return CallSite(self._pcs[i], None if target == NO_TARGET else target, bool(self._tails[i]))

    def at(self, function: int, return_pc: int) -> CallSite | None:
        for i in self._group(function):
            if self._pcs[i] == return_pc:
                return self._site(i)
        return None

    def tail_calls(self, function: int) -> list[CallSite]:
        return [self._site(i) for i in self._group(function) if self._tails[i]]

    def sections(self) -> dict[str, bytes]:
        return {
            "calls.pcs": u32_array(self._pcs),
            "calls.targets": u32_array(self._targets),
            "calls.tails": u32_array(self._tails),
            "calls.groups": u32_array(self._group_starts),
        }

    @classmethod
    def from_sections(cls, sections) -> CallSiteTable:
        return cls(
            *(as_u32_array(sections[f"calls.{n}"]) for n in ("pcs", "targets", "tails", "groups"))
        )
