"""Write ``tests/files/reference/torch_models.npz`` (and ``emb_lstm_proj.pt``): PyTorch's
answers for ``tests/files/test_torch_models.py``, models beyond a bare RNN: an
``nn.Embedding`` before it, an LSTM with ``proj_size``, stacked and bidirectional layers and a
linear head.

Needs torch (not a test dependency; the tests only read what this writes):

    python tests/files/reference/make_torch_models.py

For every configuration (a module ``embed -> rnn -> head``, token ids ``x (T,)``, T = 9) it
stores, under ``{config}/``:

- the module's state_dict under its own names (``embed.weight``, ``rnn.weight_ih_l0``, ...,
  ``rnn.weight_hr_l0`` with a projection, ``head.weight``, ``head.bias``), the ids ``x`` and a
  regression ``target (T, O)``;
- ``h (T, D*P)``: the fused ``nn.LSTM``/``nn.GRU``'s output, and ``output (T, O)``: the head's;
- from a cell loop written from PyTorch's documented equations (checked against the fused
  module to 1e-6): ``h_{unit}``, ``c_{unit}`` and ``gate_{x}_{unit}`` for every layer and
  direction;
- from autograd through that loop: ``loss (T,)`` per step (``mse_loss`` per step),
  ``grad_loss_h_{unit} (T,)`` = ``||dL/dh_t||`` and ``grad_param_{name} ()`` = ``||dL/dW||``
  under rnnviz's names (``embedding.weight``, ``weight_ih_l0``, ``readout.weight``, ...).

``emb_lstm_proj.pt`` is the first configuration's state_dict saved by ``torch.save``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

T = 9
SEED = 20261130
HERE = Path(__file__).parent
OUT_PATH = HERE / "torch_models.npz"
PT_PATH = HERE / "emb_lstm_proj.pt"
# name: (rnn class, vocab, embedding, hidden, layers, bidirectional, proj_size, outputs)
CONFIGS = {
    "emb_lstm_proj_2bi": (nn.LSTM, 13, 3, 5, 2, True, 2, 2),
    "emb_gru_2": (nn.GRU, 11, 4, 3, 2, False, 0, 3),
    "emb_lstm_1": (nn.LSTM, 7, 2, 4, 1, False, 0, 1),
}


class Net(nn.Module):
    def __init__(self, rnn_class, vocab, emb, hidden, layers, bidirectional, proj, outputs):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        extra = {"proj_size": proj} if proj else {}
        self.rnn = rnn_class(emb, hidden, layers, bidirectional=bidirectional, **extra)
        top = (proj or hidden) * (2 if bidirectional else 1)
        self.head = nn.Linear(top, outputs)

    def forward(self, ids):
        y, _ = self.rnn(self.embed(ids)[:, None, :])
        return self.head(y[:, 0]), y[:, 0]


def lstm_cell(p, x, state):
    h, c = state
    wi, wf, wg, wo = p["weight_ih"].chunk(4)
    ui, uf, ug, uo = p["weight_hh"].chunk(4)
    bi, bf, bg, bo = p["bias_ih"].chunk(4)
    ci, cf, cg, co = p["bias_hh"].chunk(4)
    i = torch.sigmoid(wi @ x + bi + ui @ h + ci)
    f = torch.sigmoid(wf @ x + bf + uf @ h + cf)
    g = torch.tanh(wg @ x + bg + ug @ h + cg)
    o = torch.sigmoid(wo @ x + bo + uo @ h + co)
    c = f * c + i * g
    h = o * torch.tanh(c)
    if "weight_hr" in p:
        h = p["weight_hr"] @ h
    return (h, c), {"i": i, "f": f, "g": g, "o": o}


def gru_cell(p, x, state):
    (h,) = state
    wr, wz, wn = p["weight_ih"].chunk(3)
    ur, uz, un = p["weight_hh"].chunk(3)
    br, bz, bn = p["bias_ih"].chunk(3)
    cr, cz, cn = p["bias_hh"].chunk(3)
    r = torch.sigmoid(wr @ x + br + ur @ h + cr)
    z = torch.sigmoid(wz @ x + bz + uz @ h + cz)
    n = torch.tanh(wn @ x + bn + r * (un @ h + cn))
    h = (1 - z) * n + z * h
    return (h,), {"r": r, "z": z, "n": n}


def manual_forward(rnn: nn.Module, x: torch.Tensor):
    """The stacked, optionally bidirectional loop: ``(output (T, D*P), records, hs)``."""
    lstm = isinstance(rnn, nn.LSTM)
    step = lstm_cell if lstm else gru_cell
    sd = dict(rnn.named_parameters())
    proj = getattr(rnn, "proj_size", 0)
    directions = ["", "_reverse"] if rnn.bidirectional else [""]
    records, hs = {}, {}
    layer_input = x
    for k in range(rnn.num_layers):
        outs = []
        for sfx in directions:
            unit = f"l{k}{sfx}"
            names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] + (["weight_hr"] if proj
                                                                        else [])
            p = {n: sd[f"{n}_{unit}"] for n in names}
            h0 = torch.zeros(proj or rnn.hidden_size)
            state = (h0, torch.zeros(rnn.hidden_size)) if lstm else (h0,)
            order = range(T - 1, -1, -1) if sfx else range(T)
            h_at, c_at, gates_at = [None] * T, [None] * T, [None] * T
            for t in order:
                state, gates = step(p, layer_input[t], state)
                state[0].retain_grad()
                h_at[t] = state[0]
                if lstm:
                    c_at[t] = state[1]
                gates_at[t] = gates
            hs[unit] = h_at
            records[f"h_{unit}"] = torch.stack(h_at)
            if lstm:
                records[f"c_{unit}"] = torch.stack(c_at)
            for letter in gates_at[0]:
                records[f"gate_{letter}_{unit}"] = torch.stack([g[letter] for g in gates_at])
            outs.append(records[f"h_{unit}"])
        layer_input = torch.cat(outs, dim=1)
    return layer_input, records, hs


def rnnviz_name(name: str) -> str:
    """A state_dict key under rnnviz's parameter names."""
    if name.startswith("embed."):
        return "embedding.weight"
    if name.startswith("head."):
        return "readout." + name.split(".", 1)[1]
    return name.split(".", 1)[1]


