"""The ``rnnviz`` command line.

``rnnviz`` with no command opens the window on the default preset. Errors in what the user gave
(a missing file, a wrong shape, a bad preset) print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import io
import sys
import warnings
from dataclasses import replace

import numpy as np

from rnnviz.errors import RnnvizError, one_line
from rnnviz.files.presets import DEFAULT_PRESET

EXIT_USAGE = 2


def _load_array(path: str, what: str) -> np.ndarray:
    """An array from ``.npy`` (header checked before loading) or ``.csv``/``.txt`` (at most
    ``MAX_DATA_BYTES``); one line for anything else."""
    from rnnviz.arrays import read_npy
    from rnnviz.limits import MAX_DATA_BYTES
    from rnnviz.paths import existing_file, read_limited

    p = existing_file(path, what)
    suffix = p.suffix.lower()
    if suffix == ".npy":
        return read_npy(p, what)
    if suffix not in (".csv", ".txt"):
        raise RnnvizError(f"{p}: unknown format {suffix or '(none)'} for {what}: "
                          "expected .npy or .csv")
    try:
        text = read_limited(p, MAX_DATA_BYTES, "MAX_DATA_BYTES", what).decode("utf-8-sig")
        with warnings.catch_warnings():  # "input contained no data": said below, in one line
            warnings.simplefilter("ignore")
            array = np.loadtxt(io.StringIO(text), delimiter="," if suffix == ".csv" else None,
                               ndmin=2)
    except (ValueError, TypeError) as exc:  # UnicodeDecodeError included
        if isinstance(exc, RnnvizError):
            raise
        raise RnnvizError(f"{p}: cannot read {what}: {str(exc).splitlines()[0]}") from None
    if array.size == 0:
        raise RnnvizError(f"{p}: holds no numbers ({what})")
    return array


def _column(array: np.ndarray) -> np.ndarray:
    """A ``(T, 1)`` or ``(1, T)`` table (one CSV column or row) as ``(T,)``."""
    return array.reshape(-1) if array.ndim == 2 and 1 in array.shape else array


def _prefixed(source: str, action):
    """``action()``, with a one-line error's message prefixed by ``source`` (a file)."""
    try:
        return action()
    except RnnvizError as exc:
        raise RnnvizError(f"{source}: {exc}") from None


def _own_data_arguments(p: argparse.ArgumentParser) -> None:
    """``--data`` and what goes with it, for ``open`` and ``render --model``."""
    p.add_argument("--data", help="the model's own data as the sequence: (T, inputs) values "
                   "or token ids (.npy), CSV columns (.csv), text through a vocabulary (.txt)")
    p.add_argument("--column", action="append", default=None, metavar="C",
                   help="with a CSV: the column (name or number) of the next model input; "
                   "repeat it, in order (default: the first columns not named target/y/label)")
    p.add_argument("--target", metavar="FILE_OR_COLUMN", help="with --data: the target, for "
                   "the loss and gradient views: a .npy or .csv file, or a column of the data "
                   "CSV")
    p.add_argument("--vocab", help="with --data: the vocabulary of a model with an embedding "
                   "(default: vocab.json or vocab.txt beside the model)")


