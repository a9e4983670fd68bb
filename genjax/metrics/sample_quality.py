"""Sample-quality metrics of generated MNIST digits in the feature space of genjax's MNIST
classifier (genjax/models/mnist_classifier.py): FID, KID, precision/recall, density/coverage, a
classifier Inception-Score analogue and the class histogram of the samples (mode coverage).

Every key names its feature network, and the result states the sample counts, because numbers
from different feature spaces or sample counts are not comparable.
"""
import hashlib
import importlib.resources

import numpy as np

from genjax.metrics import fid, inception_score, kid, prdc
from genjax.models import mnist_classifier

FEATURES = 'mnist_classifier'


def _weights_sha256():
  data = importlib.resources.files('genjax').joinpath('assets', mnist_classifier.ASSET)
  return hashlib.sha256(data.read_bytes()).hexdigest()


def mnist_metrics(samples_01, real_01, kid_subset_size=1000, kid_subsets=100):
  """Metrics of `samples_01` against `real_01`, both float [N, 28, 28, 1] (or [N, 784]) in [0, 1].

  Returns a flat dict: fid_mnist_classifier, kid_mnist_classifier (+ _std),
  precision/recall/density/coverage_mnist_classifier, classifier_score (+ _std), class_histogram
  (fraction of samples per predicted digit), num_samples, num_real.
  """
  module_vars = mnist_classifier.load_mnist_classifier()[1]
  to_input = lambda x: mnist_classifier.to_classifier_input(x, value_range=(0.0, 1.0))
  fake_logits, fake_features = mnist_classifier.classifier_outputs(module_vars,
                                                                   to_input(samples_01))
  _, real_features = mnist_classifier.classifier_outputs(module_vars, to_input(real_01))
  fake_features = np.asarray(fake_features, np.float64)
  real_features = np.asarray(real_features, np.float64)
  kid_mean, kid_std = kid.kid(real_features, fake_features, subsets=kid_subsets,
                              subset_size=kid_subset_size)
  score, score_std = inception_score.inception_score(np.asarray(fake_logits, np.float64))
  counts = np.bincount(np.argmax(np.asarray(fake_logits), axis=-1), minlength=10)
  result = {
      f'fid_{FEATURES}': float(fid.fid(real_features, fake_features)),
      f'kid_{FEATURES}': float(kid_mean), f'kid_{FEATURES}_std': float(kid_std),
      **{f'{k}_{FEATURES}': float(v) for k, v in prdc.prdc(real_features, fake_features).items()},
      # exp E KL(p(y|x) || p(y)) with the classifier's 10 classes: 10 at best
      'classifier_score': float(score), 'classifier_score_std': float(score_std),
      'class_histogram': (counts / counts.sum()).round(4).tolist(),
      'num_samples': int(len(fake_features)), 'num_real': int(len(real_features)),
      'feature_network': f'{FEATURES} (genjax/assets/mnist_classifier.msgpack, sha256 '
                         f'{_weights_sha256()[:16]}...)',
      'kid_subsets': int(kid_subsets), 'kid_subset_size': int(kid_subset_size),
  }
  return result
