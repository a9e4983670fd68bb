"""MNIST sample-quality metrics in the classifier's feature space, on real digits: two halves of
the test set are close, noise is far, and the class histogram follows the labels."""
import numpy as np
import pytest

from genjax.metrics import sample_quality


def _classifier_score_numpy(images_01):
  logits = sample_quality.mnist_classifier_network().outputs(images_01)[1].astype(np.float64)
  log_p = logits - logits.max(1, keepdims=True)
  log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
  p = np.exp(log_p)
  log_marginal = np.log(p.mean(0))
  return float(np.exp(np.mean(np.sum(p * (log_p - log_marginal), axis=1))))


def test_real_halves_are_close_and_noise_is_far(mnist_raw):
  images, labels = mnist_raw['test']
  x = np.asarray(images[:2000], np.float32) / 255.0
  a, b = x[:1000], x[1000:]
  same = sample_quality.mnist_metrics(a, b, kid_subset_size=500, kid_subsets=10)
  noise = np.random.default_rng(0).uniform(size=a.shape).astype(np.float32)
  far = sample_quality.mnist_metrics(noise, b, kid_subset_size=500, kid_subsets=10)
  assert same['fid_mnist_classifier'] * 20 < far['fid_mnist_classifier']
  assert abs(same['kid_mnist_classifier']) < far['kid_mnist_classifier'] / 20
  assert same['precision_mnist_classifier'] > 0.6 and same['recall_mnist_classifier'] > 0.6
  assert far['precision_mnist_classifier'] < 0.1
  # a 99.5% classifier on real digits: nearly 10 distinct confident classes. The score (10 splits
  # of 100) against numpy's exp(E_x KL(p(y|x) || p(y))) over all 1000 (one split; 100-image
  # splits lower it by ~0.5 here, by their marginals' missing classes)
  full = _classifier_score_numpy(a)
  assert 9.5 < full <= 10
  assert full - 0.8 < same['classifier_score'] <= full + 1e-3
  # one image repeated: one class for every sample, a score of 1
  assert _classifier_score_numpy(np.repeat(a[:1], 200, axis=0)) == pytest.approx(1, abs=1e-4)
  one = sample_quality.mnist_metrics(np.repeat(a[:1], 200, axis=0), b, kid_subset_size=100,
                                     kid_subsets=2)
  assert one['classifier_score'] == pytest.approx(1, abs=1e-4)
  assert (one['classes_covered'], one['max_class_share'], one['class_entropy']) == (1, 1.0, 0.0)
  expected = np.bincount(labels[:1000], minlength=10) / 1000
  np.testing.assert_allclose(same['class_histogram'], expected, atol=0.01)
  # real digits: every class covered, the entropy of the labels' own histogram
  assert same['classes_covered'] == 10
  assert same['class_entropy'] == pytest.approx(-np.sum(expected * np.log(expected)), abs=0.01)
  assert same['num_samples'] == 1000 and same['num_real'] == 1000
