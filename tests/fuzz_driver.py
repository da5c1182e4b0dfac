"""Runs the cases of ``tests/test_fuzz_inputs.py`` in one process, under a memory cap.

``python tests/fuzz_driver.py --exec CAP_BYTES ARGS...`` caps the address space and runs the
real command, ``python -m rnnviz ARGS...``, in this process (the cap is kept across exec).

``python tests/fuzz_driver.py CASES.json RESULTS.json CAP_BYTES``: caps the address space
(``RLIMIT_AS``) before anything is imported, then runs each case as the command line would
(``rnnviz.cli.command.main(argv)``, or one of the loaders and writers below, whose
``RnnvizError`` is printed the way the command line prints it), capturing stdout and stderr,
and records for
each case the exit status, the output, any exception that escaped (with its traceback) and
which files under the case root were created, changed or removed (by inode, size and
modification time: an atomic replace changes the inode), as one JSON line per case written as
soon as the case ends.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import traceback


def snapshot(root: str) -> dict[str, list[int]]:
    files = {}
    for folder, dirs, names in os.walk(root):
        for name in names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            files[os.path.relpath(path, root)] = [info.st_ino, info.st_size, info.st_mtime_ns]
    return files


class Objects:
    """What the writer cases write, made once: a model, a preset, a session, a trace."""

    def __init__(self):
        import numpy as np

        from rnnviz.core.model import Model
        from rnnviz.files.presets import load_preset
        from rnnviz.files.session import Session

        self.model = Model.create("gru", 1, 3, output_size=1, seed=0)
        self.preset = load_preset("sine")
        xs = np.sin(np.arange(12) / 3.0)[:, None].astype(np.float32)
        self.trace = self.model.trace(xs)
        preset = self.preset.with_models([self.preset.models[0]])

        model = preset.models[0].build(1, 1)
        self.session = Session(preset, xs, None, [model])


def run_case(case: dict, objects: list) -> int:
    from rnnviz.cli import main
    from rnnviz.errors import RnnvizError

    op = case["op"]
    if op == "cli":
        return main(case["argv"])
    try:
        if op == "session":
            from rnnviz.files.session import read_session

            read_session(case["path"])
        elif op == "save":
            if not objects:
                objects.append(Objects())
            o = objects[0]
            kind, path = case["kind"], case["path"]
            if kind == "weights":
                o.model.save(path)
            elif kind == "preset":
                from rnnviz.files.presets import save_preset

                save_preset(o.preset, path)
            elif kind == "session":
                from rnnviz.files.session import write_session

                write_session(path, o.session)
            elif kind == "trace_npz":
                o.trace.save_npz(path)
            elif kind == "trace_csv":
                from rnnviz.files.trace_csv import trace_to_csv

                trace_to_csv(o.trace, path)
            else:
                raise ValueError(kind)
        else:
            raise ValueError(op)
    except RnnvizError as exc:
        print(f"rnnviz: error: {exc}", file=sys.stderr)
        return 2
    return 0


def main() -> None:
    if sys.argv[1] == "--exec":
        cap = int(sys.argv[2])
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        os.execv(sys.executable, [sys.executable, "-m", "rnnviz", *sys.argv[3:]])
    cases_path, results_path, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    with open(cases_path, encoding="utf-8") as f:
        spec = json.load(f)
    root = spec["root"]
    os.chdir(spec["cwd"])
    os.environ["RNNVIZ_CACHE_DIR"] = spec["cache"]
    objects: list = []
    results = open(results_path, "w", encoding="utf-8")  # one JSON line per case, at once:
    for case in spec["cases"]:                            # a crash still tells which case
        before = snapshot(root)
        out, err = io.StringIO(), io.StringIO()
        escaped = None
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = run_case(case, objects)
        except SystemExit as exc:
            code = exc.code
        except BaseException:  # noqa: BLE001 (what the test looks for)
            code, escaped = None, traceback.format_exc()
        after = snapshot(root)
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        results.write(json.dumps({"name": case["name"], "code": code, "stdout": out.getvalue(),
                                  "stderr": err.getvalue(), "escaped": escaped,
                                  "changed": changed}) + "\n")
        results.flush()
    results.close()


if __name__ == "__main__":
    main()
