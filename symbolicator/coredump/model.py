"""The format-neutral view of a coredump that every parser produces."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MemoryRegion:
    """Bytes the device captured, starting at `address` on the target."""

    address: int
    data: bytes

    @property
    def end(self) -> int:
        return self.address + len(self.data)


@dataclass
class Coredump:
    """One crash as the device described it, before any symbolication.

    `registers` holds the context of the code that crashed (the pre-exception
    context for Cortex-M: pc is the faulting instruction, sp the SP before the
    exception frame was pushed), keyed by lower-case register name.
    """

    format: str
    registers: dict[str, int]
    regions: list[MemoryRegion] = field(default_factory=list)
    machine: int | None = None
    build_id: bytes | None = None
    device_serial: str | None = None
    software_type: str | None = None
    software_version: str | None = None
    hardware_version: str | None = None
    trace_reason: int | None = None
    truncated: bool = False
    other_cpus: list[dict[str, int]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)
    # How `registers` were made when the parser had to correct the dump (shown as the
    # crashed thread's first frame hint), or None when they are as the device wrote them.
    context_hint: str | None = None

    def region_at(self, address: int) -> MemoryRegion | None:
        for region in self.regions:
            if region.address <= address < region.end:
                return region
        return None
