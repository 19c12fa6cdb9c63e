"""dre/batching.py: concurrent requests share one write, and each gets its own result."""

import threading
import time

import pytest
from django.db import IntegrityError, OperationalError

from dre import batching
from dre.batching import BatchPublisher, GroupCommit, WriteBehind


def test_it_writes_a_lone_item_at_once():
    group = GroupCommit(write=lambda items: [item * 2 for item in items])

    assert group.submit(21) == 42
    assert (group.groups, group.rows) == (1, 1)


def test_it_writes_the_items_that_arrive_meanwhile_in_one_write_and_answers_each():
    writes = []
    first_is_writing = threading.Event()

    def write(items):
        writes.append(list(items))
        first_is_writing.set()
        time.sleep(0.2)  # the items of the other threads arrive while this one writes
        return [f"stored {item}" for item in items]

    group = GroupCommit(write=write)
    answers = {}
    threads = [threading.Thread(target=lambda: answers.update({0: group.submit(0)}))]
    threads[0].start()
    first_is_writing.wait()
    for n in range(1, 9):
        threads.append(threading.Thread(target=lambda n=n: answers.update({n: group.submit(n)})))
        threads[-1].start()
    for thread in threads:
        thread.join()

    assert answers == {n: f"stored {n}" for n in range(9)}
    assert writes[0] == [0]
    assert sorted(writes[1]) == list(range(1, 9))  # one write for the eight that waited
    assert group.groups == 2


def test_a_failed_write_fails_every_request_of_its_group_and_the_next_group_goes_on():
    calls = []

    def write(items):
        calls.append(items)
        if len(calls) == 1:
            raise ConnectionError("database gone")
        return items

    group = GroupCommit(write=write)

    with pytest.raises(ConnectionError):
        group.submit("a")
    assert group.submit("b") == "b"


class AddedIds:
    """A BatchPublisher's `add`, recorded."""

    def __init__(self):
        self.added = []

    def add(self, ids):
        self.added.append(ids)


def test_each_committed_group_hands_its_results_to_its_publisher_once():
    publisher = AddedIds()
    group = GroupCommit(write=lambda items: [i + 1 for i in items], publisher=publisher)

    group.submit(1)
    group.submit(2)

    assert publisher.added == [[2], [3]]


def test_it_splits_more_items_than_max_group_over_several_writes():
    sizes = []
    gate = threading.Event()

    def write(items):
        sizes.append(len(items))
        gate.wait(1)
        return items

    group = GroupCommit(write=write, max_group=3)
    threads = [threading.Thread(target=group.submit, args=(n,)) for n in range(7)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    gate.set()
    for thread in threads:
        thread.join()

    assert sum(sizes) == 7
    assert max(sizes) <= 3


def test_a_publisher_sends_what_several_groups_committed_in_one_batch(monkeypatch):
    monkeypatch.setattr(batching, "_tasks_run_eagerly", lambda: False)  # a broker, as in production
    batches = []
    publisher = BatchPublisher(publish=batches.append, interval=0.1, max_batch=3)

    for ids in ([1], [2, 3], [4]):
        publisher.add(ids)
    deadline = time.monotonic() + 5
    while sum(map(len, batches)) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)

    assert batches == [[1, 2, 3], [4]]  # by its thread, max_batch ids at a time


def test_a_publisher_that_fails_goes_on_with_the_next_batch():
    batches = []

    def publish(ids):
        if ids == [1]:
            raise ConnectionError("broker down")
        batches.append(ids)

    publisher = BatchPublisher(publish=publish, interval=3600, max_batch=1)  # by hand here
    publisher.add([1])
    publisher.add([2])

    publisher.flush()

    assert batches == [[2]]


NEVER = 3600.0  # seconds between a WriteBehind thread's own writes: the tests flush


def test_a_failed_write_keeps_its_items_in_order_for_the_next():
    written, failures = [], [OperationalError("the server closed the connection")]

    def write(items):
        if failures:
            raise failures.pop()
        written.extend(items)

    queue = WriteBehind(write, NEVER, 100)
    queue.append(1)
    queue.flush()
    queue.append(2)
    queue.flush()

    assert written == [1, 2]


def test_only_the_items_a_constraint_refuses_are_dropped():
    written = []

    def write(items):
        if "gone" in items:
            raise IntegrityError("violates foreign key constraint")
        written.extend(items)

    queue = WriteBehind(write, NEVER, 100)
    for item in ("a", "gone", "b"):
        queue.append(item)
    queue.flush()

    assert written == ["a", "b"]


def test_a_full_queue_refuses_an_item_so_that_its_request_writes_it():
    queue = WriteBehind(lambda items: None, NEVER, 2)

    assert [queue.append(item) for item in range(3)] == [True, True, False]


def test_a_forked_child_writes_only_what_it_queued():
    written = []
    queue = WriteBehind(written.extend, NEVER, 100)
    queue.append("parent's")

    queue._forked()  # what os.fork runs in the child
    queue.append("child's")
    queue.flush()

    assert written == ["child's"]
