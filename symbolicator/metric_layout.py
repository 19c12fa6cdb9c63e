"""What a Memfault-SDK firmware's ELF says about its heartbeat metrics.

Devices send heartbeat values by position; names, types and scale stay in the ELF
(memfault-elf-metadata.md, "Heartbeat and session metrics"):

1. enumerators `kMfltMetricsSessionKey_<session>` give each session's index;
2. enumerators `kMfltMetricsIndex_<session>__<key>` give every metric's index, across
   all sessions; a session's array holds its own metrics in index order;
3. the `.rodata` array `s_memfault_heartbeat_keys` of `sMemfaultMetricKVPair`, one per
   metric index, gives type, min, range, session and scale. Member offsets and sizes are
   read from DWARF, never assumed.

Without the key table the names still resolve, with unknown type and scale 1.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from symbolicator.errors import ElfError

SESSION_PREFIX = "kMfltMetricsSessionKey_"
METRIC_PREFIX = "kMfltMetricsIndex_"
TRACE_REASON_PREFIX = "kMfltTraceReasonUser_"
KEY_TABLE = "s_memfault_heartbeat_keys"
# kMemfaultMetricType_* in the SDK's ids_impl.h.
METRIC_TYPES = {0: "unsigned", 1: "signed", 2: "timer", 3: "string"}
DW_OP_ADDR = 0x03


@dataclass(frozen=True)
class MetricKey:
    index: int
    session: str
    name: str
    type: str  # unsigned, signed, timer, string; "gauge" when the ELF has no key table
    scale: int = 1
    minimum: int | None = None
    range: int | None = None


@dataclass
class MetricLayout:
    sessions: dict[int, str] = field(default_factory=dict)
    metrics: list[MetricKey] = field(default_factory=list)
    trace_reasons: dict[int, str] = field(default_factory=dict)

    def session_metrics(self, session_index: int) -> list[MetricKey]:
        name = self.sessions.get(session_index)
        return sorted((m for m in self.metrics if m.session == name), key=lambda m: m.index)


def read_metric_layout(elf_data: bytes) -> MetricLayout:
    """Read the layout; an ELF without the SDK's metric enums gives an empty layout."""
    try:
        elf = ELFFile(io.BytesIO(elf_data))
        if not elf.has_dwarf_info():
            raise ElfError("the ELF has no DWARF, so no metric names")
        enumerators, table = _scan(elf.get_dwarf_info())
        rows = _key_table(elf, table) if table is not None else {}
    except ELFError as exc:
        raise ElfError(f"unreadable ELF: {exc}") from exc
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        # DWARF that lacks an attribute the SDK's compilers always emit.
        raise ElfError(f"the ELF's metric metadata is malformed: {exc!r}") from exc
    return _layout(enumerators, rows)


def _scan(dwarf) -> tuple[dict[str, int], object | None]:
    """Every enumerator with one of our prefixes, and the key table's DIE."""
    enumerators: dict[str, int] = {}
    table = None
    prefixes = (SESSION_PREFIX, METRIC_PREFIX, TRACE_REASON_PREFIX)
    for unit in dwarf.iter_CUs():
        for die in unit.iter_DIEs():
            name = _name(die)
            if die.tag == "DW_TAG_enumerator" and name and name.startswith(prefixes):
                enumerators[name] = die.attributes["DW_AT_const_value"].value
            elif die.tag == "DW_TAG_variable" and name == KEY_TABLE and _address(die):
                table = die
    return enumerators, table


def _name(die) -> str | None:
    attribute = die.attributes.get("DW_AT_name")
    return attribute.value.decode("utf-8", "replace") if attribute else None


def _address(die) -> int | None:
    location = die.attributes.get("DW_AT_location")
    if location is None or not isinstance(location.value, list):
        return None
    expr = location.value
    if len(expr) != 5 or expr[0] != DW_OP_ADDR:
        return None
    return int.from_bytes(bytes(expr[1:5]), "little")


def _strip(die):
    """Follow typedef, const and volatile to the type that has the layout."""
    while die.tag in ("DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type"):
        die = die.get_DIE_from_attribute("DW_AT_type")
    return die


def _key_table(elf: ELFFile, variable) -> dict[int, dict[str, int]]:
    """The key table's rows by metric index, each a dict of member name to value."""
    array = _strip(variable.get_DIE_from_attribute("DW_AT_type"))
    struct = _strip(array.get_DIE_from_attribute("DW_AT_type"))
    size = struct.attributes["DW_AT_byte_size"].value
    members = [_member(child) for child in struct.iter_children()]
    count = _array_length(array)
    data = _read(elf, _address(variable), size * count)
    rows = {}
    for row in range(count):
        base = row * size
        values = {
            name: int.from_bytes(data[base + offset : base + offset + width], "little")
            for name, offset, width in members
        }
        rows[values["key"]] = values
    return rows


def _member(die) -> tuple[str, int, int]:
    kind = _strip(die.get_DIE_from_attribute("DW_AT_type"))
    width = kind.attributes["DW_AT_byte_size"].value
    return _name(die), die.attributes["DW_AT_data_member_location"].value, width


def _array_length(array) -> int:
    for child in array.iter_children():
        if child.tag == "DW_TAG_subrange_type":
            if "DW_AT_count" in child.attributes:
                return child.attributes["DW_AT_count"].value
            return child.attributes["DW_AT_upper_bound"].value + 1
    raise ElfError(f"{KEY_TABLE} has no array bounds in DWARF")


def _read(elf: ELFFile, address: int, size: int) -> bytes:
    for section in elf.iter_sections():
        start = section["sh_addr"]
        if section["sh_type"] == "SHT_NOBITS" or not start:
            continue
        if start <= address and address + size <= start + section["sh_size"]:
            return section.data()[address - start : address - start + size]
    raise ElfError(f"{KEY_TABLE} at 0x{address:08x} is not in a loaded section")


def _layout(enumerators: dict[str, int], rows: dict[int, dict[str, int]]) -> MetricLayout:
    layout = MetricLayout()
    for name, value in enumerators.items():
        if name.startswith(SESSION_PREFIX) and not name.endswith("_COUNT"):
            layout.sessions[value] = name[len(SESSION_PREFIX) :]
        elif name.startswith(TRACE_REASON_PREFIX) and not name.endswith("_NumReasons"):
            layout.trace_reasons[value] = name[len(TRACE_REASON_PREFIX) :]
        elif name.startswith(METRIC_PREFIX) and "__" in name:
            session, key = name[len(METRIC_PREFIX) :].split("__", 1)
            layout.metrics.append(_metric(value, session, key, rows.get(value)))
    return layout


def _metric(index: int, session: str, key: str, row: dict[str, int] | None) -> MetricKey:
    if row is None:
        return MetricKey(index, session, key, "gauge")
    kind = METRIC_TYPES.get(row.get("type"), "gauge")
    minimum = row.get("min")
    if kind == "signed" and minimum is not None and minimum >= 1 << 31:
        minimum -= 1 << 32  # the SDK stores a signed minimum in its uint32_t member
    return MetricKey(
        index,
        session,
        key,
        kind,
        scale=row.get("scale_value") or 1,
        minimum=minimum,
        range=row.get("range"),
    )
