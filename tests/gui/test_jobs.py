"""The worker thread: latest-wins jobs, and background priority on Linux."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from ui.jobs import JobRunner


def own_priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread niceness is Linux's")
def test_the_worker_yields_the_cpu_to_the_ui_thread(qtbot):
    before = own_priority()
    runner = JobRunner()
    with qtbot.waitSignal(runner.done, timeout=10_000) as done:
        runner.submit("nice", lambda ctx: (own_priority(), threading.get_native_id()))
    runner.stop()
    worker_priority, worker_tid = done.args[1]
    assert worker_tid != threading.get_native_id()
    assert worker_priority == min(before + 10, 19)
    assert own_priority() == before  # the UI thread keeps its priority


def test_a_waiting_job_is_replaced_by_a_newer_one_with_its_key(qtbot):
    runner = JobRunner()
    gate = threading.Event()
    results = []
    runner.done.connect(lambda key, value: results.append((key, value)))
    runner.submit("block", lambda ctx: gate.wait(10))
    for t in range(5):
        runner.submit("row", lambda ctx, t=t: t)
    gate.set()
    qtbot.waitUntil(lambda: len(results) == 2, timeout=10_000)
    runner.stop()
    assert results == [("block", True), ("row", 4)]


def test_a_cancelled_running_job_stays_cancelled_when_its_key_comes_again(qtbot):
    """A new job under the key of a running job that was cancelled is another job: the
    running one still sees ``cancelled()``, the new one does not."""
    runner = JobRunner()
    started, go_on = threading.Event(), threading.Event()

    def first(ctx):
        started.set()
        go_on.wait(10)
        return ("first", ctx.cancelled())

    results = []
    runner.done.connect(lambda key, value: results.append(value))
    runner.submit("train", first)
    assert started.wait(10)
    runner.cancel("train")
    runner.submit("train", lambda ctx: ("second", ctx.cancelled()))
    go_on.set()
    qtbot.waitUntil(lambda: len(results) == 2, timeout=10_000)
    runner.stop()
    assert results == [("first", True), ("second", False)]
