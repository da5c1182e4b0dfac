"""rnnviz's one XLA option: batch-1 scans compile as one kernel each, training's are left
alone (``rnnviz.xla_options``)."""

import subprocess
import sys
import textwrap

from rnnviz import xla_options

OPTION = f"--xla_backend_extra_options={xla_options.SMALL_LOOP_OPTION}="


def test_configure_puts_the_small_loop_option_before_existing_flags():
    """First, because XLA ignores every flag after a word that is not a flag."""
    env = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false not_a_flag=1"}
    assert xla_options.configure(env)
    flags = env["XLA_FLAGS"].split()
    assert flags == [f"{OPTION}{xla_options.SMALL_LOOP_BYTES}",
                     "--xla_cpu_multi_thread_eigen=false", "not_a_flag=1"]
    assert not xla_options.configure(env), "a second call must not add it twice"
    assert env["XLA_FLAGS"].count("xla_backend_extra_options") == 1


def test_configure_sets_flags_when_there_are_none():
    env = {}
    assert xla_options.configure(env)
    assert env["XLA_FLAGS"] == f"{OPTION}{xla_options.SMALL_LOOP_BYTES}"


def test_configure_keeps_the_users_backend_options():
    theirs = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=1"
    env = {"XLA_FLAGS": theirs}
    assert not xla_options.configure(env)
    assert env["XLA_FLAGS"] == theirs


def test_batch_one_trace_scans_are_hoisted_and_training_scans_are_not():
    """In a fresh interpreter (XLA reads its flags once): the trace's forward and backward
    scans become hoisted calls, training's batch-32 scans stay loops of separate kernels
    (hoisting them would compile their matmuls without YNNPACK, about 15x slower)."""
    code = textwrap.dedent("""
        import os
        os.environ.pop("XLA_FLAGS", None)
        import jax, numpy as np
        from rnnviz import ModelSpec, init_params
        from rnnviz.core.gradients import trace_with_bptt
        from rnnviz.training.loop import batch_loss

        spec = ModelSpec("lstm", 1, 16, output_size=1)
        params = init_params(spec, seed=0)
        xs = np.zeros((50, 1), np.float32)
        mask = np.ones(50, np.float32)
        trace = trace_with_bptt.lower(spec, params, xs, xs, mask, "mse").compile().as_text()
        bx = np.zeros((32, 50, 1), np.float32)
        bm = np.ones((32, 50), np.float32)
        grad = jax.jit(jax.grad(lambda p: batch_loss(spec, p, bx, bx, bm, "mse")[0]))
        train = grad.lower(params).compile().as_text()
        print(trace.count('xla_cpu_small_call="true"'), train.count('xla_cpu_small_call="true"'))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    hoisted_trace, hoisted_train = map(int, result.stdout.split())
    assert hoisted_trace >= 2, "the trace's forward and backward scans were not hoisted"
    assert hoisted_train == 0, "training's batch-32 scans were hoisted"
