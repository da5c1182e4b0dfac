"""``rnnviz.analysis.projection.pca_projection`` on data whose principal components are known by
construction: a 2-D pattern embedded in H dimensions by an orthonormal map."""

import numpy as np
import pytest

from rnnviz.analysis.projection import pca_projection


def _embedded(steps=60, units=7, seed=0):
    """Points on an ellipse (semi-axes 3 and 1) rotated into H dimensions and shifted."""
    rng = np.random.default_rng(seed)
    angle = np.linspace(0, 2 * np.pi, steps, endpoint=False)
    plane = np.stack([3 * np.cos(angle), np.sin(angle)], axis=1)   # (T, 2), centred
    basis, _ = np.linalg.qr(rng.normal(size=(units, 2)))           # (H, 2) orthonormal
    offset = rng.normal(size=units)
    return plane @ basis.T + offset, plane, basis, offset


def test_pca_recovers_an_embedded_ellipse():
    h, plane, basis, offset = _embedded()
    p = pca_projection(h)
    np.testing.assert_allclose(p.mean, offset, atol=1e-12)
    # the components span the embedding plane, the first along the long axis (up to sign)
    np.testing.assert_allclose(np.abs(p.components @ basis), np.eye(2), atol=1e-10)
    np.testing.assert_allclose(np.abs(p.coords), np.abs(plane), atol=1e-10)
    # variances 9/2 and 1/2 of an ellipse sampled uniformly in angle: ratios 0.9, 0.1
    np.testing.assert_allclose(p.ratios, [0.9, 0.1], atol=1e-12)
    np.testing.assert_allclose(p.components @ p.components.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(p.project(h), p.coords, atol=1e-12)


def test_pca_sign_is_deterministic():
    h, *_ = _embedded(seed=3)
    p = pca_projection(h)
    for row in p.components:
        assert row[np.argmax(np.abs(row))] > 0
    flipped = pca_projection(h @ np.diag([-1, 1, 1, 1, 1, 1, 1]))  # same data, one axis flipped
    np.testing.assert_allclose(np.abs(flipped.coords), np.abs(p.coords), atol=1e-10)
    again = pca_projection(h.copy())
    np.testing.assert_array_equal(again.coords, p.coords)


def test_pca_matches_numpy_covariance():
    rng = np.random.default_rng(1)
    h = rng.normal(size=(40, 5)) @ rng.normal(size=(5, 5))
    p = pca_projection(h)
    values, vectors = np.linalg.eigh(np.cov(h.T, bias=True))
    order = np.argsort(values)[::-1]
    np.testing.assert_allclose(p.ratios, values[order[:2]] / values.sum(), rtol=1e-10)
    np.testing.assert_allclose(np.abs(p.components), np.abs(vectors[:, order[:2]].T),
                               atol=1e-10)


def test_pca_of_degenerate_states():
    one_unit = pca_projection(np.arange(5.0)[:, None])           # H = 1: a line
    np.testing.assert_allclose(one_unit.coords[:, 0], np.arange(5.0) - 2)
    np.testing.assert_array_equal(one_unit.coords[:, 1], 0)
    np.testing.assert_allclose(one_unit.ratios, [1.0, 0.0])
    constant = pca_projection(np.ones((4, 3)))
    np.testing.assert_array_equal(constant.coords, 0)
    np.testing.assert_array_equal(constant.ratios, 0)
    with pytest.raises(ValueError, match="NaN or Inf"):
        pca_projection(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"\(T, H\)"):
        pca_projection(np.zeros(3))
