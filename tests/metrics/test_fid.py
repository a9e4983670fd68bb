"""FID against pytorch-fid's own calculate_frechet_distance (the package, imported), the closed
form for diagonal covariances, and an eigenvalue form that uses no sqrtm; statistics against
np.cov."""
import warnings

import numpy as np
import pytest

from genjax.errors import ConfigError
from genjax.metrics import fid


def _pytorch_fid_distance(mu1, sigma1, mu2, sigma2):
  """pytorch-fid's calculate_frechet_distance; without the package this fails, it never skips."""
  try:
    from pytorch_fid.fid_score import calculate_frechet_distance
  except (ImportError, RuntimeError) as e:  # RuntimeError: a torchvision that does not fit torch
    pytest.fail(f'pytorch-fid, the reference FID, cannot be imported ({type(e).__name__}: {e}); '
                'install the test extra: pip install -e ".[test]"')
  with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)  # it passes sqrtm's disp= (scipy 1.17)
    return float(calculate_frechet_distance(mu1, sigma1, mu2, sigma2))


def _np_statistics(x):
  x64 = np.asarray(x, np.float64)
  return x64.mean(0), np.cov(x64, rowvar=False)


def _features(seed, n=400, d=24, shift=0.0):
  rng = np.random.RandomState(seed)
  mixing = rng.randn(d, d) / np.sqrt(d)
  return (rng.randn(n, d) @ mixing + shift).astype(np.float32)


def test_fid_equals_pytorch_fid_on_the_same_features():
  a, b = _features(0), _features(1, shift=0.3)
  expected = _pytorch_fid_distance(*_np_statistics(a), *_np_statistics(b))
  assert fid.fid(a, b) == pytest.approx(expected, rel=1e-6)
  assert expected > 1  # the shift makes it far from 0: the comparison means something


def test_fid_equals_pytorch_fid_with_fewer_samples_than_dimensions():
  # Rank-deficient covariances, as FIDs of small sample sets have: sqrtm's result is complex and
  # near-singular, and the two implementations must still agree.
  a, b = _features(7, n=20, d=48), _features(8, n=20, d=48, shift=0.2)
  (mu1, sigma1), (mu2, sigma2) = _np_statistics(a), _np_statistics(b)
  expected = _pytorch_fid_distance(mu1, sigma1, mu2, sigma2)
  with warnings.catch_warnings():
    warnings.simplefilter('ignore', RuntimeWarning)  # an eps retry, if any, happens in both
    got = fid.frechet_distance(mu1, sigma1, mu2, sigma2)
  assert got == pytest.approx(expected, rel=1e-6)
  assert expected > 1


def test_frechet_distance_equals_the_diagonal_closed_form():
  rng = np.random.RandomState(2)
  d = 50
  mu1, mu2 = rng.randn(d), rng.randn(d)
  var1, var2 = rng.uniform(0.1, 3, d), rng.uniform(0.1, 3, d)
  closed_form = np.sum((mu1 - mu2)**2) + np.sum(var1 + var2 - 2 * np.sqrt(var1 * var2))
  got = fid.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2))
  assert got == pytest.approx(closed_form, rel=1e-6)


def test_frechet_distance_equals_the_eigenvalue_form_without_sqrtm():
  # Tr (S1 S2)^(1/2) = sum of sqrt(eigenvalues of S1^(1/2) S2 S1^(1/2)), all symmetric: eigh only.
  a, b = _features(3, n=300, d=16), _features(4, n=300, d=16, shift=-0.5)
  mu1, sigma1 = a.mean(0, dtype=np.float64), np.cov(a.astype(np.float64), rowvar=False)
  mu2, sigma2 = b.mean(0, dtype=np.float64), np.cov(b.astype(np.float64), rowvar=False)
  w, v = np.linalg.eigh(sigma1)
  root1 = (v * np.sqrt(w)) @ v.T
  tr_covmean = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ sigma2 @ root1), 0, None)))
  expected = np.sum((mu1 - mu2)**2) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean
  assert fid.frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-6)


def test_streamed_statistics_equal_np_cov_with_ddof_1():
  x = _features(5, n=1001, d=12, shift=1e3)  # a large mean: the shifted sums must not cancel
  moments = fid.FeatureMoments()
  for start, stop in [(0, 1), (1, 300), (300, 301), (301, 1001)]:  # uneven, one-row batches too
    moments.update(x[start:stop])
  mu, sigma = moments.statistics()
  x64 = x.astype(np.float64)
  assert mu.dtype == sigma.dtype == np.float64
  np.testing.assert_allclose(mu, x64.mean(0), rtol=1e-12)
  np.testing.assert_allclose(sigma, np.cov(x64, rowvar=False), rtol=1e-9, atol=1e-12)
  mu_once, sigma_once = fid.feature_statistics(x)
  np.testing.assert_allclose(sigma_once, sigma, rtol=1e-9, atol=1e-12)


def test_fid_of_a_set_with_itself_is_zero():
  a = _features(6)
  assert abs(fid.fid(a, a)) < 1e-8


def test_a_large_imaginary_part_is_a_clear_error():
  # sigma1 is not a covariance (a negative variance): sqrtm(sigma1 sigma2) is imaginary.
  with pytest.raises(ConfigError, match='imaginary component of 1'):
    fid.frechet_distance(np.zeros(2), np.diag([-1.0, 1.0]), np.zeros(2), np.eye(2))


def test_too_few_samples_and_mismatched_widths_are_errors():
  with pytest.raises(ConfigError, match='at least 2 samples'):
    fid.feature_statistics(np.ones((1, 3)))
  with pytest.raises(ValueError, match='same feature network'):
    fid.frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
  with pytest.raises(ValueError, match='non-finite'):
    fid.feature_statistics(np.array([[0.0, np.nan], [1.0, 2.0]]))


def test_a_non_finite_square_root_retries_with_eps_on_the_diagonal(monkeypatch):
  calls = []
  real_sqrtm = fid.linalg.sqrtm

  def sqrtm_failing_once(a):
    calls.append(a)
    return np.full_like(a, np.nan) if len(calls) == 1 else real_sqrtm(a)

  monkeypatch.setattr(fid.linalg, 'sqrtm', sqrtm_failing_once)
  sigma1, sigma2 = np.diag([1.0, 4.0]), np.diag([9.0, 0.0])
  with pytest.warns(RuntimeWarning, match='adding 0.01 to the diagonal'):
    got = fid.frechet_distance(np.zeros(2), sigma1, np.zeros(2), sigma2, eps=0.01)
  np.testing.assert_allclose(calls[1], (sigma1 + 0.01 * np.eye(2)) @ (sigma2 + 0.01 * np.eye(2)))
  # Traces of the unshifted covariances, square root of the shifted product (as pytorch-fid).
  expected = 1 + 4 + 9 + 0 - 2 * (np.sqrt(1.01 * 9.01) + np.sqrt(4.01 * 0.01))
  assert got == pytest.approx(expected, rel=1e-9)
