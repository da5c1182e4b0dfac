"""The core: cells, the recurrence with its backward pass, running a model over a sequence or
one step, initialisation, losses, gradients through time, traces, the stepper and ``Model``.

Nothing here reads or writes files, or knows about tasks, presets or training.
"""
