"""The symbolicate stage: coredumps become traces, one coredump or a batch at a time.

One code path for both: the per-coredump task is a batch of one. A batch costs a
handful of statements however many coredumps it holds:

1. Claim every coredump of the batch that can be claimed with one conditional
   `UPDATE ... RETURNING` (dre/leases.py); the others belong to another worker or
   were done already, and are left alone.
2. Load the claimed rows with one SELECT, keep their leases alive in one heartbeat.
3. Parse and symbolicate each, its variables left for the trace's first open
   (dre/crashes/variables.py); the READY symbol file of a build is looked up once
   per batch and its index loaded once per process (dre/symbols/cache.py). A coredump
   that waits for symbols, cannot be parsed or raises an unexpected error ends on its
   own; the rest of the batch goes on.
4. In one transaction: move the symbolicated rows to SYMBOLICATED with one fenced
   UPDATE, write their metadata with one bulk UPDATE and their traces with one
   `INSERT ... ON CONFLICT DO UPDATE`.
5. Once that commits, group the traces in this process (dre/crashes/group.py): one
   more transaction, not one Celery message per trace. If grouping fails, each trace
   is published to the grouping queue instead, so none is stuck.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import lz4.frame
from django.conf import settings
from django.db import transaction
from django.utils import timezone

import symbolicator
from dre import blobs, leases
from dre.celery import TRANSIENT_ERRORS
from dre.crashes import outbox
from dre.crashes.models import Coredump, Trace
from dre.crashes.titles import trace_title
from dre.fleet.services import (
    device_seen,
    device_versions_seen,
    hardware_version_get,
    software_version_get,
)
from dre.ingest.wire import RleError, rle_decode
from dre.sql import insert_rows, update_returning, update_rows
from dre.symbols.cache import symbol_index_load
from dre.symbols.models import SymbolFile
from dre.symbols.selectors import symbol_file_for

log = logging.getLogger(__name__)
State = Coredump.State
# What the coredump itself says, written with the stage's final state.
METADATA_FIELDS = [
    "format",
    "build_id",
    "trace_reason",
    "software_version",
    "hardware_version",
    "device",
]
# Coredumps one transaction finishes at most; a longer batch is cut into these.
BATCH_SIZE = 100


class LeaseLost(Exception):
    """Another worker claimed the coredump after our lease ran out; our work is void."""


@dataclass
class Symbolicated:
    coredump: Coredump
    symbol_file: SymbolFile
    data: dict


def coredump_symbolicate(coredump_id: int) -> None:
    """Parse the coredump, find its symbols and turn it into a Trace."""
    coredumps_symbolicate([coredump_id])


def coredumps_symbolicate(coredump_ids: list[int]) -> None:
    """Symbolicate and group the coredumps of `coredump_ids` that are waiting."""
    ids = sorted(set(coredump_ids))
    for start in range(0, len(ids), BATCH_SIZE):
        _batch(ids[start : start + BATCH_SIZE])


def _batch(coredump_ids: list[int]) -> None:
    tokens = leases.claim_many(Coredump, coredump_ids, [State.RECEIVED], State.PROCESSING)
    if not tokens:
        return
    # defer(None): the batch reads every coredump's bytes, so with the row, not one by one.
    coredumps = (
        Coredump.objects.select_related("project", "device").defer(None).filter(pk__in=tokens)
    )
    try:
        with leases.renewing(Coredump, tokens, State.PROCESSING):
            done = _symbolicate_each(sorted(coredumps, key=lambda c: c.pk))
            _finish(done)
    except TRANSIENT_ERRORS:
        held = leases.held_many(Coredump, tokens, State.PROCESSING)
        leases.hand_back(held, f"coredumps {sorted(tokens)}")
        raise  # the task retries with backoff


def _symbolicate_each(coredumps: list[Coredump]) -> list[Symbolicated]:
    ready: dict[tuple, SymbolFile] = {}
    done = []
    for coredump in coredumps:
        try:
            if (result := _symbolicate(coredump, ready)) is not None:
                done.append(result)
        except LeaseLost:
            log.warning("coredump %s: lease lost, another worker has it", coredump.pk)
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:
            log.exception("coredump %s: attempt %s failed", coredump.pk, coredump.attempts)
            leases.attempt_failed(
                Coredump,
                coredump.pk,
                coredump.attempts,
                State.PROCESSING,
                exc,
                outbox.queue_symbolicate,
            )
    return done


class CoredumpUnreadable(Exception):
    """A coredump's stored form does not expand: damaged RLE or LZ4, or over the limit."""


