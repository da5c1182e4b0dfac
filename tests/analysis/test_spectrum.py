"""``rnnviz.analysis.spectrum``: the eigenvalues of each gate block of ``weight_hh``."""

import numpy as np
import pytest

from rnnviz.analysis.spectrum import recurrent_spectrum
from rnnviz.core.init import InitOptions, init_params
from rnnviz.core.spec import ModelSpec


@pytest.mark.parametrize(("cell", "gates"), [("rnn_tanh", ("h",)), ("lstm", tuple("ifgo")),
                                             ("gru", tuple("rzn"))])
def test_spectrum_is_each_blocks_eigenvalues(cell, gates):
    spec = ModelSpec(cell, 1, 5)
    weight = np.asarray(init_params(spec, seed=2)["weight_hh_l0"], np.float64)
    spectrum = recurrent_spectrum(spec, weight)
    assert spectrum.gates == gates
    for k, values in enumerate(spectrum.eigenvalues):
        block = weight[5 * k: 5 * (k + 1)]
        expected = np.linalg.eigvals(block)
        np.testing.assert_allclose(np.sort_complex(values), np.sort_complex(expected))
        assert spectrum.radii[k] == pytest.approx(np.abs(expected).max())


def test_a_rotation_has_its_eigenvalues_on_the_unit_circle():
    spec = ModelSpec("rnn_tanh", 1, 2)
    theta = 0.3
    rotation = 1.2 * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    spectrum = recurrent_spectrum(spec, rotation)
    np.testing.assert_allclose(np.sort_complex(spectrum.eigenvalues[0]),
                               1.2 * np.exp(np.array([-1j, 1j]) * theta))
    assert spectrum.radii == pytest.approx((1.2,))


def test_spectral_radius_option_sets_every_block():
    spec = ModelSpec("lstm", 1, 6)
    params = init_params(spec, seed=0, options=InitOptions(spectral_radius=1.5))
    spectrum = recurrent_spectrum(spec, params["weight_hh_l0"])
    np.testing.assert_allclose(spectrum.radii, 1.5, rtol=1e-5)
    assert all(np.abs(v).max() == pytest.approx(1.5, rel=1e-5) for v in spectrum.eigenvalues)
