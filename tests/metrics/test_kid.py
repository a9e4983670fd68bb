"""KID against a brute-force double loop over pairs, on the subsets torch-fidelity's RNG draws."""
import numpy as np
import pytest

from genjax.errors import ConfigError
from genjax.metrics import kid


def _brute_force_unbiased_mmd2(x, y):
  """Pair by pair: k(u, v) = (u.v / d + 1)^3, within-set sums over i != j."""
  m, d = x.shape

  def k(u, v):
    return (sum(float(ui) * float(vi) for ui, vi in zip(u, v)) / d + 1) ** 3

  xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
  yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
  xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
  return xx / (m * (m - 1)) + yy / (m * (m - 1)) - 2 * xy / (m * m)


def _features(seed, n, d=6, shift=0.0):
  return (np.random.RandomState(seed).randn(n, d) + shift).astype(np.float32)


def test_kid_equals_brute_force_on_the_same_subsets():
  a, b = _features(0, 40), _features(1, 35, shift=0.4)
  subsets, size, seed = 4, 12, 7
  # torch-fidelity's draw: one RandomState; per subset, a's rows then b's, without replacement.
  rng = np.random.RandomState(seed)
  mmds = []
  for _ in range(subsets):
    x = a[rng.choice(len(a), size, replace=False)]
    y = b[rng.choice(len(b), size, replace=False)]
    mmds.append(_brute_force_unbiased_mmd2(x, y))
  mean, std = kid.kid(a, b, subsets=subsets, subset_size=size, seed=seed)
  assert mean == pytest.approx(np.mean(mmds), rel=1e-9)
  assert std == pytest.approx(np.std(mmds), rel=1e-9)
  assert std > 0  # the subsets differ, so the comparison covers the draw order too


def test_full_subsets_give_the_exact_unbiased_mmd_of_the_sets():
  a, b = _features(2, 20), _features(3, 20, shift=1.0)
  mean, std = kid.kid(a, b, subsets=3, subset_size=20)
  assert mean == pytest.approx(_brute_force_unbiased_mmd2(a, b), rel=1e-9)
  assert std == pytest.approx(0, abs=1e-12)  # every subset is the whole set, shuffled


def test_kid_separates_shifted_from_same_distribution():
  same, _ = kid.kid(_features(4, 300), _features(5, 300), subsets=20, subset_size=100)
  shifted, _ = kid.kid(_features(4, 300), _features(5, 300, shift=0.5), subsets=20,
                       subset_size=100)
  assert abs(same) < 0.02 < shifted


def test_too_few_samples_names_the_counts_and_the_setting():
  with pytest.raises(ConfigError) as info:
    kid.kid(_features(6, 500), _features(7, 800))  # subset_size defaults to 1000
  message = str(info.value)
  assert '500' in message and '800' in message and 'kid_subset_size' in message
