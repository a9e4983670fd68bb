"""Fréchet distance between Gaussians fitted to two feature sets (FID; Heusel et al. 2017).

d^2 = |mu1 - mu2|^2 + Tr(sigma1) + Tr(sigma2) - 2 Tr((sigma1 sigma2)^(1/2)) (Dowson & Landau 1982).
The numerics are chosen to give the numbers of pytorch-fid, the implementation behind most
published FIDs (tests/metrics/test_fid.py compares against the package itself): the square root is
scipy's principal sqrtm of sigma1 @ sigma2, retried on (sigma1 + eps I) @ (sigma2 + eps I) when it
is not finite, and an imaginary part is dropped when its diagonal stays within 1e-3 of zero.
Statistics are float64 with ddof=1, as np.cov.

`FeatureMoments` accumulates them over batches: 50k x 2048 features never need to be held at once.
"""
import warnings

import numpy as np
from scipy import linalg

from genjax.errors import ConfigError

# Largest |imaginary part| on the diagonal of sqrtm(sigma1 @ sigma2) dropped as rounding
# (pytorch-fid's threshold).
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


def _sqrt_of_product(sigma1, sigma2, eps):
  """Principal square root of sigma1 @ sigma2, or of the eps-shifted product when not finite."""
  # sqrtm(A) without disp=: that argument is deprecated in scipy 1.17 and gone in 1.18.
  with warnings.catch_warnings():
    warnings.simplefilter('ignore', linalg.LinAlgWarning)  # a singular product is handled here
    root = linalg.sqrtm(sigma1 @ sigma2)
    if np.isfinite(root).all():
      return root
    warnings.warn(f'FID: sigma1 @ sigma2 is singular; adding {eps} to the diagonal of both '
                  'covariance estimates.', RuntimeWarning, stacklevel=3)
    shift = eps * np.eye(len(sigma1))
    return linalg.sqrtm((sigma1 + shift) @ (sigma2 + shift))


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
  """|mu1 - mu2|^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)) of two Gaussians, float64."""
  mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
  sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
  sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
  if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
    raise ValueError(f'The two Gaussians differ in dimension: mu {mu1.shape} vs {mu2.shape}, '
                     f'sigma {sigma1.shape} vs {sigma2.shape}; were they made by the same feature '
                     'network?')
  root = _sqrt_of_product(sigma1, sigma2, eps)
  if np.iscomplexobj(root):
    # The exact root of a product of two covariances has a real spectrum; an imaginary part is
    # rounding when small, and means unusable estimates when not.
    if not np.all(np.abs(np.diagonal(root).imag) <= IMAGINARY_TOLERANCE):
      largest = np.max(np.abs(root.imag))
      raise ConfigError(
          f'FID: the square root of sigma1 @ sigma2 has an imaginary component of {largest:.3g} '
          f'(tolerance {IMAGINARY_TOLERANCE}), so the covariance estimates are too ill-conditioned '
          f'for a Fréchet distance. Use more samples than feature dimensions ({mu1.shape[0]}) on '
          'both sides, and check that the features are not constant or duplicated.')
    root = root.real
  mean_term = np.sum(np.square(mu1 - mu2))
  return float(mean_term + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(root))


def fid(features_a, features_b, eps=1e-6):
  """FID between two (N, D) feature arrays."""
  return frechet_distance(*feature_statistics(features_a), *feature_statistics(features_b), eps=eps)
