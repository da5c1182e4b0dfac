"""Background jobs with their own callbacks, "latest wins" per key, and no Qt.

``runner.submit(key, fn, on_done=..., on_error=..., on_progress=...)`` queues ``fn(context)``
and returns a ``Job``. A job still waiting under the same key is replaced, so asking for the
gradient row of step 12, then 13, then 14 while the worker is busy computes only 14 (and,
while playing, the row of a step already passed still arrives: the newest the worker could
make). ``job.cancel()`` (or ``runner.cancel(key)``, for the newest job of a key) drops a
waiting job and the result of a running one: a caller whose older result would be wrong, a
trace of the configuration before, cancels it before submitting the next (the running function
may notice ``context.cancelled()`` and return early). ``job.stop()`` asks a running function
to stop but still delivers what it returns (training keeps the weights it reached).

Callbacks run on the thread that owns the runner: the worker hands each one to ``post``,
which the Qt front end makes a queued call into the UI thread (``ui.qt_post``), and which a
test without Qt collects and runs by hand (``InlineJobRunner``). Exceptions come back to
``on_error`` as one line.

``JobRunner(post, workers=N)`` runs jobs on up to N worker threads at once (the explorer's and
training's runners: one per core, ``default_workers``), so that three columns' traces, or three
columns' training runs, use the machine's cores together: JAX releases the GIL while XLA
computes, and XLA runs a computation's loops on the thread that calls it. Jobs of one key never
run at the same time: a newer job of a key waits until the older one has finished (and
delivered), so "latest wins" and the order of one key's results are what they are with one
worker. Jobs of different keys start oldest first. XLA's own pool of intra-op threads (the
multi-threaded matmuls) is one per process, shared by every running computation, so N workers
add at most N threads to it, not N pools. On Linux the workers run at a lower priority (nice
+10) than the UI thread, so that on a machine with few cores a repaint is not kept waiting
behind background JAX work.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from psygnal import Signal

from rnnviz.errors import RnnvizError

Post = Callable[[Callable[[], None]], None]


def default_workers() -> int:
    """The cores this process may run on (its CPU affinity where the OS says, else all)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def describe_error(exc: BaseException) -> str:
    """An exception as one line: a user error as it is, anything else with its type."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, RnnvizError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def lower_thread_priority(niceness: int = 10) -> None:
    """Make the calling thread yield a contended core to the UI thread (Linux: nice +10 for
    this thread only). Threads it starts later inherit it: in the app JAX first runs on the
    worker, so XLA's thread pools, which do the computing, start there and are niced too
    (had JAX run on the UI thread first, they would keep its priority). Elsewhere nothing
    changes."""
    if sys.platform != "linux":  # setpriority(PRIO_PROCESS, tid) means a thread only on Linux
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + niceness,
                                                 19))
    except OSError:
        pass


class Job:
    """One submitted function and its callbacks; ``cancel`` and ``stop`` as in the module
    docstring."""

    def __init__(self, runner: _Runner, key: str, fn: Callable[[JobContext], Any],
                 on_done: Callable[[Any], None] | None,
                 on_error: Callable[[str], None] | None,
                 on_progress: Callable[[Any], None] | None):
        self.key, self.fn = key, fn
        self._runner = runner
        self.on_done, self.on_error, self.on_progress = on_done, on_error, on_progress
        self.cancelled = False      # no callback will run
        self.stop_requested = False  # the function is asked to return early

    def cancel(self) -> None:
        self.cancelled = self.stop_requested = True
        self._runner.discard(self)

    def stop(self) -> None:
        self.stop_requested = True
        self._runner.discard_waiting(self)


class JobContext:
    """What a running job may use: ``report(value)`` for partial results (to
    ``on_progress``) and ``cancelled()`` (true once it was cancelled or asked to stop)."""

    def __init__(self, job: Job, post: Callable[[Job, Callable[[], None]], None]):
        self._job, self._post = job, post

    def report(self, value: Any) -> None:
        callback = self._job.on_progress
        if callback is not None:
            self._post(self._job, lambda: callback(value))

    def cancelled(self) -> bool:
        return self._job.stop_requested


class _Runner:
    """The queue shared by both runners: pending jobs by key (latest wins) and the newest job
    of every key. Its ``busy`` signal says when work starts and when the last job ends."""

    busy = Signal(bool)

    def __init__(self, post: Post):
        self._post = post
        self._lock = threading.Condition()
        self._pending: dict[str, Job] = {}
        self._latest: dict[str, Job] = {}
        self._running: dict[str, Job] = {}  # key: its job now running (one per key)
        self._undelivered = 0  # callbacks posted and not yet run
        self._stopping = False   # stopped: nothing more runs, no callback is called
        self._shown_busy = False  # what ``busy`` last said (owner thread only)

    def submit(self, key: str, fn: Callable[[JobContext], Any], *,
               on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[str], None] | None = None,
               on_progress: Callable[[Any], None] | None = None) -> Job:
        """Queue ``fn(context)``; it replaces a job waiting under ``key``, and an older job of
        ``key`` still running will deliver nothing."""
        job = Job(self, key, fn, on_done, on_error, on_progress)
        if self._stopping:  # the window is closing: nothing more will run
            job.cancelled = job.stop_requested = True
            return job
        with self._lock:
            self._pending.pop(key, None)
            self._pending[key] = job
            self._latest[key] = job
            self._lock.notify()
        self._started()
        if not self._shown_busy:
            self._shown_busy = True
            self.busy.emit(True)
        return job

    def cancel(self, key: str) -> None:
        """Cancel the newest job of ``key`` (waiting or running), if any."""
        with self._lock:
            job = self._latest.get(key)
        if job is not None:
            job.cancel()

    def job(self, key: str) -> Job | None:
        """The newest job submitted under ``key`` (it may have finished)."""
        with self._lock:
            return self._latest.get(key)

    def discard(self, job: Job) -> None:
        with self._lock:
            if self._pending.get(job.key) is job:
                del self._pending[job.key]
            if self._latest.get(job.key) is job:
                del self._latest[job.key]
        self._check_idle()

    def discard_waiting(self, job: Job) -> None:
        with self._lock:
            if self._pending.get(job.key) is job:
                del self._pending[job.key]
                if self._latest.get(job.key) is job:
                    del self._latest[job.key]
        self._check_idle()

    def is_idle(self) -> bool:
        """Nothing waiting and nothing running."""
        with self._lock:
            return self._idle_locked()

    def _idle_locked(self) -> bool:
        return not self._pending and not self._running and not self._undelivered

    def _check_idle(self) -> None:
        """On the owner thread: say ``busy(False)`` once the runner has become idle."""
        if self._shown_busy and self.is_idle():
            self._shown_busy = False
            self.busy.emit(False)

    def _deliver(self, job: Job, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the runner's owner thread if ``job`` is still wanted then."""
        with self._lock:
            self._undelivered += 1

        def run() -> None:
            with self._lock:
                self._undelivered -= 1
            try:
                if not job.cancelled and not self._stopping:
                    callback()
            finally:
                self._check_idle()

        self._post(run)

    def _started(self) -> None:
        """A job was queued (the threaded runner starts its thread here)."""

    def _take(self) -> Job | None:
        """The next job to run (oldest key first, of the keys with no job running), marked
        as running."""
        with self._lock:
            return self._take_locked()

    def _take_locked(self) -> Job | None:
        key = next((k for k in self._pending if k not in self._running), None)
        if key is None:
            return None
        job = self._running[key] = self._pending.pop(key)
        return job

    def _run(self, job: Job) -> None:
        on_done, on_error = job.on_done, job.on_error
        try:
            result = job.fn(JobContext(job, self._deliver))
        except Exception as exc:  # reported in the window; the app keeps running
            message = describe_error(exc)
            if on_error is not None:
                self._deliver(job, lambda: on_error(message))
        else:
            if on_done is not None:
                self._deliver(job, lambda: on_done(result))
        with self._lock:
            if self._running.get(job.key) is job:
                del self._running[job.key]
            self._lock.notify_all()  # a newer job of this key may wait for this one
        self._post(self._check_idle)


