"""Training a model on a task (``loop``), and the history of a run as the window shows it
(``history``)."""

from rnnviz.training.loop import (
    OPTIMIZERS,
    Progress,
    TrainOptions,
    TrainResult,
    evaluate,
    train,
)

__all__ = ["OPTIMIZERS", "Progress", "TrainOptions", "TrainResult", "evaluate", "train"]
