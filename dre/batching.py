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

What need not wait for its commit goes behind the request instead: a WriteBehind
queues items for a thread of the process (a Drainer) to write in batches; a
BatchPublisher is one for the ids group commit hands to the broker.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import (
    DatabaseError,
    IntegrityError,
    close_old_connections,
    connection,
    connections,
    transaction,
)

log = logging.getLogger(__name__)

# Rows per statement at most: bounds the statement's size and a group's latency.
MAX_GROUP = 100


@dataclass
class _Slot:
    """One request's item, and the lock it sleeps on: held from its creation and
    released by the thread that wakes it (to hand it its result, or the lead)."""

    item: Any
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    wake: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.wake.acquire()


@dataclass
class GroupCommit:
    """`write(items) -> results` (same order, one statement, committed when it
    returns) shared by the threads of a process; `submit(item)` is one request's
    part in it. With a `publisher` (BatchPublisher), each committed group's results,
    the ids of its rows, are handed to it once its requests were released; a request
    inside a transaction publishes its own at that transaction's commit, in its own
    thread (a test's eager task must see the rows on its connection).

    Each waiting request sleeps on its own lock and is woken once: by the leader
    that wrote its row, or to lead the next group. (A shared condition notified to
    all woke every waiting thread at every group, most of them only to sleep again:
    with 32 threads per worker that cost more CPU than the write.)
    """

    write: Callable[[list], list]
    publisher: BatchPublisher | None = None
    max_group: int = MAX_GROUP
    _waiting: list[_Slot] = field(default_factory=list)
    _writing: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    groups: int = 0  # written so far in this process: the bench and tests read them
    rows: int = 0

    def submit(self, item):
        if connection.in_atomic_block:
            results = self.write([item])
            if self.publisher is not None:
                transaction.on_commit(lambda: self.publisher.publish(results))
            return results[0]
        slot = _Slot(item)
        with self._lock:
            self._waiting.append(slot)
            leads = not self._writing
            if leads:
                self._writing = True
        if not leads:
            slot.wake.acquire()  # until its group was written, or it is to lead
            if slot.done:
                return _outcome(slot)
        self._lead(self._take())
        return _outcome(slot)

    def _take(self) -> list[_Slot]:
        """The next group, the leader's own slot first among them."""
        with self._lock:
            group = self._waiting[: self.max_group]
            del self._waiting[: self.max_group]
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
        if results is not None and self.publisher is not None:
            self.publisher.add(results)

    def _release(self, group: list[_Slot]) -> None:
        """Wake the group's requests, and the first request still waiting to lead the
        next group (it stays `_writing` meanwhile, so no one else leads)."""
        with self._lock:
            self.groups += 1
            self.rows += len(group)
            following = self._waiting[0] if self._waiting else None
            self._writing = following is not None
        for slot in group[1:]:  # the first is the leader's own, awake
            slot.done = True
            slot.wake.release()
        group[0].done = True
        if following is not None:
            following.wake.release()


def _outcome(slot: _Slot):
    if slot.error is not None:
        raise slot.error
    return slot.result


class Drainer:
    """A thread of this process that calls `drain()` `delay` seconds after a `wake()`:
    what callers queue meanwhile goes out in one go, off their requests' paths.

    The thread starts with the first wake in each process: gunicorn forks its workers
    after importing the app, and threads do not survive a fork. `drain` handles its
    own failures; anything it lets escape is logged, and the thread goes on.
    """

    def __init__(self, drain: Callable[[], None], delay: float, name: str):
        self._drain, self._delay, self._name = drain, delay, name
        self._forked()
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        """No thread yet, and new locks: a parent's thread may have held one at the fork."""
        self._due = threading.Event()
        self._start_lock = threading.Lock()
        self._draining = threading.Lock()
        self._started = False

    def wake(self) -> None:
        if not self._started:
            with self._start_lock:
                if not self._started:
                    threading.Thread(target=self._run, name=self._name, daemon=True).start()
                    self._started = True
        self._due.set()

    def _run(self) -> None:
        while True:
            self._due.wait()
            time.sleep(self._delay)  # gather what the next moments queue
            with self._draining:
                self._due.clear()
                try:
                    self._drain()
                except Exception:
                    log.exception("%s: drain failed; the thread goes on", self._name)

    def settle(self) -> None:
        """Return once no drain is due or under way (tests that stop waking it)."""
        while self._due.is_set():
            time.sleep(0.005)
        with self._draining:
            pass


# How long ids handed to a BatchPublisher may wait to be published with later ones.
# A publish costs about a millisecond of CPU (Celery's message, kombu, the round
# trip): at 50 ms a busy process spent 0.04 ms of each heartbeat request on it, at
# 200 ms a quarter of that; a crash or heartbeat reaches its queue that much later.
PUBLISH_INTERVAL = 0.2