def cmd_trace(args: argparse.Namespace) -> int:
    from rnnviz.arrays import real_array
    from rnnviz.cli.maps import add_maps, check_asked, parse_rows
    from rnnviz.core.losses import Target, target_mask, target_values
    from rnnviz.core.model import Model
    from rnnviz.core.trace import as_input, check_target
    from rnnviz.paths import check_destination

    check_destination(args.out)
    if args.mask and not args.target:
        raise RnnvizError(f"--mask {args.mask}: expected --target too (a mask weights the "
                          f"loss against a target)")
    cell = "rnn_relu" if args.nonlinearity == "relu" else args.nonlinearity
    model = Model.load(args.weights, cell=cell)
    if args.column or model.spec.vocab_size is not None:
        from rnnviz.files.model_data import read_inputs, vocabulary_beside

        columns = [int(c) if c.isdigit() else c for c in args.column or []] or None
        xs = read_inputs(args.input, model.spec, columns=columns,
                         vocab=args.vocab or vocabulary_beside(args.weights))
    else:
        xs = real_array(_load_array(args.input, "the input"), args.input)
    if xs.ndim == 1 and model.spec.in_size == 1:
        xs = xs[:, None]
    if xs.ndim != 2 or xs.shape[1] != model.spec.in_size:
        raise RnnvizError(f"{args.input}: input is {xs.shape}, expected (T, "
                          f"{model.spec.in_size}) for the model in {args.weights}")
    xs = _prefixed(args.input, lambda: as_input(model.spec, xs))
    target = None
    if args.target:
        raw = _load_array(args.target, "the target")
        raw = _column(raw) if args.loss == "xent" else raw
        values = _prefixed(args.target, lambda: target_values(raw, args.loss))
        mask = None
        if args.mask:
            raw_mask = _column(_load_array(args.mask, "the mask"))
            mask = _prefixed(args.mask, lambda: target_mask(raw_mask, len(values)))
        target = Target(values, mask, args.loss)
        _prefixed(args.target, lambda: check_target(model.spec, target, len(xs)))
    rows = None if args.flow_rows is None else parse_rows(args.flow_rows, len(xs))
    _prefixed(args.input, lambda: check_asked(
        model.spec, len(xs), target=target is not None, flow=not args.no_flow,
        memory=not args.no_memory, full=args.full, rows=None if rows is None else len(rows)))
    trace = _prefixed(args.input, lambda: add_maps(
        model, xs, target, model.trace(xs, target), flow=not args.no_flow,
        memory=not args.no_memory, full=args.full, flow_rows=rows))
    trace.save_npz(args.out)
    print(one_line(f"wrote {args.out}: {model.spec.describe()}, {trace.steps} steps, "
                   f"{len(trace.arrays)} arrays"), file=sys.stderr)
    if trace.nonfinite:
        print(f"warning: NaN/Inf in {', '.join(trace.nonfinite)}", file=sys.stderr)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train every model of a preset from its seeded start and write the weights (see
    ``rnnviz.cli.train``). Ctrl-C stops training, keeping and writing what was
    reached."""
    import signal

    from rnnviz.cli.train import ProgressBar, train_preset
    from rnnviz.files.presets import load_preset, save_preset
    from rnnviz.paths import check_destination

    if args.preset_out:  # the weights' destinations: train_preset checks them
        check_destination(args.preset_out)
    preset = load_preset(args.preset, require_weights=False)
    bar = ProgressBar(preset)
    interrupted = []
    try:
        previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    except ValueError:  # not the main thread: no Ctrl-C handling
        previous = None
    try:
        overrides = {"bptt_window": args.bptt_window, "bptt_carry": args.bptt_carry,
                     "remat_chunk": args.remat_chunk}
        trained = train_preset(preset, args.out, steps=args.steps, seed=args.seed,
                               overrides=overrides,
                               callback=bar.update, should_stop=lambda: bool(interrupted),
                               announce=bar.announce)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    for t in trained:
        r = t.result
        state = ("stopped by Ctrl-C" if r.stopped else "DIVERGED (NaN/Inf)" if r.diverged
                 else "done")
        acc = "" if r.val_accuracies is None else f", val accuracy {r.val_accuracies[-1]:.1%}"
        print(one_line(f"wrote {t.path}: {state} after {r.steps} steps, val loss "
                       f"{r.val_losses[-1]:.4g}{acc}, {r.elapsed:.1f} s"), file=sys.stderr)
    if args.preset_out:
        weights = {t.index: t.path for t in trained}
        models = [m if k not in weights else replace(m, weights=weights[k].resolve())
                  for k, m in enumerate(preset.models)]
        save_preset(preset.with_models(models), args.preset_out)
        print(one_line(f"wrote {args.preset_out}"), file=sys.stderr)
    if interrupted:
        print("rnnviz: interrupted: the weights above are what training reached",
              file=sys.stderr)
        return 130
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate a preset: one summary line and status 0, or the one-line error and 2."""
    from rnnviz.files.preset_check import check_preset

    print(one_line(check_preset(args.file)))
    return 0


