"""rnnviz: watch recurrent neural networks think.

The engine: JAX cells with PyTorch's parameter layout, full traces, a stepper, gradients
through time, tasks, training, presets and weight files. Never imports Qt.
"""

from rnnviz import xla_options

xla_options.configure()  # before JAX starts its backend: XLA reads XLA_FLAGS only then

# isort: split
from rnnviz.cells import CELLS, get_cell
from rnnviz.errors import RnnvizError
from rnnviz.init import InitOptions, init_params
from rnnviz.losses import Target
from rnnviz.model import Model
from rnnviz.spec import ModelSpec, enable_float64
from rnnviz.stepper import Stepper
from rnnviz.trace import Trace, compute_trace

__all__ = ["CELLS", "InitOptions", "Model", "ModelSpec", "RnnvizError", "Stepper", "Target",
           "Trace", "compute_trace", "enable_float64", "get_cell", "init_params"]
__version__ = "0.1.0"
