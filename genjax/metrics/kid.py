"""Kernel Inception Distance (Bińkowski et al. 2018) as torch-fidelity computes it.

Unbiased MMD^2 with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over `subsets`
pairs of random subsets of `subset_size` rows. Each subset is drawn without replacement from a
numpy RandomState seeded with `seed`, first from set a then from set b, as torch-fidelity does
(its default seed is 2020), so the same features and seed give torch-fidelity's subsets.
Kernels are float64 (torch-fidelity's are float32): ~45 s for the defaults at d=2048 on 2 cores.
"""
import numpy as np

from genjax.errors import ConfigError

SUBSETS = 100
SUBSET_SIZE = 1000
SEED = 2020


def polynomial_kernel(x_ND, y_MD, degree=3, coef0=1.0):
  """(x.y / d + coef0)^degree for every pair of rows: (N, M)."""
  return (x_ND @ y_MD.T / x_ND.shape[1] + coef0) ** degree


def unbiased_mmd2(k_xx, k_xy, k_yy):
  """MMD^2 with the diagonals of k_xx and k_yy left out (the U-statistic within each set)."""
  m = k_xx.shape[0]
  within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
  return within - 2 * k_xy.sum() / (m * m)


def kid(features_a, features_b, subsets=SUBSETS, subset_size=SUBSET_SIZE, seed=SEED, degree=3,
        coef0=1.0):
  """(mean, std) of unbiased polynomial-kernel MMD^2 over random subsets; std with ddof=0."""
  a = np.asarray(features_a, np.float64)
  b = np.asarray(features_b, np.float64)
  if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
    raise ValueError(f'KID needs two (num_samples, feature_dim) arrays of one width, got '
                     f'{a.shape} and {b.shape}.')
  if min(len(a), len(b)) < subset_size:
    raise ConfigError(
        f'KID draws subsets of {subset_size} samples without replacement, but the sets hold '
        f'{len(a)} and {len(b)} samples. Lower the KID subset size (kid_subset_size / '
        f'subset_size=) to at most {min(len(a), len(b))}, or evaluate more samples.')
  if subset_size < 2:
    raise ConfigError(f'KID needs subsets of at least 2 samples, got subset_size={subset_size}.')
  rng = np.random.RandomState(seed)
  mmds = np.empty(subsets)
  for i in range(subsets):
    x = a[rng.choice(len(a), subset_size, replace=False)]
    y = b[rng.choice(len(b), subset_size, replace=False)]
    mmds[i] = unbiased_mmd2(polynomial_kernel(x, x, degree, coef0),
                            polynomial_kernel(x, y, degree, coef0),
                            polynomial_kernel(y, y, degree, coef0))
  return float(np.mean(mmds)), float(np.std(mmds))
