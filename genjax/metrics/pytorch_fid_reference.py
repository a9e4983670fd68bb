"""pytorch-fid's FID formula, transcribed, as the independent reference that genjax's own
(genjax/metrics/fid.py) is checked against in tests/metrics/test_fid.py and
launch/check_inception_port.py. Not used to compute genjax's numbers."""
import numpy as np
from scipy import linalg


def calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
  """pytorch-fid 0.3.0 src/pytorch_fid/fid_score.py, verbatim but for one line: scipy 1.17
  deprecates sqrtm's disp= (1.18 removes it), so `linalg.sqrtm(x, disp=False)` became
  `linalg.sqrtm(x), None`, which returns the same matrix."""
  mu1 = np.atleast_1d(mu1)
  mu2 = np.atleast_1d(mu2)

  sigma1 = np.atleast_2d(sigma1)
  sigma2 = np.atleast_2d(sigma2)

  assert mu1.shape == mu2.shape, \
      'Training and test mean vectors have different lengths'
  assert sigma1.shape == sigma2.shape, \
      'Training and test covariances have different dimensions'

  diff = mu1 - mu2

  # Product might be almost singular
  covmean, _ = linalg.sqrtm(sigma1.dot(sigma2)), None
  if not np.isfinite(covmean).all():
    msg = ('fid calculation produces singular product; '
           'adding %s to diagonal of cov estimates') % eps
    print(msg)
    offset = np.eye(sigma1.shape[0]) * eps
    covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))

  # Numerical error might give slight imaginary component
  if np.iscomplexobj(covmean):
    if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
      m = np.max(np.abs(covmean.imag))
      raise ValueError('Imaginary component {}'.format(m))
    covmean = covmean.real

  tr_covmean = np.trace(covmean)

  return (diff.dot(diff) + np.trace(sigma1)
          + np.trace(sigma2) - 2 * tr_covmean)
