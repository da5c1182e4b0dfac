"""rnnviz: watch recurrent neural networks think.

The engine: JAX cells with PyTorch's parameter layout, full traces, a stepper, gradients
through time, tasks, training, presets and weight files. Never imports Qt. ``open_model`` and
``trace`` open a user's PyTorch, Keras or ONNX model and trace it (``rnnviz.files.notebook``);
``show`` opens the explorer on it from a notebook or a script (``rnnviz.cli.show``).
"""

from rnnviz import xla_options

xla_options.configure()  # before JAX starts its backend: XLA reads XLA_FLAGS only then

# isort: split
from rnnviz.cli.show import show
from rnnviz.core.cells import CELLS, get_cell
from rnnviz.core.init import InitOptions, init_params
from rnnviz.core.losses import Target
from rnnviz.core.model import Model
from rnnviz.core.spec import ModelSpec, enable_float64
from rnnviz.core.stepper import Stepper
from rnnviz.core.trace import Trace, TraceTime, compute_trace
from rnnviz.errors import RnnvizError
from rnnviz.files.notebook import open_model, trace

__all__ = ["CELLS", "InitOptions", "Model", "ModelSpec", "RnnvizError", "Stepper", "Target",
           "Trace", "TraceTime", "compute_trace", "enable_float64", "get_cell", "init_params",
           "open_model", "show", "trace"]
__version__ = "0.1.0"