def reference(name: str, seed: int) -> dict[str, np.ndarray]:
    torch.manual_seed(seed)
    net = Net(*CONFIGS[name])
    vocab = CONFIGS[name][1]
    x = torch.randint(0, vocab, (T,))
    outputs = CONFIGS[name][-1]
    target = torch.randn(T, outputs)
    out: dict[str, object] = {k: v.detach() for k, v in net.state_dict().items()}
    out["x"], out["target"] = x, target

    fused_out, fused_h = net(x)
    embedded = net.embed(x)
    h, records, hs = manual_forward(net.rnn, embedded)
    assert torch.allclose(h, fused_h, rtol=0, atol=1e-6), float((h - fused_h).abs().max())
    y = net.head(h)
    assert torch.allclose(y, fused_out, rtol=0, atol=1e-6)
    step_loss = ((y - target) ** 2).mean(dim=1)
    step_loss.mean().backward()
    out["h"], out["output"] = fused_h.detach(), fused_out.detach()
    out.update({k: v.detach() for k, v in records.items()})
    out["loss"] = step_loss.detach()
    for unit, h_list in hs.items():
        out[f"grad_loss_h_{unit}"] = torch.tensor([float(v.grad.norm()) for v in h_list])
    for pname, p in net.named_parameters():
        out[f"grad_param_{rnnviz_name(pname)}"] = p.grad.norm().detach()
    if name == "emb_lstm_proj_2bi":
        torch.save(net.state_dict(), PT_PATH)
    return {f"{name}/{k}": np.asarray(v, dtype=np.float32 if k != "x" else np.int64)
            for k, v in out.items()}


def main() -> None:
    torch.set_default_dtype(torch.float32)
    arrays: dict[str, np.ndarray] = {}
    for i, name in enumerate(CONFIGS):
        arrays.update(reference(name, SEED + i))
    np.savez_compressed(OUT_PATH, **arrays)
    print(f"wrote {OUT_PATH} ({OUT_PATH.stat().st_size} bytes, {len(arrays)} arrays) and "
          f"{PT_PATH} ({PT_PATH.stat().st_size} bytes), torch {torch.__version__}")


if __name__ == "__main__":
    main()
