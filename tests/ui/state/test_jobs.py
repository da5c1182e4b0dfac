"""Jobs with their own callbacks, without Qt: latest wins per key, cancel and stop, errors as
one line, and the worker thread's background priority on Linux."""

from __future__ import annotations

import os
import sys
import threading

import pytest
from rnnviz.ui.state.jobs import InlineJobRunner, JobRunner
from tests_support import Mailbox

from rnnviz.errors import RnnvizError


def own_priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread niceness is Linux's")
def test_the_worker_yields_the_cpu_to_the_ui_thread():
    before = own_priority()
    mail = Mailbox()
    runner = JobRunner(mail)
    got = []
    runner.submit("nice", lambda ctx: (own_priority(), threading.get_native_id()),
                  on_done=got.append)
    mail.run_until(lambda: got)
    runner.stop()
    worker_priority, worker_tid = got[0]
    assert worker_tid != threading.get_native_id()
    assert worker_priority == min(before + 10, 19)
    assert own_priority() == before  # the UI thread keeps its priority
    assert not runner.is_running()


def test_a_waiting_job_is_replaced_by_a_newer_one_with_its_key():
    mail = Mailbox()
    runner = JobRunner(mail)
    gate = threading.Event()
    results = []
    runner.submit("block", lambda ctx: gate.wait(10), on_done=lambda v: results.append(v))
    for t in range(5):
        runner.submit("row", lambda ctx, t=t: t, on_done=lambda v: results.append(("row", v)))
    gate.set()
    mail.run_until(lambda: len(results) == 2)
    mail.run_until(runner.is_idle)
    runner.stop()
    assert results == [True, ("row", 4)]


def test_callbacks_run_on_the_posting_thread_and_busy_says_when_work_ends():
    mail = Mailbox()
    runner = JobRunner(mail)
    threads, busy = [], []
    runner.busy.connect(busy.append)
    runner.submit("a", lambda ctx: 1, on_done=lambda v: threads.append(threading.get_ident()))
    mail.run_until(lambda: busy == [True, False])
    runner.stop()
    assert threads == [threading.get_ident()]


def test_a_running_job_still_delivers_after_a_newer_one_was_asked_for_unless_cancelled():
    """While playing, the row of a step already passed is still worth showing; a caller
    whose older result would be wrong cancels it."""
    runner = InlineJobRunner()
    got = []
    first = runner.submit("k", lambda ctx: "old", on_done=got.append)
    runner._take()  # noqa: SLF001 (the first one is now running)
    runner.submit("k", lambda ctx: "new", on_done=got.append)
    runner._run(first)  # noqa: SLF001 (it finishes; a newer one waits)
    runner.run_pending()
    assert got == ["old", "new"]
    second = runner.submit("k", lambda ctx: "stale", on_done=got.append)
    runner._take()  # noqa: SLF001
    runner.cancel("k")
    runner.submit("k", lambda ctx: "fresh", on_done=got.append)
    runner._run(second)  # noqa: SLF001
    runner.run_pending()
    assert got == ["old", "new", "fresh"]


def test_cancel_drops_a_job_and_its_result():
    runner = InlineJobRunner()
    got = []
    job = runner.submit("k", lambda ctx: 1, on_done=got.append)
    job.cancel()
    assert runner.run_pending() == 0 and got == [] and runner.is_idle()
    runner.submit("k", lambda ctx: 2, on_done=got.append)
    runner.cancel("k")
    runner.submit("other", lambda ctx: 3, on_done=got.append)
    runner.run_pending()
    assert got == [3]


def test_stop_asks_a_running_job_to_return_early_and_still_delivers_what_it_returns():
    mail = Mailbox()
    runner = JobRunner(mail)
    started, got = threading.Event(), []

    def work(ctx):
        started.set()
        steps = 0
        while not ctx.cancelled() and steps < 10_000:
            ctx.report(steps)
            steps += 1
            threading.Event().wait(0.001)
        return steps

    job = runner.submit("train", work, on_done=got.append, on_progress=lambda v: None)
    started.wait(10)
    job.stop()
    mail.run_until(lambda: got)
    runner.stop()
    assert got[0] < 10_000


