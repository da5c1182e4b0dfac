"""The side panel: tabs for the selected unit (the inspector), the state trajectory, the
recurrent weights and the whole gradient-flow map."""

from __future__ import annotations

from PySide6.QtWidgets import QSplitter, QTabWidget

from ..state.controller import Explorer
from ..style import theme as colours
from ..style.theme import Theme
from .flow_map_view import FlowMapView
from .inspector import Inspector
from .trajectory_view import TrajectoryView
from .weights_view import WeightsView

TAB_NAMES = ("Unit", "Trajectory", "Weights", "Flow map")  # in this order
MIN_WIDTHS = {"Trajectory": 300, "Weights": 480, "Flow map": 360}  # pixels each tab wants


class SideTabs(QTabWidget):
    def __init__(self, explorer: Explorer, theme: Theme = colours.LIGHT, parent=None):
        super().__init__(parent)
        self.inspector = Inspector(explorer)
        self.trajectory = TrajectoryView(explorer, theme)
        self.weights = WeightsView(explorer, theme)
        self.flow_map = FlowMapView(explorer, theme)
        for tab, name in zip((self.inspector, self.trajectory, self.weights, self.flow_map),
                             TAB_NAMES, strict=True):
            self.addTab(tab, name)
        self.setTabToolTip(0, "The selected unit's values and equations at step t")
        self.setTabToolTip(1, "h_t as a path in the plane of its two principal components")
        self.setTabToolTip(2, "W_hh as a heatmap and its eigenvalues with the unit circle")
        self.setTabToolTip(3, "||d loss_t / dh_k|| for every t and k: how far back gradients "
                              "reach")
        self.currentChanged.connect(self._make_room)

    def apply_theme(self, theme: Theme) -> None:
        """Draw the plotting tabs in ``theme`` (the inspector follows the window's palette)."""
        for view in (self.trajectory, self.weights, self.flow_map):
            view.apply_theme(theme)

    def tab_name(self) -> str:
        """The tab shown, as a lesson names it (``rnnviz.files.lessons.TABS``: its text in
        lower case)."""
        return self.tabText(self.currentIndex()).lower()

    def show_tab(self, name: str) -> None:
        for index in range(self.count()):
            if self.tabText(index).lower() == name:
                self.setCurrentIndex(index)

    def _make_room(self, index: int) -> None:
        """Widen the panel (taking from its splitter's widest neighbour) when the chosen tab
        needs more room than it has: the weights tab draws two plots side by side."""
        splitter = self.parent()
        if not isinstance(splitter, QSplitter):
            return
        wanted = MIN_WIDTHS.get(self.tabText(index), 0)
        sizes = splitter.sizes()
        me = splitter.indexOf(self)
        if sizes[me] >= wanted:
            return
        widest = max((i for i in range(len(sizes)) if i != me), key=lambda i: sizes[i])
        grow = min(wanted - sizes[me], sizes[widest] // 3)
        sizes[me] += grow
        sizes[widest] -= grow
        splitter.setSizes(sizes)