class JobRunner(_Runner):
    """Runs jobs on up to ``workers`` threads (started as jobs come), one job per key at a
    time (see the module docstring)."""

    def __init__(self, post: Post, *, name: str = "rnnviz-jobs", workers: int = 1):
        super().__init__(post)
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._name, self.workers = name, workers
        self._threads: list[threading.Thread] = []
        self._idle_workers = 0  # threads waiting for a job

    def _started(self) -> None:
        with self._lock:
            if self._stopping or len(self._threads) >= self.workers:
                return
            runnable = sum(1 for k in self._pending if k not in self._running)
            if runnable > self._idle_workers:
                thread = threading.Thread(target=self._loop, daemon=True,
                                          name=f"{self._name}-{len(self._threads)}")
                self._threads.append(thread)
                thread.start()

    def is_running(self) -> bool:
        """Whether a worker thread is alive."""
        return any(thread.is_alive() for thread in self._threads)

    def stop(self, timeout: float | None = None) -> None:
        """Let the running jobs' current chunks finish, drop the rest, end the threads."""
        with self._lock:
            self._stopping = True
            for job in self._pending.values():
                job.cancelled = job.stop_requested = True
            self._pending.clear()
            for job in self._running.values():
                job.cancelled = job.stop_requested = True
            self._lock.notify_all()
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def _loop(self) -> None:
        lower_thread_priority()
        while True:
            with self._lock:
                while not self._stopping and (job := self._take_locked()) is None:
                    self._idle_workers += 1
                    self._lock.wait()
                    self._idle_workers -= 1
                if self._stopping:
                    return
            self._run(job)


class InlineJobRunner(_Runner):
    """The same queue without a thread, for tests of the state without Qt: jobs run when
    ``run_pending()`` is called, on the calling thread, and their callbacks run at once."""

    def __init__(self):
        super().__init__(lambda fn: fn())  # callbacks run at once, on the caller's thread

    def run_pending(self, limit: int = 10_000) -> int:
        """Run waiting jobs (and the jobs their callbacks submit) until none is left; returns
        how many ran."""
        count = 0
        while count < limit and (job := self._take()) is not None:
            self._run(job)
            count += 1
        return count

    def stop(self, timeout: float | None = None) -> None:
        with self._lock:
            self._stopping = True
            self._pending.clear()
