"""MNIST sample-quality metrics in the classifier's feature space, on real digits: two halves of
the test set are close, noise is far, and the class histogram follows the labels."""
import numpy as np

from genjax.metrics import sample_quality


def test_real_halves_are_close_and_noise_is_far(mnist_arrays):
  images, labels = mnist_arrays['test']
  x = np.asarray(images[:2000], np.float32) / 255.0
  a, b = x[:1000], x[1000:]
  same = sample_quality.mnist_metrics(a, b, kid_subset_size=500, kid_subsets=10)
  noise = np.random.default_rng(0).uniform(size=a.shape).astype(np.float32)
  far = sample_quality.mnist_metrics(noise, b, kid_subset_size=500, kid_subsets=10)
  assert same['fid_mnist_classifier'] * 20 < far['fid_mnist_classifier']
  assert abs(same['kid_mnist_classifier']) < far['kid_mnist_classifier'] / 20
  assert same['precision_mnist_classifier'] > 0.6 and same['recall_mnist_classifier'] > 0.6
  assert far['precision_mnist_classifier'] < 0.1
  # a 99.5% classifier on real digits: nearly 10 distinct confident classes, labels' histogram
  assert same['classifier_score'] > 9.0
  expected = np.bincount(labels[:1000], minlength=10) / 1000
  np.testing.assert_allclose(same['class_histogram'], expected, atol=0.01)
  assert same['num_samples'] == 1000 and same['num_real'] == 1000