def _front_end(module: str):
    """The Qt front end, imported only when a command needs a screen, so that the engine
    itself never loads Qt."""
    return importlib.import_module(module)


class _Parser(argparse.ArgumentParser):
    """argparse, whose errors are one line like every other (no usage text); it knows its
    commands' names."""

    commands: tuple[str, ...] = ()

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"rnnviz: error: {one_line(message)}\n")


def build_parser() -> _Parser:
    parser = _Parser(
        prog="rnnviz", usage="rnnviz [PRESET] | rnnviz COMMAND ...",
        description="Watch recurrent neural networks think. With no command, open the window "
                    "on PRESET (a shipped preset's name or a .toml file; default: the last "
                    "one used, or the default preset).")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("trace", help="run a model headless and write every state to .npz")
    p.add_argument("--weights", "--model", dest="weights", required=True,
                   help="the model: a PyTorch state_dict (.safetensors, .npz, .pt, .pth), "
                   "Keras 3 (.keras, .weights.h5) or ONNX (.onnx) file")
    p.add_argument("--input", required=True, help="(T, input_size) .npy or .csv; token ids "
                   "(.npy) or text (.txt) for a model with an embedding")
    p.add_argument("--column", action="append", metavar="NAME",
                   help="a CSV column (name or number) for the next model input; repeat it, "
                   "one per input, in order")
    p.add_argument("--vocab", help="vocab.json or vocab.txt mapping a .txt input to token ids "
                   "(default: one beside the model file)")
    p.add_argument("--out", required=True, help="the .npz to write")
    p.add_argument("--target", help="(T, O) .npy/.csv for mse, (T,) class indices for xent; "
                   "adds the loss and gradient arrays")
    p.add_argument("--mask", help="(T,) weights of each step in the loss (default: all 1)")
    p.add_argument("--loss", choices=("mse", "xent"), default="mse")
    p.add_argument("--nonlinearity", choices=("tanh", "relu"), default=None,
                   help="a vanilla RNN's activation, if the file does not record it")
    p.add_argument("--no-flow", action="store_true", help="skip the (T, T) gradient flow")
    p.add_argument("--no-memory", action="store_true", help="skip the (T, T) Jacobian norms")
    p.add_argument("--full", action="store_true", help="compute the (T, T) arrays even "
                   "over the time and memory budget (they are left out, with one line, when "
                   "estimated over it)")
    p.add_argument("--flow-rows", metavar="ROWS", help="only these rows t of the gradient "
                   "flow, e.g. 0,99,500-509: grad_flow_rows_<unit> (R, T) and flow_rows (R,)")
    p.set_defaults(func=cmd_trace)

    p = sub.add_parser("train", help="train a preset's models and write their weights")
    p.add_argument("preset", help="a shipped preset's name or a .toml file")
    p.add_argument("--out", required=True, help="a folder (writes <preset>-<k>-<cell>"
                   ".safetensors for model k) or, for a one-model preset, a .safetensors file")
    p.add_argument("--preset-out", help="also write a copy of the preset, as .toml, whose "
                   "models load the weights just written")
    p.add_argument("--steps", type=int, help="override the preset's number of steps")
    p.add_argument("--seed", type=int, help="override the preset's training seed")
    p.add_argument("--bptt-window", type=int, metavar="W", help="truncated back-propagation "
                   "through time: the gradient reaches back at most to the start of its "
                   "window of W steps")
    p.add_argument("--bptt-carry", action=argparse.BooleanOptionalAction, default=None,
                   help="with --bptt-window, whether each window starts from the state the "
                   "previous one ended with (default) or from zero")
    p.add_argument("--remat-chunk", type=int, metavar="K", help="rematerialisation: keep "
                   "only the state entering every K steps and recompute the rest in the "
                   "backward pass (same gradient, less memory)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("check", help="validate a preset file (exit 0, or 2 with the error)")
    p.add_argument("file", help="a .toml preset (or a shipped preset's name)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("open", help="open the window with your PyTorch, Keras or ONNX model "
                       "as a column")
    p.add_argument("model", help="a model file: .safetensors, .npz, .pt, .pth, .keras, "
                   ".weights.h5 or .onnx")
    p.add_argument("--preset", help="the preset whose task and columns it joins (default: "
                   "the last one used, or the default preset); the model must read its "
                   "task's inputs and write its outputs, unless --data gives its own")
    _own_data_arguments(p)
    p.set_defaults(func=lambda args: _front_end("rnnviz.ui.app").open_main(args))

    p = sub.add_parser("render", help="draw the window offscreen at one step to a PNG")
    p.add_argument("preset", nargs="?", default=DEFAULT_PRESET,
                   help="a shipped preset's name or a .toml file (default: %(default)s)")
    p.add_argument("--step", type=int, default=None, help="the time step (default: the "
                   "preset's start step)")
    p.add_argument("--out", required=True, help="the .png to write")
    p.add_argument("--size", type=_size, default=(1600, 1000), help="WIDTHxHEIGHT "
                   "(default: 1600x1000)")
    p.add_argument("--theme", choices=("light", "dark"), default="light")
    p.add_argument("--presentation", action="store_true",
                   help="presentation mode: only plots and time controls, large fonts")
    p.add_argument("--lesson-step", type=int, default=None, metavar="N",
                   help="draw step N of the preset's lesson (from 1, as the lesson bar "
                   "counts), every step before it done in turn")
    p.add_argument("--model", help="also show this model file as a column (in place of the "
                   "last when there are three)")
    p.add_argument("--tab", default=None, help="the side tab to show: Unit, Trajectory, "
                   "Weights or 'Flow map' (default: Unit)")
    _own_data_arguments(p)
    p.set_defaults(func=lambda args: _front_end("rnnviz.ui.render").main(args))

    p = sub.add_parser("export", help="step the window offscreen and write a GIF/MP4")
    p.add_argument("preset", help="a shipped preset's name or a .toml file")
    p.add_argument("--gif", help="the animated .gif to write")
    p.add_argument("--mp4", help="the .mp4 to write (needs ffmpeg: pip install imageio-ffmpeg)")
    p.add_argument("--from", dest="start", type=int, default=0, help="first step (default 0)")
    p.add_argument("--to", dest="stop", type=int, default=None,
                   help="last step, included (default: the last step)")
    p.add_argument("--fps", type=float, default=10.0, help="frames per second (default 10)")
    p.add_argument("--size", type=_size, default=(1600, 1000), help="WIDTHxHEIGHT "
                   "(default: 1600x1000)")
    p.set_defaults(func=lambda args: _front_end("rnnviz.ui.export_cli").main(args))
    parser.commands = tuple(sub.choices)
    return parser


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}") from None
    if not (960 <= width <= 8000 and 600 <= height <= 8000):
        raise argparse.ArgumentTypeError(f"expected at least 960x600 and at most 8000x8000, "
                                         f"got {text!r}")
    return width, height


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in parser.commands and not argv[0].startswith("-")):
        return _front_end("rnnviz.ui.app").main(argv[:1])
    args = parser.parse_args(argv)
    if args.command is None:
        return _front_end("rnnviz.ui.app").main([])
    try:
        with np.errstate(all="ignore"):  # NaN and overflow are found and said in one line
            return args.func(args)
    except RnnvizError as exc:
        print(f"rnnviz: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a file that changed under us: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(one_line(f"rnnviz: error: {where}{exc.strerror or exc}"), file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
