"""What needs the ELF of the exact build: trace reason names, PC/LR, compact log formats.

A trace event or compact log names its build by the build-id prefix it carries, else by
software type and version (memfault-elf-metadata.md). Until that ELF is uploaded and
indexed the row waits as `awaiting_symbols`, like a coredump; `diagnostics_release_for`
resolves the waiting ones when it arrives. A resolved trace event is handed to the
crashes app, which groups it into an issue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from threading import Lock

import cbor2
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

import symbolicator
from dre import blobs
from dre.crashes.grouping.trace_events import TraceEventFacts
from dre.crashes.trace_events import TraceEventOccurrence, trace_event_group
from dre.diagnostics.models import LogLine, State, TraceEvent
from dre.symbols.cache import symbol_index_load
from dre.symbols.models import SymbolFile
from dre.symbols.selectors import symbol_file_for
from symbolicator.addr2line import addr2line

log = logging.getLogger(__name__)
FACTS_CACHE_SIZE = 32
_facts: dict[tuple[int, str], BuildFacts] = {}
_lock = Lock()


@dataclass(frozen=True)
class BuildFacts:
    """What one ELF says about trace events and logs, read once per symbol file."""

    trace_reasons: dict[int, str]
    log_formats: symbolicator.LogFormats | None
    problems: tuple[str, ...] = ()


def build_facts(symbol_file: SymbolFile) -> BuildFacts:
    key = (symbol_file.pk, symbol_file.md5)
    with _lock:
        if key in _facts:
            return _facts[key]
    facts = _read_facts(blobs.blob_read(symbol_file.blob))
    with _lock:
        if len(_facts) >= FACTS_CACHE_SIZE:
            _facts.pop(next(iter(_facts)))
        _facts[key] = facts
    return facts


def build_facts_cache_clear() -> None:
    with _lock:
        _facts.clear()


def _read_facts(elf: bytes) -> BuildFacts:
    problems = []
    try:
        reasons = symbolicator.read_metric_layout(elf).trace_reasons
    except symbolicator.SymbolicatorError as exc:
        reasons, problems = {}, [f"no trace reasons: {exc}"]
    try:
        formats = symbolicator.read_log_formats(elf)
    except symbolicator.SymbolicatorError as exc:
        formats = None
        problems.append(f"no log formats: {exc}")
    return BuildFacts(reasons, formats, tuple(problems))


def _ready_symbol_file(project_id: int, build_id_prefix: str, software_version_id):
    symbol_file = symbol_file_for(
        project_id,
        build_id=None,
        build_id_prefix=build_id_prefix or None,
        software_version_id=software_version_id,
    )
    if symbol_file is None or symbol_file.state != SymbolFile.State.READY:
        return None
    return symbol_file


# -- trace events ----------------------------------------------------------------------


def trace_event_resolve(trace_event_id: int) -> None:
    """Name, symbolicate and group one waiting trace event (idempotent)."""
    with transaction.atomic():
        row = (
            TraceEvent.objects.select_for_update()
            .filter(pk=trace_event_id, state=State.AWAITING_SYMBOLS)
            .first()
        )
        if row is None:
            return
        symbol_file = _ready_symbol_file(
            row.project_id, row.build_id_prefix, row.software_version_id
        )
        if symbol_file is None:
            return
        facts = build_facts(symbol_file)
        index = symbol_index_load(symbol_file)
        row.reason_name = facts.trace_reasons.get(row.reason, "")
        row.pc_location = location(index, row.pc)
        row.lr_location = location(index, row.lr)
        if row.log and row.log.get("status") == "awaiting_symbols":
            row.log = symbolicator.render_compact_log(
                facts.log_formats, row.log["compact"]
            ).to_dict()
        _group(row)
        row.state = State.RESOLVED
        row.save()


def location(index, address: int | None) -> dict | None:
    """Function, file and line of a PC or LR, with a status as frames carry one."""
    if address is None:
        return None
    # Thumb code addresses have bit 0 set in LR; the instruction is at the even address.
    function, file, line = addr2line(index, address & ~1)[-1]
    if function == "??":
        return {"address": address, "status": "missing_symbol"}
    return {
        "address": address,
        "function": function,
        "file": None if file == "??" else file,
        "line": line or None,
        "status": "symbolicated",
    }


def _function(found: dict | None) -> str | None:
    return (found or {}).get("function")


def _group(row: TraceEvent) -> None:
    facts = TraceEventFacts(
        reason=row.reason,
        reason_name=row.reason_name,
        pc_function=_function(row.pc_location),
        lr_function=_function(row.lr_location),
        pc=row.pc,
        lr=row.lr,
        status_code=row.status_code,
    )
    grouped = trace_event_group(
        TraceEventOccurrence(
            project_id=row.project_id,
            occurrence_id=row.pk,
            facts=facts,
            received=row.received,
            captured=row.time if row.time_known else None,
            device_id=row.device_id,
            software_version_id=row.software_version_id,
            hardware_version_id=row.hardware_version_id,
        )
    )
    row.issue_id = grouped.issue_id
    row.fingerprint = grouped.fingerprint
    row.grouping = grouped.grouping


# -- compact logs ----------------------------------------------------------------------


def log_lines_resolve(project_id: int, source_event_id: int) -> int:
    """Render the waiting compact lines of one event; how many were rendered."""
    with transaction.atomic():
        lines = list(
            LogLine.objects.select_for_update().filter(
                project_id=project_id, source_event_id=source_event_id, state=State.AWAITING_SYMBOLS
            )
        )
        if not lines:
            return 0
        symbol_file = _ready_symbol_file(
            project_id, lines[0].build_id_prefix, lines[0].software_version_id
        )
        if symbol_file is None:
            return 0
        formats = build_facts(symbol_file).log_formats
        for line in lines:
            _render(line, formats)
        LogLine.objects.bulk_update(lines, ["text", "status", "detail", "state"])
    return len(lines)


def _render(line: LogLine, formats) -> None:
    raw = bytes.fromhex(line.detail.get("raw", ""))
    try:
        value = cbor2.loads(raw)
    except (cbor2.CBORDecodeError, ValueError, RecursionError) as exc:
        value = None
        log.info("log line %s: compact log is not CBOR: %s", line.pk, exc)
    rendered = symbolicator.render_compact_log(formats, value).to_dict()
    line.text = rendered.pop("text")
    line.status = rendered.pop("status")
    line.detail = {**line.detail, **rendered}
    line.state = State.RESOLVED


# -- release -----------------------------------------------------------------------------


def diagnostics_release_for(symbol_file: SymbolFile) -> int:
    """Queue the trace events and compact logs that waited for this ELF."""
    from dre.diagnostics.tasks import resolve_log_lines, resolve_trace_event

    events = _matching(TraceEvent, symbol_file).values_list("pk", flat=True)
    for pk in list(events):
        resolve_trace_event.delay_on_commit(pk)
    lines = _matching(LogLine, symbol_file).values_list("source_event_id", flat=True).distinct()
    lines = list(lines)
    for source_event_id in lines:
        resolve_log_lines.delay_on_commit(symbol_file.project_id, source_event_id)
    return len(events) + len(lines)


def _matching(model, symbol_file: SymbolFile):
    waiting = model.objects.filter(project_id=symbol_file.project_id, state=State.AWAITING_SYMBOLS)
    matched = waiting.none()
    if symbol_file.build_id:
        # Events carry the first 5-20 bytes of the build id (memfault-formats.md 1.8).
        prefixes = [symbol_file.build_id[:n] for n in range(10, 41, 2)]
        matched = waiting.filter(build_id_prefix__in=prefixes)
    if symbol_file.software_version_id:
        matched = matched | waiting.filter(
            build_id_prefix="", software_version_id=symbol_file.software_version_id
        )
    return matched


# -- sweep -------------------------------------------------------------------------------

SWEEP_AFTER = timedelta(minutes=5)
SWEEP_BATCH = 500


def diagnostics_sweep_waiting(now=None) -> int:
    """Re-queue waiting rows whose ELF is READY: their task was lost (the broker was down
    when the request or the indexer committed). Rows whose ELF is still missing stay."""
    from dre.diagnostics.tasks import resolve_log_lines, resolve_trace_event

    before = (now or timezone.now()) - SWEEP_AFTER
    ready = _ready_builds()
    events = _waiting(TraceEvent, before, ready).values_list("pk", flat=True)[:SWEEP_BATCH]
    for pk in list(events):
        resolve_trace_event.delay(pk)
    lines = _waiting(LogLine, before, ready).values_list("project_id", "source_event_id")
    lines = list(lines.distinct()[:SWEEP_BATCH])
    for project_id, source_event_id in lines:
        resolve_log_lines.delay(project_id, source_event_id)
    return len(events) + len(lines)


def _ready_builds() -> Q:
    """Rows an indexed symbol file matches: by build-id prefix, else by version."""
    files = SymbolFile.objects.filter(state=SymbolFile.State.READY)
    by_version = files.filter(
        project=OuterRef("project"), software_version=OuterRef("software_version")
    )
    by_build = files.filter(
        project=OuterRef("project"), build_id__startswith=OuterRef("build_id_prefix")
    )
    return (Q(build_id_prefix="") & Exists(by_version)) | (
        ~Q(build_id_prefix="") & Exists(by_build)
    )


def _waiting(model, before, ready: Q):
    return model.objects.filter(ready, state=State.AWAITING_SYMBOLS, received__lt=before)
