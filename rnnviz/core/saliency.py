"""Input saliency: how much the output at step t still depends on each past input.

For one step t, ``saliency_row`` gives, for every step k, the Frobenius norm of the
``(O, I)`` Jacobian of the model's output at t with respect to its input at k::

    s_k = || d output_t / d x_k ||_F = sqrt( sum_{o, i} (d output_t[o] / d x_k[i])^2 )

shape ``(T,)``. In a unidirectional model ``s_k = 0`` for ``k > t`` (the output at t has not
seen them); a bidirectional model's reverse direction reads the future, so there ``s_k`` may be
non-zero for every k. In a vanilla RNN ``s_k`` is a product of ``t - k`` factors
``W_hh diag(1 - h_j^2)``: it fades (or blows up) geometrically with the distance ``t - k``,
which is why the strip is drawn on a log scale.

A model with an embedding reads token ids, whose derivative means nothing (an id is a label,
not a quantity): there ``x_k`` is the embedded vector ``e_k = embedding.weight[id_k]``
``(input_size,)`` that the first layer reads, and ``s_k = || d output_t / d e_k ||_F``.

Computed by JAX autodiff (never finite differences): one forward pass, then ``O`` backward
passes (``vjp`` of the output at t, batched over the ``O`` unit cotangents with ``vmap``).
``t`` may be a traced integer, so the function compiles once per model shape and sequence
length. NaN and Inf are kept as they come.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from rnnviz.core.forward import embed, run
from rnnviz.core.spec import ModelSpec


def output_input_jacobian(spec: ModelSpec, params: dict, xs, t):
    """``d output_t / d x_k`` for every k: shape ``(O, T, I)`` (output, step, input); with
    an embedding, ``d output_t / d e_k`` (``I`` = ``input_size``, the embedded vectors)."""
    def output_at_t(inputs):
        _, _, outputs = run(spec, params, inputs, embedded=True)
        return outputs[t]

    _, vjp = jax.vjp(output_at_t, embed(spec, params, xs))
    eye = jnp.eye(spec.out_size, dtype=xs.dtype)
    (jac,) = jax.vmap(vjp)(eye)
    return jac


@partial(jax.jit, static_argnames=("spec",))
def saliency_row(spec: ModelSpec, params: dict, xs, t):
    """``||d output_t / d x_k||_F`` for every k, shape ``(T,)``, for ``xs (T, I)`` (with an
    embedding, ``||d output_t / d e_k||_F`` for token ids ``xs (T, 1)``)."""
    jac = output_input_jacobian(spec, params, xs, t)
    return jnp.sqrt(jnp.sum(jac * jac, axis=(0, 2)))