def coredump_bytes(coredump: Coredump) -> bytes:
    """The coredump itself, expanded from the stored form within MAX_COREDUMP_BYTES: from
    its row (small uploads kept there by group commit) or its blob. Raises
    CoredumpUnreadable, or OSError for a blob that cannot be read."""
    data = bytes(coredump.raw) if coredump.raw is not None else blobs.blob_read(coredump.blob)
    if coredump.encoding == Coredump.Encoding.RLE:
        try:
            return rle_decode(data, max_output=settings.MAX_COREDUMP_BYTES)
        except RleError as exc:
            raise CoredumpUnreadable(str(exc)) from exc
    if coredump.encoding == Coredump.Encoding.LZ4:
        return _lz4_decode(data, max_output=settings.MAX_COREDUMP_BYTES)
    return data


def _lz4_decode(data: bytes, max_output: int) -> bytes:
    """An LZ4 frame as _received_row writes it (it records the content size), within
    max_output bytes: a damaged row fails its coredump instead of filling memory."""
    try:
        size = lz4.frame.get_frame_info(data)["content_size"]
    except RuntimeError as exc:  # python-lz4's error for a damaged frame
        raise CoredumpUnreadable(f"its LZ4 frame is damaged: {exc}") from None
    if not 0 < size <= max_output:
        raise CoredumpUnreadable(f"its LZ4 frame holds {size} bytes; at most {max_output}")
    try:
        return lz4.frame.decompress(data)
    except RuntimeError as exc:
        raise CoredumpUnreadable(f"its LZ4 frame does not decode: {exc}") from None


def _symbolicate(coredump: Coredump, ready: dict) -> Symbolicated | None:
    try:
        parsed = symbolicator.parse_coredump(coredump_bytes(coredump))
    except (symbolicator.SymbolicatorError, CoredumpUnreadable) as exc:
        _fail(coredump, f"could not parse the coredump: {exc}", metadata=False)
        return None
    _read_metadata(coredump, parsed)
    symbol_file = _symbol_file_or_wait(coredump, ready)
    if symbol_file is None:
        return None
    try:
        index = symbol_index_load(symbol_file)
        # Variables are read on the trace's first open (dre/crashes/variables.py).
        trace = symbolicator.symbolicate(parsed, index, variables=False)
    except symbolicator.SymbolicatorError as exc:
        _fail(coredump, f"symbolication failed: {exc}")
        return None
    return Symbolicated(coredump, symbol_file, trace.to_dict())


def _read_metadata(coredump: Coredump, parsed: symbolicator.Coredump) -> None:
    """Set what the coredump says on the row; it is written with the final state."""
    project = coredump.project
    coredump.format = parsed.format
    coredump.build_id = parsed.build_id.hex() if parsed.build_id else ""
    coredump.trace_reason = parsed.trace_reason
    coredump.software_version = (
        software_version_get(project, parsed.software_type, parsed.software_version)
        or coredump.software_version
    )
    coredump.hardware_version = hardware_version_get(project, parsed.hardware_version)
    if coredump.device is None and parsed.device_serial:
        coredump.device = device_seen(project, parsed.device_serial)
    if coredump.device is not None:
        device_versions_seen(
            coredump.device,
            hardware_version=coredump.hardware_version,
            software_version=coredump.software_version,
        )