class WriteBehind:
    """Items appended by a process's threads, handed to `write(batch)` off their
    requests' paths by a thread of the process (a Drainer) `every` seconds after the
    first came, in order, `max_batch` at a time (all that wait, by default).

    - A write that fails on the database keeps its batch, in front, for the next.
    - One that a constraint refuses is tried again one item at a time, and only the
      items refused alone are dropped, logged.
    - Any other failure drops its batch, logged, and the next batch goes on.
    - Past `limit` items waiting, `append` refuses one (False): its caller writes it.
    - At exit what waits is written; a forked child starts empty, what the parent
      queued being the parent's to write.
    """

    def __init__(self, write, every: float, limit: int | None = None, *, max_batch=None):
        self._write, self._limit, self._max_batch = write, limit, max_batch
        self._name = getattr(write, "__name__", "write")
        self._drainer = Drainer(self._write_waiting, every, f"write-behind {self._name}")
        self._forked()
        os.register_at_fork(after_in_child=self._forked)
        atexit.register(self.flush)

    def _forked(self) -> None:
        """Start empty, with new locks (a parent's thread may have held one at the fork)."""
        self._items: list = []
        self._lock = threading.Lock()  # guards _items
        self._writing = threading.Lock()  # one write at a time, in order

    def append(self, item) -> bool:
        return self.extend([item])

    def extend(self, items: list) -> bool:
        """Queue the items; False when `limit` items wait already (the caller writes them)."""
        with self._lock:
            if self._limit is not None and len(self._items) >= self._limit:
                return False
            self._items += items
        self._drainer.wake()
        return True

    def flush(self) -> None:
        """Write everything queued so far, in this thread (the drainer, exit, tests)."""
        with self._writing:
            while batch := self._take():
                self._write_or_keep(batch)

    def _write_waiting(self) -> None:
        # The drainer thread's connection is reused, or closed, by DATABASE_CONN_MAX_AGE,
        # as a request's would be at its start and end.
        close_old_connections()
        self.flush()
        self.after_flush()

    def after_flush(self) -> None:
        close_old_connections()

    def _take(self) -> list:
        with self._lock:
            size = self._max_batch or len(self._items)
            batch = self._items[:size]
            del self._items[:size]
        return batch

    def _write_or_keep(self, batch: list) -> None:
        try:
            self._write(batch)
        except IntegrityError:
            self._write_one_by_one(batch)
        except DatabaseError as exc:
            self._keep(batch, exc)
        except Exception:  # a bug, or a broker that refused: the rest go on
            log.exception("%s dropped %d items", self._name, len(batch))

    def _write_one_by_one(self, batch: list) -> None:
        for index, item in enumerate(batch):
            try:
                self._write([item])
            except IntegrityError as exc:  # what it names was deleted meanwhile
                log.error("%s dropped an item a constraint refused: %s", self._name, exc)
            except DatabaseError as exc:
                self._keep(batch[index:], exc)
                return

    def _keep(self, batch: list, exc: DatabaseError) -> None:
        """Put the batch back in front, for the next write after the drainer's delay."""
        log.warning("%d items not written yet, retrying: %s", len(batch), exc)
        connection.close()
        with self._lock:
            self._items[:0] = batch
        self._drainer.wake()


class BatchPublisher(WriteBehind):
    """Ids of committed rows, published in batches off the request path.

    A committed group used to publish its own message: a broker round trip and
    kombu's work per group, in the leader's request. `add(ids)` only appends;
    the process's thread publishes what was added in the last `interval` seconds,
    `max_batch` ids per `publish(ids)` call. The outbox is unchanged: the rows were
    committed with `queued` set, `publish` records a refused publish itself, and a
    process that dies before publishing leaves rows the sweeper publishes
    STUCK_AFTER_SECONDS later, as it did for the moment between a commit and its
    publish. At exit (a recycled gunicorn worker) what is left is published at once.

    Where tasks run eagerly (no broker: development, tests) a publish runs the
    task itself, so it stays in the request that committed the rows.
    """

    def __init__(self, publish, interval: float = PUBLISH_INTERVAL, max_batch: int = MAX_GROUP):
        super().__init__(publish, interval, max_batch=max_batch)

    def publish(self, ids: list) -> None:
        """Publish these ids now, in this thread (a transaction's own, at its commit)."""
        self._write(ids)

    def add(self, ids: list) -> None:
        if _tasks_run_eagerly():
            self._write_or_keep(ids)
        else:
            self.extend(ids)

    def after_flush(self) -> None:
        """Close what a refused publish's UPDATE opened: the connection budget of a web
        process counts one writer thread (dre.gunicorn_conf), not its publishers."""
        connections.close_all()


def _tasks_run_eagerly() -> bool:
    from dre.celery import app

    return app.conf.task_always_eager
