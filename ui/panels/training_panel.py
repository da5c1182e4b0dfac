"""The training panel: options, Train / Stop / Reset, progress, and live curves.

Left, the options of the chosen column (or of all columns: a change then applies to each);
right, two log-scale plots: the training loss (solid) and validation loss (dashed, dots) of
every column in its colour, and the gradient norms of the column training now, one curve per
parameter tensor plus the global norm, with the clipping threshold when clipping is on. Plot
items are made once per column (or parameter name) and refilled with ``setData``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnnviz.limits import MAX_BATCH, MAX_LENGTH, MAX_SEED, MAX_STEPS
from rnnviz.training.history import COMPILING, DIVERGED, QUEUED, RUNNING, History
from rnnviz.training.loop import OPTIMIZERS

from ..column.items import finite_positive
from ..state.training import Training
from ..style import theme as colours
from ..style.theme import Theme

# Okabe-Ito: the columns, then the parameter tensors of the gradient plot
COLUMN_COLOURS = ("#0072B2", "#D55E00", "#009E73")
PARAM_COLOURS = ("#56B4E9", "#E69F00", "#CC79A7", "#009E73", "#F0E442", "#0072B2",
                 "#D55E00", "#999999")
ALL = "All columns"

HELP = {
    "loss": "Loss of each column while it trains (log scale). Solid: the training batch at "
            "each step. Dashed with dots: a fixed validation batch, every few steps.",
    "grad": "Gradient norm ||dL/dW|| of each parameter tensor (log scale), and the global "
            "norm over all of them (thick). With clipping on, the dashed line is the "
            "threshold: the global norm is scaled down to it before each update.",
}


def format_progress(title: str, history: History) -> str:
    """The progress bar's text: ``"LSTM · step 120/500 · 3.2 s left"``."""
    if history.state == QUEUED:
        return f"{title} · waiting"
    if history.state == COMPILING:
        return f"{title} · compiling…"
    step = history.step
    if history.state == DIVERGED and history.diverged_at is not None:
        step = history.diverged_at - history.offset  # where it broke, as the warning says
    text = f"{title} · step {step}/{history.total}"
    if history.state == RUNNING and history.eta is not None:
        text += f" · {history.eta:.1f} s left"
    elif history.state != RUNNING:
        text += f" · {history.state}"
    return text


