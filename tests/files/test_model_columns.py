"""A model file as a preset's column: added beside the others or in place of the last."""

import pytest

from rnnviz import RnnvizError
from rnnviz.files.model_columns import with_model_column
from rnnviz.files.presets import load_preset


def test_the_model_replaces_the_last_of_three_columns(keras_models):
    preset = load_preset("sine")
    opened = with_model_column(preset, keras_models[0] / "lstm_sine.weights.h5")
    assert opened.models[:2] == preset.models[:2] and len(opened.models) == 3
    last = opened.models[2]
    assert (last.cell, last.hidden_size, last.label) == ("lstm", 6, "lstm_sine.weights.h5")
    assert last.build(1, 1).spec.hidden_size == 6


def test_token_models_and_misfits_of_the_task_are_one_line(keras_models):
    preset = load_preset("sine")
    with pytest.raises(RnnvizError, match=r"reads token ids \(an embedding of 13 rows\) and "
                                          "writes 2 features; the task gives 1"):
        with_model_column(preset, keras_models[0] / "lstm_emb_bi_2.keras")
    with pytest.raises(RnnvizError, match="reads 2 and writes 3 features; the task gives 1"):
        with_model_column(preset, keras_models[0] / "gru_before_2.keras")
