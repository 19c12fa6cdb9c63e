"""Group commit: one INSERT and one commit for the rows of many concurrent requests.

Every device request that stores something pays a commit, and a commit waits
for PostgreSQL's WAL flush (an fsync). Under gunicorn's threads many requests
wait at the same moment, so a process lets them share it: the first request
that finds no write under way becomes the *leader*, takes every row waiting
(its own included), writes them in one statement on its own connection and
hands each request its result; the requests that arrived meanwhile wait for the
leader and the next of them leads the next group. No thread of its own, no
timer: a lone request writes at once, exactly as before, and the groups grow
only with the load (classic leader/follower group commit).

Durability is not traded: a request answers only after the statement that
holds its row committed (`synchronous_commit` stays on). A write that fails
fails every request of its group with the same error, which each request then
answers as it would have answered its own failure.

A caller inside a transaction (a test's, or a chunk request's) writes inline:
its row must commit, or roll back, with that transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

# Rows per statement at most: bounds the statement's size and a group's latency.
MAX_GROUP = 100


@dataclass
class _Slot:
    item: Any
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    lead: list[_Slot] | None = None  # the group this request writes, as its leader
    # Held while the request waits; released once, when its slot is done or handed a
    # group: each waiting request is woken exactly once.
    wake: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class GroupCommit:
    """`write(items) -> results` (same order, one statement, committed when it
    returns) shared by the threads of a process; `submit(item)` is one request's
    part in it. `after(results)` runs once per committed group, after its requests
    were released (one broker publish per group, not per request)."""

    write: Callable[[list], list]
    after: Callable[[list], None] | None = None
    max_group: int = MAX_GROUP
    _waiting: list[_Slot] = field(default_factory=list)
    _writing: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    groups: int = 0  # written so far in this process: the bench and tests read them
    rows: int = 0

    def submit(self, item):
        if connection.in_atomic_block:
            results = self.write([item])
            if self.after is not None:
                after = self.after
                transaction.on_commit(lambda: after(results))
            return results[0]
        slot = _Slot(item)
        with self._lock:
            # Nothing waits while nothing is written: a leader hands the waiting
            # requests on (_release) before it lets go.
            waits = self._writing
            if waits:
                slot.wake.acquire()
                self._waiting.append(slot)
            else:
                self._writing = True
                slot.lead = [slot]
        if waits:
            slot.wake.acquire()  # until done, or handed the next group to write
            if slot.done:
                return _outcome(slot)
        self._lead(slot.lead)
        return _outcome(slot)

    def _take(self) -> list[_Slot]:
        """The next group, led by its first request; the caller holds the lock."""
        group, self._waiting = self._waiting[: self.max_group], self._waiting[self.max_group :]
        group[0].lead = group
        return group

    def _lead(self, group: list[_Slot]) -> None:
        results = None
        try:
            results = self.write([slot.item for slot in group])
        except BaseException as exc:  # each request of the group answers its failure
            for slot in group:
                slot.error = exc
        else:
            for slot, result in zip(group, results, strict=True):
                slot.result = result
        finally:
            self._release(group)
        if results is not None and self.after is not None:
            self.after(results)

    def _release(self, group: list[_Slot]) -> None:
        """Wake the group's requests, and hand the requests that arrived meanwhile
        to the first of them, which writes them next. One wake-up per request: a
        condition's notify_all would wake every waiting thread after each group."""
        with self._lock:
            for slot in group:
                slot.done = True
            self.groups += 1
            self.rows += len(group)
            following = self._take() if self._waiting else None
            self._writing = following is not None
        for slot in group[1:]:  # the first is the leader, the caller
            slot.wake.release()
        if following is not None:
            following[0].wake.release()


def _outcome(slot: _Slot):
    if slot.error is not None:
        raise slot.error
    return slot.result
