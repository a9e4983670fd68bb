"""Precision/recall/density/coverage against the `prdc` package (NAVER's reference code) and
against a point-by-point numpy loop."""
import numpy as np
import prdc as prdc_package
import pytest

from genjax.errors import ConfigError
from genjax.metrics import prdc


def _features(seed, n, d=10, shift=0.0, scale=1.0):
  return (np.random.RandomState(seed).randn(n, d) * scale + shift).astype(np.float32)


def _brute_force(real, fake, k_pr, k_dc):
  real, fake = real.astype(np.float64), fake.astype(np.float64)

  def radius(points, i, k):  # distance to the k-th nearest of the other points
    others = np.delete(points, i, axis=0)
    return np.sort(np.linalg.norm(others - points[i], axis=1))[k - 1]

  real_pr = [radius(real, i, k_pr) for i in range(len(real))]
  real_dc = [radius(real, i, k_dc) for i in range(len(real))]
  fake_pr = [radius(fake, j, k_pr) for j in range(len(fake))]
  dist = lambda u, v: np.linalg.norm(u - v)  # noqa: E731
  precision = np.mean([any(dist(r, f) < real_pr[i] for i, r in enumerate(real)) for f in fake])
  recall = np.mean([any(dist(r, f) < fake_pr[j] for j, f in enumerate(fake)) for r in real])
  density = np.mean([sum(dist(r, f) < real_dc[i] for i, r in enumerate(real)) for f in fake]) / k_dc
  coverage = np.mean([min(dist(r, f) for f in fake) < real_dc[i] for i, r in enumerate(real)])
  return {'precision': precision, 'recall': recall, 'density': density, 'coverage': coverage}


def _sets():
  # Fakes narrower and shifted: precision, recall, density and coverage all strictly inside (0, 1).
  return _features(0, 230), _features(1, 170, shift=0.3, scale=0.7)


def test_prdc_equals_the_prdc_package():
  real, fake = _sets()
  got = prdc.prdc(real, fake, block_rows=64)  # 230 = 3 x 64 + 38: padded blocks
  pr = prdc_package.compute_prdc(real, fake, nearest_k=3)
  dc = prdc_package.compute_prdc(real, fake, nearest_k=5)
  expected = {'precision': pr['precision'], 'recall': pr['recall'], 'density': dc['density'],
              'coverage': dc['coverage']}
  for name, value in expected.items():
    assert got[name] == pytest.approx(value, abs=1e-12), name
  assert 0 < got['precision'] < 1 and 0 < got['recall'] < 1 and 0 < got['coverage'] < 1


def test_prdc_equals_a_point_by_point_loop():
  real, fake = _features(2, 60, d=5), _features(3, 45, d=5, shift=0.4)
  got = prdc.prdc(real, fake, block_rows=16)
  for name, value in _brute_force(real, fake, 3, 5).items():
    assert got[name] == pytest.approx(value, abs=1e-12), name


def test_radii_equal_the_prdc_package():
  real, _ = _sets()
  np.testing.assert_allclose(prdc.nearest_neighbour_radii(real, 5, block_rows=100),
                             prdc_package.prdc.compute_nearest_neighbour_distances(real, 5),
                             rtol=1e-5)


def test_identical_sets_have_full_precision_recall_and_coverage():
  real = _features(4, 120)
  got = prdc.prdc(real, real.copy())
  assert got['precision'] == got['recall'] == got['coverage'] == 1.0


def test_too_few_samples_for_k_is_an_error():
  with pytest.raises(ConfigError, match='more than k=5'):
    prdc.prdc(_features(5, 100), _features(6, 5))
