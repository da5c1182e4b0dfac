"""The shape of a model: cell type, sizes, layers, directions, and the PyTorch parameter names."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np

from rnnviz.core.cells import CellType, get_cell
from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_FEATURES, MAX_HIDDEN, MAX_LAYERS, MAX_TOKENS

DTYPES = ("float32", "float64")
# each size's bound in rnnviz.limits, and that constant's name (None allowed where optional)
_BOUNDS = {"input_size": (MAX_FEATURES, "MAX_FEATURES"), "hidden_size": (MAX_HIDDEN, "MAX_HIDDEN"),
           "num_layers": (MAX_LAYERS, "MAX_LAYERS"), "output_size": (MAX_FEATURES, "MAX_FEATURES"),
           "vocab_size": (MAX_TOKENS, "MAX_TOKENS")}
_OPTIONAL = ("output_size", "vocab_size")


def float64_enabled() -> bool:
    """Whether JAX computes in 64 bits in this process (``jax_enable_x64``)."""
    return bool(jax.config.read("jax_enable_x64"))


def enable_float64() -> None:
    """Let models compute in float64: switches JAX's 64-bit mode on for the whole process
    (``jax_enable_x64``; models in float32 stay in float32). Call it before building a
    float64 ``ModelSpec``; a weight file of float64 arrays then loads in float64 too."""
    jax.config.update("jax_enable_x64", True)


def unit_names(num_layers: int, bidirectional: bool) -> list[str]:
    """One name per layer and direction, bottom to top: ``l0``, ``l0_reverse``, ``l1``, ..."""
    directions = ("", "_reverse") if bidirectional else ("",)
    return [f"l{k}{sfx}" for k in range(num_layers) for sfx in directions]

@dataclass(frozen=True)
class ModelSpec:
    """A stacked, optionally bidirectional RNN/LSTM/GRU with an optional linear readout.

    Parameters are named and shaped as PyTorch's ``nn.RNN``/``nn.LSTM``/``nn.GRU``:
    ``weight_ih_l{k}{sfx} (G*H, I_k)``, ``weight_hh_l{k}{sfx} (G*H, H)``, ``bias_ih_l{k}{sfx}``
    and ``bias_hh_l{k}{sfx} (G*H,)``, where ``sfx`` is ``""`` or ``"_reverse"``, ``I_0`` is
    ``input_size`` and ``I_k = D*H`` above the first layer (``D`` = 2 when bidirectional).
    The readout maps the top layer's ``(D*H,)`` output to ``output_size``:
    ``readout.weight (O, D*H)``, ``readout.bias (O,)``; with ``output_size=None`` there is no
    readout and the output is the top layer's hidden state.

    Token inputs: with ``vocab_size`` ``V`` an embedding comes first, as PyTorch's
    ``nn.Embedding(V, input_size)`` does: the model reads one token id per step (``(T, 1)``,
    whole numbers in ``0..V-1``) and its first layer reads row ``id`` of
    ``embedding.weight (V, input_size)``.

    The LSTM with PyTorch's ``proj_size`` is the cell ``lstm_proj`` with the option
    ``proj_size`` ``P`` (``options={"proj_size": P}``): its h is ``(P,)`` (``weight_hr (P, H)``
    maps the ``(H,)`` cell to it), ``weight_hh`` is ``(4H, P)`` and the layer above reads
    ``D*P`` features.

    ``dtype="float64"`` needs JAX's 64-bit mode, which is process-wide: call
    ``rnnviz.enable_float64()`` first (rnnviz never switches it on by itself).
    Sizes are bounded by ``rnnviz.limits`` (``MAX_FEATURES``, ``MAX_HIDDEN``, ``MAX_LAYERS``,
    ``MAX_TOKENS``).

    A cell with parameters of its own (the modern recurrences) names them its way, still
    ``{name}_l{k}{sfx}`` (``A_log_l0``), and may have sizes beyond ``hidden_size``:
    ``options`` (a mapping, kept as sorted ``(name, value)`` pairs with every default filled
    in, ``CellType.options``), such as Mamba's ``d_state``.
    """

    cell: str
    input_size: int
    hidden_size: int
    num_layers: int = 1
    bidirectional: bool = False
    output_size: int | None = None
    dtype: str = "float32"
    options: tuple[tuple[str, int], ...] = ()
    vocab_size: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "cell", get_cell(self.cell).name)
        for name, (most, limit) in _BOUNDS.items():
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            if (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
                    or not 1 <= value <= most):
                raise RnnvizError(f"{name}: expected an integer in 1..{most} (limit {limit}), "
                                  f"got {value!r}")
        if self.dtype not in DTYPES:
            raise RnnvizError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.dtype == "float64" and not float64_enabled():
            raise RnnvizError("dtype float64: expected JAX's 64-bit mode; call "
                              "rnnviz.enable_float64() first (it applies to the whole "
                              "process)")
        object.__setattr__(self, "options",
                           self.cell_type.check_options(self.options, self.hidden_size))

    @property
    def cell_type(self) -> CellType:
        return get_cell(self.cell)

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def directions(self) -> tuple[str, ...]:
        """Suffixes of the directions: ``("",)`` or ``("", "_reverse")``."""
        return ("", "_reverse") if self.bidirectional else ("",)

    @property
    def units(self) -> list[str]:
        """One name per layer and direction, bottom to top: ``l0``, ``l0_reverse``, ``l1``, ..."""
        return unit_names(self.num_layers, self.bidirectional)

    @property
    def top_units(self) -> list[str]:
        return [f"l{self.num_layers - 1}{sfx}" for sfx in self.directions]

    @property
    def record_widths(self) -> dict[str, int]:
        """Width of each record of one unit (``h``, ``c``, each gate): ``hidden_size`` unless
        the cell says otherwise (``CellType.widths``: the projected LSTM's h is ``proj_size``,
        an LRU's h ``2N``)."""
        return self.cell_type.record_widths(self.hidden_size, self.options)

    @property
    def h_size(self) -> int:
        """Width of each unit's h, the state the gradient views perturb."""
        return self.record_widths["h"]

    def state_size(self, name: str) -> int:
        """Width of state ``name`` (``h``, ``c`` or a gate letter) of one unit."""
        return self.record_widths[name]

    @property
    def top_size(self) -> int:
        """Size of the top layer's output ``(D*H,)`` (the width of the cell's ``output``
        record times ``D``: ``D*P`` with a projection), what the readout reads."""
        return self.num_directions * self.record_widths[self.cell_type.output]

    @property
    def in_size(self) -> int:
        """Values per step of the sequence the model reads: 1 (a token id) with an
        embedding, else ``input_size``."""
        return 1 if self.vocab_size is not None else self.input_size

    @property
    def out_size(self) -> int:
        """Size of the model's output at each step."""
        return self.output_size if self.output_size is not None else self.top_size

    def layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.top_size

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter's PyTorch name and shape, in PyTorch's order (the embedding,
        when there is one, first)."""
        shapes: dict[str, tuple[int, ...]] = {}
        if self.vocab_size is not None:
            shapes["embedding.weight"] = (self.vocab_size, self.input_size)
        for k in range(self.num_layers):
            for sfx in self.directions:
                unit = self.cell_type.unit_param_shapes(self.layer_input_size(k),
                                                        self.hidden_size, self.options)
                shapes.update({f"{name}_l{k}{sfx}": shape for name, shape in unit.items()})
        if self.output_size is not None:
            shapes["readout.weight"] = (self.output_size, self.top_size)
            shapes["readout.bias"] = (self.output_size,)
        return shapes

    def describe(self) -> str:
        """A short human label, e.g. ``LSTM 2x32 bi``."""
        text = f"{self.cell_type.label} "
        text += f"{self.num_layers}x{self.hidden_size}" if self.num_layers > 1 else str(
            self.hidden_size
        )
        if self.options:  # the cell's own sizes: "proj_size 2", Mamba's d_state...
            text += " (" + ", ".join(f"{k} {v}" for k, v in self.options) + ")"
        if self.bidirectional:
            text += " bi"
        return text


def unit_params(params: dict, unit: str) -> dict:
    """The tensors of one layer and direction (``unit`` as in ``ModelSpec.units``), under
    the short names the cells use (``weight_ih_l1_reverse`` -> ``weight_ih``)."""
    suffix = f"_{unit}"
    return {name[: -len(suffix)]: value for name, value in params.items()
            if name.endswith(suffix)}