def test_an_exception_comes_back_as_one_line():
    runner = InlineJobRunner()
    errors = []

    def bad(ctx):
        raise RnnvizError("x.csv:3: column 'a': expected a number, got 'oops'")

    runner.submit("a", bad, on_error=errors.append)
    def unexpected(ctx):
        raise RuntimeError("XLA: out of memory\ntraceback follows")

    runner.submit("b", lambda ctx: 1 / 0, on_error=errors.append)
    runner.submit("c", unexpected, on_error=errors.append)
    runner.run_pending()
    assert errors == ["x.csv:3: column 'a': expected a number, got 'oops'",
                      "ZeroDivisionError: division by zero", "RuntimeError: XLA: out of memory"]


def test_progress_reports_arrive_in_order():
    runner = InlineJobRunner()
    seen = []

    def work(ctx):
        for k in range(3):
            ctx.report(k)
        return "done"

    runner.submit("t", work, on_progress=seen.append, on_done=seen.append)
    runner.run_pending()
    assert seen == [0, 1, 2, "done"]


def test_after_stop_nothing_runs_and_no_callback_is_called():
    """A closed window's controller may still be asked for work (a timer firing late) and
    the worker may still hold a result: neither reaches a view that is gone."""
    mail = Mailbox()
    runner = JobRunner(mail)
    got, busy = [], []
    runner.busy.connect(busy.append)
    runner.submit("a", lambda ctx: 1, on_done=got.append)
    mail.run_until(lambda: busy == [True, False])
    runner.submit("b", lambda ctx: 2, on_done=got.append)
    runner.stop()
    while not mail.calls.empty():  # what the worker posted before it stopped
        mail.calls.get()()
    said = len(busy)
    job = runner.submit("c", lambda ctx: 3, on_done=got.append)
    assert got == [1] and not runner.is_running()
    assert job.cancelled and len(busy) == said  # refused at once, without a word


# -- several workers ---------------------------------------------------------------------------
def test_jobs_of_different_keys_run_at_the_same_time_and_deliver_to_their_own_callbacks():
    """Three columns' jobs on three workers: each waits at a barrier only the three together
    pass, so they finish only if they run at once."""
    mail = Mailbox()
    runner = JobRunner(mail, workers=3)
    barrier = threading.Barrier(3, timeout=30)
    got: dict[str, tuple] = {}

    def job(ctx, key):
        barrier.wait()
        return key, threading.get_native_id()

    try:
        for key in ("trace:0", "trace:1", "trace:2"):
            runner.submit(key, lambda ctx, key=key: job(ctx, key),
                          on_done=lambda value, key=key: got.__setitem__(key, value))
        mail.run_until(lambda: len(got) == 3, timeout=60)
        mail.run_until(runner.is_idle)
    finally:
        runner.stop()
    assert {key: value[0] for key, value in got.items()} == {k: k for k in got}
    assert len({tid for _, tid in got.values()}) == 3  # three threads
    assert not runner.is_running()


def test_with_several_workers_a_key_still_runs_one_job_at_a_time_newest_last():
    """A newer job of a key waits for the older one even with a worker free (which takes
    another key's job meanwhile): one key's results arrive in order, and of the jobs that
    waited only the newest runs."""
    mail = Mailbox()
    runner = JobRunner(mail, workers=2)
    gate, started = threading.Event(), threading.Event()
    order: list = []

    def slow(ctx):
        started.set()
        gate.wait(30)
        return "old"

    try:
        runner.submit("flow:0", slow, on_done=order.append)
        started.wait(30)
        for n in range(3):
            runner.submit("flow:0", lambda ctx, n=n: f"new {n}", on_done=order.append)
        runner.submit("flow:1", lambda ctx: "other", on_done=order.append)
        mail.run_until(lambda: order == ["other"], timeout=30)
        gate.set()
        mail.run_until(lambda: len(order) == 3, timeout=30)
        mail.run_until(runner.is_idle)
    finally:
        runner.stop()
    assert order == ["other", "old", "new 2"]


def test_with_several_workers_cancel_drops_a_running_jobs_result_and_stop_ends_every_thread():
    mail = Mailbox()
    runner = JobRunner(mail, workers=2)
    gate, running = threading.Event(), threading.Barrier(3, timeout=30)
    got = []

    def blocked(ctx, value):
        running.wait()
        gate.wait(30)
        return value

    runner.submit("a", lambda ctx: blocked(ctx, "a"), on_done=got.append)
    runner.submit("b", lambda ctx: blocked(ctx, "b"), on_done=got.append)
    running.wait()  # both run, on two threads
    runner.cancel("a")
    gate.set()
    mail.run_until(lambda: got == ["b"], timeout=30)
    mail.run_until(runner.is_idle)
    runner.stop()
    assert got == ["b"] and not runner.is_running()
