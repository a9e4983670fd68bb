"""Sample-quality metrics of generated images in a feature network's space: FID, KID,
precision/recall, density/coverage, and a score from the network's class probabilities (the
Inception Score with Inception, its analogue with genjax's MNIST classifier, which also gives the
class histogram of the samples: mode coverage).

Two feature networks:
  mnist_classifier  genjax/models/mnist_classifier.py, 128-d penultimate layer (MNIST practice)
  inception         the FID Inception port (genjax/metrics/inception.py), 2048-d pool3

Images pass through a network in batches and are summarized on the fly (`FeatureSummary`): FID's
mean and covariance over every row, at most `keep` rows of features for KID and PR/DC, and the
logits for the score. Memory stays bounded whatever the sample count (50k for the paper protocol).

Every key names its feature network, and results state the sample counts, because numbers from
different feature spaces or sample counts are not comparable.
"""
import dataclasses
import hashlib
import importlib.resources
from typing import Callable, Optional

import numpy as np

from genjax.analysis import collapse
from genjax.metrics import fid, inception_score, kid, prdc, reference_stats
from genjax.models import mnist_classifier

METRICS = ('fid', 'kid', 'prdc', 'score')
# KID subsets and PR/DC use at most this many rows of each side (Naeem et al. use 10k for PR/DC).
KEEP_FEATURES = reference_stats.KEEP_FEATURES


@dataclasses.dataclass(frozen=True)
class FeatureNetwork:
  name: str  # the suffix of every metric key
  sha256: str  # of the weights: part of the reference-statistics cache key
  description: str
  # images [B, H, W, C] float in [0, 1] -> (features [B, D], logits [B, classes] or None)
  outputs: Callable
  score_name: str
  no_logits_reason: Optional[str] = None


def _classifier_sha256():
  data = importlib.resources.files('genjax').joinpath('assets', mnist_classifier.ASSET)
  return hashlib.sha256(data.read_bytes()).hexdigest()


def mnist_classifier_network():
  module_vars = mnist_classifier.load_mnist_classifier()[1]
  sha = _classifier_sha256()

  def outputs(images_01):
    x = mnist_classifier.to_classifier_input(images_01, value_range=(0.0, 1.0))
    logits, features = mnist_classifier.classifier_outputs(module_vars, x)
    return np.asarray(features, np.float32), np.asarray(logits, np.float32)

  return FeatureNetwork(
      'mnist_classifier', sha,
      f'mnist_classifier (genjax/assets/{mnist_classifier.ASSET}, sha256 {sha[:16]}...)', outputs,
      score_name='classifier_score')


def inception_network(weights_path=None, batch_size=100):
  """The FID Inception from a converted weights file (inception_weights.resolve_path's order)."""
  from genjax.metrics import inception, inception_weights
  path = inception_weights.resolve_path(weights_path)
  params, _ = inception_weights.read_inception_file(path)
  with_logits = inception.has_logits(params)
  sha = inception_weights.file_digest(path, 'sha256')

  def outputs(images_01):
    out = inception.features(params, images_01, batch_size, logits=with_logits)
    return (out[0], out[1]) if with_logits else (out, None)

  return FeatureNetwork(
      'inception', sha, f'inception (FID Inception pool3, {path}, sha256 {sha[:16]}...)', outputs,
      score_name='inception_score',
      no_logits_reason=None if with_logits else inception_score.no_logits_reason(path))


class FeatureSummary:
  """Feeds image batches through a network, keeping what the metrics need: moments over all rows,
  at most `keep` rows of features (a fixed random subset) and every row's logits."""

  def __init__(self, network, num_rows, keep=KEEP_FEATURES):
    self.network = network
    self._features = reference_stats.ReferenceSummary(num_rows, keep)
    self._logits = []

  def update(self, images_01):
    features, logits = self.network.outputs(images_01)
    self._features.update(features)
    if logits is not None:
      self._logits.append(np.asarray(logits, np.float32))
    return self

  def result(self):
    out = self._features.result()
    if self._logits:
      out['logits'] = np.concatenate(self._logits)
    return out


def summarize(network, image_batches, num_rows, keep=KEEP_FEATURES):
  summary = FeatureSummary(network, num_rows, keep)
  for images in image_batches:
    summary.update(images)
  return summary.result()


def compare(network, real, fake, metrics=METRICS, kid_subset_size=1000, kid_subsets=100):
  """The `metrics` of fake against real summaries ({'mu', 'sigma', 'features'[, 'logits']})."""
  name, out = network.name, {}
  if 'fid' in metrics:
    out[f'fid_{name}'] = float(fid.frechet_distance(real['mu'], real['sigma'], fake['mu'],
                                                    fake['sigma']))
  real_features = np.asarray(real['features'], np.float64)
  fake_features = np.asarray(fake['features'], np.float64)
  if 'kid' in metrics:
    mean, std = kid.kid(real_features, fake_features, subsets=kid_subsets,
                        subset_size=kid_subset_size)
    out.update({f'kid_{name}': float(mean), f'kid_{name}_std': float(std),
                'kid_subsets': int(kid_subsets), 'kid_subset_size': int(kid_subset_size)})
  if 'prdc' in metrics:
    out.update({f'{k}_{name}': float(v) for k, v in prdc.prdc(real_features,
                                                               fake_features).items()})
    out[f'prdc_num_samples_{name}'] = [len(real_features), len(fake_features)]
  if 'score' in metrics:
    logits = fake.get('logits')
    if logits is None:
      out.update({network.score_name: None,
                  f'{network.score_name}_unavailable': network.no_logits_reason})
    else:
      score, score_std = inception_score.inception_score(np.asarray(logits, np.float64))
      out.update({network.score_name: score, f'{network.score_name}_std': score_std})
      if network.name == 'mnist_classifier':
        predicted = np.argmax(logits, axis=-1)
        counts = np.bincount(predicted, minlength=logits.shape[1])
        out['class_histogram'] = (counts / counts.sum()).round(4).tolist()
        # coverage of the digits by all the samples (the quick evaluations use 1,000)
        out.update(collapse.class_statistics(predicted, logits.shape[1]))
  return out


def mnist_metrics(samples_01, real_01, kid_subset_size=1000, kid_subsets=100):
  """Every metric of `samples_01` against `real_01`, both float [N, 28, 28, 1] in [0, 1], in the
  MNIST classifier's space, on all rows of each (no subsampling), no cache.

  Returns a flat dict: fid_mnist_classifier, kid_mnist_classifier (+ _std),
  precision/recall/density/coverage_mnist_classifier, classifier_score (+ _std), class_histogram
  (fraction of samples per predicted digit), num_samples, num_real, feature_network.
  """
  network = mnist_classifier_network()
  samples_01 = np.asarray(samples_01, np.float32).reshape(-1, 28, 28, 1)
  real_01 = np.asarray(real_01, np.float32).reshape(-1, 28, 28, 1)
  real = summarize(network, [real_01], len(real_01), keep=len(real_01))
  fake = summarize(network, [samples_01], len(samples_01), keep=len(samples_01))
  return {**compare(network, real, fake, METRICS, kid_subset_size, kid_subsets),
          'num_samples': len(samples_01), 'num_real': len(real_01),
          'feature_network': network.description}
