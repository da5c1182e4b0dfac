"""GUI test fixtures: a window on a preset, and a check that no worker thread outlives its
test."""

import pytest
from rnnviz.ui.state.jobs import JobRunner


@pytest.fixture(autouse=True)
def no_thread_left_running(monkeypatch):
    started: list[JobRunner] = []
    original = JobRunner._started

    def record(self):
        if self not in started:
            started.append(self)
        return original(self)

    monkeypatch.setattr(JobRunner, "_started", record)
    yield
    left = [r for r in started if r.is_running()]
    for runner in left:
        runner.stop()
    assert not left, f"{len(left)} worker thread(s) left running"


@pytest.fixture
def wait_ready(qtbot):
    """``wait_ready(window)``: until every column has its trace and the gradient rows for the
    cursor."""

    def wait(window, timeout=120_000):
        explorer, state = window.explorer, window.state

        def ready():
            return (explorer.jobs.is_idle()
                    and not explorer._memory_timer.is_active()  # noqa: SLF001
                    and all(c.error or (c.ready and c.row("flow", state.t) is not None
                                        and c.row("memory", state.t) is not None)
                            for c in state.columns))

        qtbot.waitUntil(ready, timeout=timeout)

    return wait


@pytest.fixture
def make_window(qtbot, wait_ready):
    from rnnviz.ui.window.main_window import MainWindow

    from rnnviz.files.presets import load_preset

    windows = []

    def make(preset="sine", settings=None):
        window = MainWindow(settings=settings)
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.load(load_preset(preset))
        window.show()
        windows.append(window)
        wait_ready(window)
        return window

    yield make
    for window in windows:
        window.close()