def _symbol_file_or_wait(coredump: Coredump, ready: dict) -> SymbolFile | None:
    """The READY symbol file of the coredump, else None once it waits for one.

    `ready` remembers the READY files the batch found: a READY file stays READY,
    so one SELECT per build and batch, with no lock and no transaction.
    """
    wanted = {
        "build_id": coredump.build_id,
        "software_version_id": coredump.software_version_id,
    }
    key = (coredump.project_id, *wanted.values())
    if key not in ready:
        found = symbol_file_for(coredump.project_id, **wanted)
        if found is not None and found.state == SymbolFile.State.READY:
            ready[key] = found
    if key in ready:
        return ready[key]
    with transaction.atomic():
        # Locking the symbol file row orders us against its indexer: either
        # we see it READY, or it sees us AWAITING_SYMBOLS when it releases.
        symbol_file = symbol_file_for(coredump.project_id, **wanted, lock=True)
        if symbol_file is None or symbol_file.state != SymbolFile.State.READY:
            _set_state(coredump, State.AWAITING_SYMBOLS)
            return None
    ready[key] = symbol_file
    return symbol_file


def _finish(done: list[Symbolicated]) -> None:
    """Write the batch's traces and move their coredumps on, in one transaction."""
    if not done:
        return
    tokens = {s.coredump.pk: s.coredump.attempts for s in done}
    now = timezone.now()
    with transaction.atomic():
        # Fenced: a coredump whose claim was lost (a stall past its lease) is not ours
        # to write; the others go on.
        moved = update_returning(
            leases.held_many(Coredump, tokens, State.PROCESSING),
            ["id"],
            state=State.SYMBOLICATED,
            state_changed=now,
            error="",
            traceback="",
            lease_expires=None,
            queued=now,  # grouped right after commit; see _group_after_commit
        )
        kept = [s for s in done if s.coredump.pk in {pk for (pk,) in moved}]
        for symbolicated in kept:
            symbolicated.coredump.symbol_file = symbolicated.symbol_file
        update_rows([s.coredump for s in kept], [*METADATA_FIELDS, "symbol_file"])
        _group_after_commit(_traces_save(kept))
    for lost in sorted(set(tokens) - {pk for (pk,) in moved}):
        log.warning("coredump %s: lease lost, another worker has it", lost)


def _traces_save(kept: list[Symbolicated]) -> dict[int, int]:
    """Insert the traces, or replace those an earlier attempt left: one statement
    (INSERT ... ON CONFLICT DO UPDATE) for the whole batch. {trace id: coredump id}."""
    now = timezone.now()
    rows = [
        {
            "coredump_id": s.coredump.pk,
            "project_id": s.coredump.project_id,
            "data": s.data,
            "title": trace_title(s.data),
            "fingerprint": "",
            "grouping": {},
            "created": now,
        }
        for s in kept
    ]
    replaced = ["project_id", "data", "title"]
    saved = insert_rows(
        Trace,
        rows,
        conflict=["coredump"],
        changes=[f"{column} = EXCLUDED.{column}" for column in replaced],
        returning=["id", "coredump"],
    )
    return dict(saved)


def _group_after_commit(traces: dict[int, int]) -> None:
    if traces:
        transaction.on_commit(lambda: _group_now(traces))


def _group_now(traces: dict[int, int]) -> None:
    """Group in this process; on failure, through the grouping queue one trace at a
    time (each publish is an outbox write), so a poison trace stops only itself."""
    from dre.crashes.group import traces_group
    from dre.crashes.tasks import group_trace

    try:
        traces_group(list(traces))
    except Exception:
        log.exception("grouping %s traces failed; each goes to the grouping queue", len(traces))
        for trace_id, coredump_id in traces.items():
            outbox.publish(group_trace, trace_id, coredump_id, State.SYMBOLICATED)


def _held(coredump: Coredump):
    """The coredump, if our claim on it still holds (`attempts` is its token)."""
    return leases.held(Coredump, coredump.pk, coredump.attempts, State.PROCESSING)


def _set_state(coredump: Coredump, state: str, error: str = "", metadata: bool = True) -> None:
    """End the stage in `state`, if the claim still holds, with what the coredump said."""
    changes = {name: getattr(coredump, name) for name in METADATA_FIELDS} if metadata else {}
    moved = _held(coredump).update(
        state=state, state_changed=timezone.now(), error=error, lease_expires=None, **changes
    )
    if not moved:
        raise LeaseLost(coredump.pk)


def _fail(coredump: Coredump, error: str, metadata: bool = True) -> None:
    log.warning("coredump %s failed: %s", coredump.pk, error)
    _set_state(coredump, State.FAILED, error, metadata)
