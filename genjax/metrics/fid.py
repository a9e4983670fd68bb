"""Fréchet distance between Gaussians fitted to two feature sets (FID; Heusel et al. 2017).

The distance follows pytorch-fid's `calculate_frechet_distance` step for step (scipy's sqrtm of
sigma1 @ sigma2, an eps * I offset when that is not finite, a tolerance on its imaginary part), so
numbers are comparable with papers that used it. Statistics are float64 with ddof=1, as np.cov.

`FeatureMoments` accumulates them over batches: 50k x 2048 features never need to be held at once.
"""
import warnings

import numpy as np
from scipy import linalg

from genjax.errors import ConfigError

# pytorch-fid's tolerance on the imaginary part of the diagonal of sqrtm(sigma1 @ sigma2).
IMAGINARY_TOLERANCE = 1e-3


def _feature_matrix(features, name='features'):
  """float64 (N, D) view of a feature batch; rejects shapes and values no metric can use."""
  x = np.asarray(features, np.float64)
  if x.ndim != 2:
    raise ValueError(f'{name} must be (num_samples, feature_dim), got shape {x.shape}.')
  if not np.isfinite(x).all():
    raise ValueError(f'{name} holds {np.size(x) - np.isfinite(x).sum()} non-finite values: the '
                     'samples or the feature network produced NaN/Inf.')
  return x


class FeatureMoments:
  """Running sum and sum of outer products of features, for mean and covariance in one pass.

  Rows are shifted by the first batch's mean before accumulating: the covariance does not change,
  and sum(x x^T) - n mu mu^T no longer cancels catastrophically when |mean| >> std.
  """

  def __init__(self):
    self.count = 0
    self._shift = None
    self._sum_D = None
    self._outer_DD = None

  def update(self, features_ND):
    x = _feature_matrix(features_ND)
    if self._shift is None:
      self._shift = x.mean(axis=0)
      self._sum_D = np.zeros(x.shape[1])
      self._outer_DD = np.zeros((x.shape[1], x.shape[1]))
    elif x.shape[1] != self._shift.shape[0]:
      raise ValueError(f'Feature batches differ in width: {x.shape[1]} after '
                       f'{self._shift.shape[0]}.')
    x = x - self._shift
    self.count += x.shape[0]
    self._sum_D += x.sum(axis=0)
    self._outer_DD += x.T @ x
    return self

  def statistics(self):
    """(mu, sigma): the mean and the unbiased (ddof=1) covariance of every row seen."""
    if self.count < 2:
      raise ConfigError(f'FID statistics need at least 2 samples, got {self.count}: evaluate more '
                        'samples.')
    mean_shifted = self._sum_D / self.count
    sigma = (self._outer_DD - self.count * np.outer(mean_shifted, mean_shifted)) / (self.count - 1)
    return self._shift + mean_shifted, sigma


def feature_statistics(features_ND):
  """(mu, sigma) of a feature array in float64; sigma as np.cov(features, rowvar=False)."""
  return FeatureMoments().update(features_ND).statistics()


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
  """|mu1 - mu2|^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)), as pytorch-fid computes it."""
  mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
  sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
  sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
  if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
    raise ValueError(f'The two Gaussians differ in dimension: mu {mu1.shape} vs {mu2.shape}, '
                     f'sigma {sigma1.shape} vs {sigma2.shape}; were they made by the same feature '
                     'network?')
  diff = mu1 - mu2

  # sqrtm(A) without disp=: that argument is deprecated in scipy 1.17 and gone in 1.18.
  with warnings.catch_warnings():
    warnings.simplefilter('ignore', linalg.LinAlgWarning)  # a singular product is handled below
    covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
      warnings.warn(f'FID: sigma1 @ sigma2 is singular; adding {eps} to the diagonal of both '
                    'covariance estimates.', RuntimeWarning, stacklevel=2)
      offset = np.eye(sigma1.shape[0]) * eps
      covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))

  # Rounding can leave a small imaginary part; a large one means the estimates are unusable.
  if np.iscomplexobj(covmean):
    if not np.allclose(np.diagonal(covmean).imag, 0, atol=IMAGINARY_TOLERANCE):
      largest = np.max(np.abs(covmean.imag))
      raise ConfigError(
          f'FID: the square root of sigma1 @ sigma2 has an imaginary component of {largest:.3g} '
          f'(tolerance {IMAGINARY_TOLERANCE}), so the covariance estimates are too ill-conditioned '
          f'for a Fréchet distance. Use more samples than feature dimensions ({mu1.shape[0]}) on '
          'both sides, and check that the features are not constant or duplicated.')
    covmean = covmean.real

  return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid(features_a, features_b, eps=1e-6):
  """FID between two (N, D) feature arrays."""
  return frechet_distance(*feature_statistics(features_a), *feature_statistics(features_b), eps=eps)