class CompactSpinBox(QDoubleSpinBox):
    """Shows ``0.01``, not ``0.010000``."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt's name)
        return f"{value:.{self.decimals()}g}"


class TrainingPanel(QWidget):
    """The view of a ``Training``."""

    def __init__(self, training: Training, theme: Theme = colours.LIGHT, parent=None):
        super().__init__(parent)
        self.training, self.theme = training, theme
        self.state = training.state
        self._filling = False
        self._loss_items: dict[int, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self._param_items: dict[str, pg.PlotDataItem] = {}
        self._grad_column: int | None = None
        self._empty: dict[pg.PlotItem, bool] = {}

        self._build_controls()
        self._build_form()
        self._build_plots()
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addLayout(self.form)
        left.addStretch(1)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(left)
        body.addWidget(self.canvas, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.setSpacing(4)
        layout.addLayout(self.controls)
        layout.addWidget(self.warning)
        layout.addLayout(body, 1)

        training.events.state.connect(self._update_state)
        training.events.progress.connect(self._update_column)
        training.events.options.connect(self._on_options_changed)
        self.state.events.columns.connect(self._update_targets)
        self._update_targets()
        self._update_state()

    # -- building ----------------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.target = QComboBox()
        self.target.setToolTip("Which column the options and buttons apply to")
        self.target.currentIndexChanged.connect(self._on_target_chosen)
        self.train_button = QPushButton("▶ Train")
        self.train_button.setToolTip("Train the chosen column (or all, side by side on the "
                                     "machine's cores) from the weights it has now")
        self.train_button.clicked.connect(lambda: self.training.train(self.target_ids()))
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setToolTip("Stop after the current chunk of steps, keeping the "
                                    "weights reached")
        self.stop_button.clicked.connect(self.training.stop)
        self.reset_button = QPushButton("Reset weights")
        self.reset_button.setToolTip("Back to the initial weights; clears the curves")
        self.reset_button.clicked.connect(self._reset)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setMinimumWidth(320)
        self.bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.controls = QHBoxLayout()
        self.controls.setSpacing(6)
        self.controls.addWidget(QLabel("Column:"))
        for w in (self.target, self.train_button, self.stop_button, self.reset_button):
            self.controls.addWidget(w)
        self.controls.addWidget(self.bar, 1)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b00020; font-weight: bold;")
        self.warning.hide()

    def _build_form(self) -> None:
        self.form = QFormLayout()
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setVerticalSpacing(2)
        self.optimizer = QComboBox()
        for name in OPTIMIZERS:
            self.optimizer.addItem({"adam": "Adam", "sgd": "SGD (momentum)",
                                    "rmsprop": "RMSprop"}[name], name)
        self.optimizer.currentIndexChanged.connect(
            lambda _: self._set("optimizer", self.optimizer.currentData()))
        self.learning_rate = self._double(1e-6, 1000.0, 6, "learning_rate")
        self.learning_rate.setToolTip("Step size of each update; too large and the loss "
                                      "explodes to NaN")
        self.momentum = self._double(0.0, 0.999, 3, "momentum")
        self.momentum.setSingleStep(0.05)
        self.clip = QCheckBox("clip at")
        self.clip.setToolTip("Clip the gradient to this global norm before each update "
                             "(tames exploding gradients)")
        self.clip.toggled.connect(self._on_clip)
        self.clip_norm = CompactSpinBox(decimals=3, minimum=0.001, maximum=1e6)
        self.clip_norm.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.clip_norm.setValue(1.0)  # what ticking "clip at" starts from
        self.clip_norm.valueChanged.connect(self._on_clip)
        clip_row = QHBoxLayout()
        clip_row.addWidget(self.clip)
        clip_row.addWidget(self.clip_norm, 1)
        self.truncate = QCheckBox("windows of")
        self.truncate.setToolTip("Truncated back-propagation through time: the gradient of a "
                                 "step's loss reaches back only to the start of its window")
        self.truncate.toggled.connect(self._on_window)
        self.window = QSpinBox(minimum=1, maximum=MAX_LENGTH)
        self.window.setValue(10)  # what ticking "windows of" starts from
        self.window.valueChanged.connect(self._on_window)
        self.carry = QCheckBox("carry state")
        self.carry.setToolTip("Each window starts from the state the previous one ended with "
                              "(no gradient crosses); unticked, from zero")
        self.carry.toggled.connect(lambda on: self._set("bptt_carry", bool(on)))
        self.remat = QCheckBox("recompute chunks of")
        self.remat.setToolTip("Rematerialisation: keep only the state entering each chunk of "
                              "steps and recompute the rest in the backward pass (the same "
                              "gradient, less memory: see each column's BPTT figure)")
        self.remat.toggled.connect(self._on_remat)
        self.chunk = QSpinBox(minimum=1, maximum=MAX_LENGTH)
        self.chunk.setValue(32)
        self.chunk.valueChanged.connect(self._on_remat)
        remat_row = QHBoxLayout()
        remat_row.addWidget(self.remat)
        remat_row.addWidget(self.chunk, 1)
        window_row = QHBoxLayout()
        for widget in (self.truncate, self.window, self.carry):
            window_row.addWidget(widget)
        self.batch_size = self._int(1, MAX_BATCH, "batch_size")
        self.steps = self._int(1, MAX_STEPS, "steps")
        self.steps.setSingleStep(100)
        self.seed = self._int(0, MAX_SEED, "seed")
        self.seed.setToolTip("Seeds the training batches: the same seed and starting weights "
                             "give the same losses")
        for label, widget in (("optimizer", self.optimizer), ("learning rate",
                              self.learning_rate), ("momentum", self.momentum),
                              ("gradient", clip_row), ("back-prop", window_row),
                              ("memory", remat_row),
                              ("batch size", self.batch_size),
                              ("steps", self.steps), ("seed", self.seed)):
            self.form.addRow(label, widget)

    def _double(self, lo: float, hi: float, decimals: int, name: str) -> QDoubleSpinBox:
        box = CompactSpinBox(decimals=decimals, minimum=lo, maximum=hi)
        box.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        box.valueChanged.connect(lambda v: self._set(name, float(v)))
        return box

    def _int(self, lo: int, hi: int, name: str) -> QSpinBox:
        box = QSpinBox(minimum=lo, maximum=hi)
        box.valueChanged.connect(lambda v: self._set(name, int(v)))
        return box

    def _build_plots(self) -> None:
        t = self.theme
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(t.background)
        self.canvas.setMinimumHeight(170)
        self.loss_plot = self._plot(0, "loss", "loss")
        self.loss_plot.setTitle("loss: training (solid), validation (dashed ●)", size="9pt",
                                color=t.foreground)
        self.legend = self.loss_plot.addLegend(offset=(-4, 4), labelTextSize="8pt",
                                               colCount=3, labelTextColor=t.foreground)
        self.grad_plot = self._plot(1, "‖dL/dW‖", "grad")
        self.grad_total = self.grad_plot.plot(pen=pg.mkPen(t.foreground, width=2),
                                              name="global")
        # beside the plot, not over it: one row per parameter tensor
        self.grad_legend = pg.LegendItem(labelTextSize="8pt", labelTextColor=t.foreground,
                                         verSpacing=-6)
        self.canvas.ci.addItem(self.grad_legend, row=0, col=2)
        self.grad_legend.setSizePolicy(QSizePolicy.Policy.Preferred,
                                       QSizePolicy.Policy.Maximum)
        self.canvas.ci.layout.setAlignment(self.grad_legend, Qt.AlignmentFlag.AlignTop)
        self.grad_legend.addItem(self.grad_total, "global norm")
        self.clip_line = pg.InfiniteLine(angle=0, movable=False,
                                         pen=pg.mkPen("#b00020", width=1.5,
                                                      style=Qt.PenStyle.DashLine),
                                         label="clip {value}", labelOpts={"color": "#b00020",
                                                                          "position": 0.92})
        self.clip_line.setVisible(False)
        self.grad_plot.addItem(self.clip_line, ignoreBounds=True)

    def apply_theme(self, theme: Theme) -> None:
        """Restyle the plots in place for ``theme`` (the curves keep their data)."""
        self.theme = theme
        self.canvas.setBackground(theme.background)
        for plot in (self.loss_plot, self.grad_plot):
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(theme.muted, width=1))
                axis.setTextPen(theme.foreground)
                axis.setLabel(axis.labelText, color=theme.foreground)
            if plot.titleLabel.text:
                plot.setTitle(plot.titleLabel.text, size="9pt", color=theme.foreground)
        for legend in (self.legend, self.grad_legend):
            legend.setLabelTextColor(theme.foreground)
            for _sample, label in legend.items:  # the colour applies from the next setText
                label.setText(label.text, color=theme.foreground)
        self.grad_total.setPen(pg.mkPen(theme.foreground, width=2))

    def _plot(self, col: int, label: str, help_key: str) -> pg.PlotItem:
        plot = self.canvas.ci.addPlot(row=0, col=col, enableMenu=False)
        plot.setLogMode(x=False, y=True)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setToolTip(HELP[help_key])
        plot.getAxis("left").setLabel(label)
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.getAxis("bottom").setLabel("step")
        self._set_empty(plot, True)
        return plot

    def _set_empty(self, plot: pg.PlotItem, empty: bool) -> None:
        """With no data a plot shows steps 0..100 and 0.001..1; the first points bring
        automatic ranges back (once, so that a zoom is kept while a run goes on)."""
        if self._empty.get(plot) == empty:
            return
        self._empty[plot] = empty
        if empty:
            plot.setRange(xRange=(0, 100), yRange=(-3, 0), padding=0)  # y in log10
        else:
            plot.enableAutoRange()

    # -- the chosen columns ------------------------------------------------------------------
    def target_ids(self) -> list[int] | None:
        """The chosen column's id in a list, or None for all columns."""
        data = self.target.currentData()
        return None if data is None else [data]

    def _targets(self) -> list[int]:
        ids = self.target_ids()
        return ids if ids is not None else [c.id for c in self.state.columns]

    def _update_targets(self) -> None:
        current = self.target.currentData()
        self._filling = True
        self.target.clear()
        self.target.addItem(ALL, None)
        for column in self.state.columns:
            self.target.addItem(column.config.title, column.id)
        index = self.target.findData(current) if current is not None else 0
        self.target.setCurrentIndex(max(0, index))
        self._filling = False
        self._sync_loss_items()
        self._fill_form()

    def _on_target_chosen(self, _index: int) -> None:
        if not self._filling:
            self._fill_form()
            self._update_grad()

    # -- the form ----------------------------------------------------------------------------
    def _fill_form(self) -> None:
        ids = self._targets()
        if not ids or ids[0] not in self.training.options:
            return
        options = self.training.options[ids[0]]
        self._filling = True
        try:
            self.optimizer.setCurrentIndex(self.optimizer.findData(options.optimizer))
            self.learning_rate.setValue(options.learning_rate)
            self.momentum.setValue(options.momentum)
            self.momentum.setEnabled(options.optimizer == "sgd")
            self.clip.setChecked(options.clip_norm is not None)
            if options.clip_norm is not None:
                self.clip_norm.setValue(options.clip_norm)
            self.clip_norm.setEnabled(options.clip_norm is not None)
            self.truncate.setChecked(options.bptt_window is not None)
            if options.bptt_window is not None:
                self.window.setValue(options.bptt_window)
            self.window.setEnabled(options.bptt_window is not None)
            self.carry.setChecked(options.bptt_carry)
            self.carry.setEnabled(options.bptt_window is not None)
            self.remat.setChecked(options.remat_chunk is not None)
            if options.remat_chunk is not None:
                self.chunk.setValue(options.remat_chunk)
            self.chunk.setEnabled(options.remat_chunk is not None)
            self.batch_size.setValue(options.batch_size)
            self.steps.setValue(options.steps)
            self.seed.setValue(options.seed)
        finally:
            self._filling = False

    def _set(self, name: str, value) -> None:
        if not self._filling:
            self.training.set_option(self._targets(), name, value)

    def _on_clip(self, *_args) -> None:
        self.clip_norm.setEnabled(self.clip.isChecked())
        self._set("clip_norm", self.clip_norm.value() if self.clip.isChecked() else None)

    def _on_window(self, *_args) -> None:
        on = self.truncate.isChecked()
        self.window.setEnabled(on)
        self.carry.setEnabled(on)
        self._set("bptt_window", self.window.value() if on else None)

    def _on_remat(self, *_args) -> None:
        self.chunk.setEnabled(self.remat.isChecked())
        self._set("remat_chunk", self.chunk.value() if self.remat.isChecked() else None)

    def _on_options_changed(self, column_id: int) -> None:
        ids = self._targets()
        if ids and ids[0] == column_id:
            self._fill_form()
        if column_id == self._grad_column:
            self._update_clip_line()

    # -- state and progress ------------------------------------------------------------------
    def _reset(self) -> None:
        for cid in self._targets():
            self.training.reset(cid)

    def _update_state(self) -> None:
        running = self.training.running
        self.train_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.reset_button.setEnabled(not running)
        self.target.setEnabled(not running)
        warnings = [h.message for h in self.training.histories.values()
                    if h.message and h.state in (DIVERGED, "failed")]
        self.warning.setText("⚠ " + " · ".join(warnings) if warnings else "")
        self.warning.setVisible(bool(warnings))
        self._update_bar()
        self._update_grad()

    def _shown_column(self) -> int | None:
        """The column the progress bar and gradient plot follow: the one training now, else
        the chosen one, else the last that trained."""
        running = self.training.running_column()
        if running is not None:
            return running
        ids = self.target_ids()
        if ids is not None:
            return ids[0]
        trained = [c.id for c in self.state.columns
                   if len(self.training.histories.get(c.id, History()).losses)]
        return trained[-1] if trained else (self.state.columns[0].id
                                            if self.state.columns else None)

    def _update_bar(self) -> None:
        cid = self._shown_column()
        history = self.training.histories.get(cid) if cid is not None else None
        if history is None or (history.total == 0 and not history.running):
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.bar.setFormat("not trained yet: press Train")
            return
        title = self.state.column(cid).config.title
        self.bar.setRange(0, max(1, history.total))
        self.bar.setValue(history.step)
        text = format_progress(title, history)
        beside = [self.state.column(c).config.title for c, h in self.training.histories.items()
                  if h.state in (COMPILING, RUNNING) and c != cid]
        if beside:  # the columns train side by side, one per core
            text += f"  (with {', '.join(beside)})"
        queued = [self.state.column(c).config.title for c, h in self.training.histories.items()
                  if h.state == QUEUED and c != cid]
        if queued and history.state != QUEUED:
            text += f"  (then {', '.join(queued)})"
        if self.training.stopping and history.running:
            text = f"{title} · step {history.step}/{history.total} · stopping…"
        self.bar.setFormat(text)

    def _update_column(self, column_id: int) -> None:
        self._update_loss(column_id)
        self._update_bar()
        if column_id == self._shown_column():
            self._update_grad()

    # -- curves ------------------------------------------------------------------------------
    def _sync_loss_items(self) -> None:
        alive = {c.id: (i, c) for i, c in enumerate(self.state.columns)}
        for cid in list(self._loss_items):
            if cid not in alive:
                for item in self._loss_items.pop(cid):
                    self.legend.removeItem(item)
                    self.loss_plot.removeItem(item)
        for cid, (index, column) in alive.items():
            colour = COLUMN_COLOURS[index % len(COLUMN_COLOURS)]
            items = self._loss_items.get(cid)
            if items is None:
                train = self.loss_plot.plot(pen=pg.mkPen(colour, width=1.5), connect="finite")
                val = self.loss_plot.plot(pen=pg.mkPen(colour, width=1.5,
                                                       style=Qt.PenStyle.DashLine),
                                          symbol="o", symbolSize=5, symbolBrush=colour,
                                          symbolPen=None, connect="finite")
                self._loss_items[cid] = items = (train, val)
            else:
                self.legend.removeItem(items[0])
                items[0].setPen(pg.mkPen(colour, width=1.5))
                items[1].setPen(pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine))
                items[1].setSymbolBrush(colour)
            self.legend.addItem(items[0], column.config.title)
            self._update_loss(cid)

    def _update_loss(self, column_id: int) -> None:
        items = self._loss_items.get(column_id)
        history = self.training.histories.get(column_id)
        if items is None or history is None:
            return
        losses, _ = finite_positive(history.losses)
        items[0].setData(history.steps, losses)
        val, _ = finite_positive(history.val_losses)
        shown = np.isfinite(val)  # dots: a NaN would upset the scatter's bounds
        items[1].setData(history.val_steps[shown], val[shown])
        self._set_empty(self.loss_plot, not any(
            len(self.training.histories[c].losses) for c in self._loss_items
            if c in self.training.histories))

    def _update_grad(self) -> None:
        cid = self._shown_column()
        self._grad_column = cid
        history = self.training.histories.get(cid) if cid is not None else None
        if history is None:
            self.grad_total.setData([], [])
            for item in self._param_items.values():
                item.setData([], [])
            return
        title = self.state.column(cid).config.title
        self.grad_plot.setTitle(f"gradient norm of each parameter tensor · {title}",
                                size="9pt", color=self.theme.foreground)
        total, _ = finite_positive(history.grad_norms)
        self.grad_total.setData(history.steps, total)
        self._set_empty(self.grad_plot, len(total) == 0)
        norms = history.param_norms()
        steps = history.param_steps
        for name in norms:
            if name not in self._param_items:
                colour = PARAM_COLOURS[len(self._param_items) % len(PARAM_COLOURS)]
                item = self.grad_plot.plot(pen=pg.mkPen(colour, width=1), connect="finite")
                self._param_items[name] = item
                self.grad_legend.addItem(item, name)
        for name, item in self._param_items.items():
            if name in norms and len(norms[name]) == len(steps):
                shown, _ = finite_positive(norms[name])
                item.setData(steps, shown)
            else:
                item.setData([], [])
        self._update_clip_line()

    def _update_clip_line(self) -> None:
        cid = self._grad_column
        options = self.training.options.get(cid) if cid is not None else None
        clip = options.clip_norm if options is not None else None
        self.clip_line.setVisible(clip is not None)
        if clip is not None:
            self.clip_line.setValue(np.log10(clip))  # the y axis is log10 of the norm
            self.clip_line.label.setFormat(f"clip {clip:g}")
