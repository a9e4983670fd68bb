"""The analysis layer's arithmetic: latent paths, class statistics, the collapse detector (on the
real classifier, real digits and a constant image), embeddings' kNN accuracy."""
import numpy as np
import pytest
import scipy.stats

from genjax.analysis import collapse, embed, latent


def test_lerp_and_slerp_endpoints_and_geometry():
  rng = np.random.default_rng(0)
  a, b = rng.normal(size=64), rng.normal(size=64)
  for path in (latent.lerp(a, b, 7), latent.slerp(a, b, 7)):
    assert path.shape == (7, 64)
    np.testing.assert_allclose(path[0], a, atol=1e-12)
    np.testing.assert_allclose(path[-1], b, atol=1e-12)
  s = latent.slerp(a, b, 7)
  # Norms interpolate linearly; directions move at a constant angle per step.
  np.testing.assert_allclose(np.linalg.norm(s, axis=1),
                             np.linspace(np.linalg.norm(a), np.linalg.norm(b), 7), rtol=1e-10)
  unit = s / np.linalg.norm(s, axis=1, keepdims=True)
  angles = np.arccos(np.clip(np.sum(unit[1:] * unit[:-1], axis=1), -1, 1))
  np.testing.assert_allclose(angles, angles[0], rtol=1e-8)
  # The lerp midpoint of two independent Gaussian vectors is ~1/sqrt(2) as long; slerp's is not.
  mid_l, mid_s = latent.lerp(a, b, 3)[1], s[3]
  assert np.linalg.norm(mid_l) < 0.85 * np.linalg.norm(mid_s)
  np.testing.assert_allclose(latent.slerp(a, 2 * a, 5), latent.lerp(a, 2 * a, 5))  # parallel


def test_class_statistics_against_scipy():
  predicted = np.array([0] * 50 + [1] * 30 + [2] * 19 + [3] * 1 + [4] * 0)
  stats = collapse.class_statistics(predicted)
  counts = np.bincount(predicted, minlength=10)
  assert stats['class_entropy'] == pytest.approx(scipy.stats.entropy(counts))
  assert stats['classes_covered'] == 4  # 1 of 100 is exactly 1%
  assert stats['max_class_share'] == pytest.approx(0.5)
  uniform = collapse.class_statistics(np.arange(1000) % 10)
  assert uniform['class_entropy'] == pytest.approx(np.log(10))
  assert uniform['classes_covered'] == 10


def test_collapse_warning_rules():
  healthy = collapse.class_statistics(np.arange(1000) % 10)
  assert collapse.collapse_warning([], healthy) is None
  assert collapse.collapse_warning([healthy], healthy) is None
  fewer = collapse.class_statistics(np.arange(1000) % 7)
  assert '7 of 10' in collapse.collapse_warning([healthy], fewer)
  assert collapse.collapse_warning([], fewer) is None  # no drop and no dominant class yet
  dominant = collapse.class_statistics(np.array([3] * 600 + list(range(10)) * 40))
  assert 'largest class' in collapse.collapse_warning([], dominant)


def test_detector_fires_on_a_constant_generator_not_on_real_digits(mnist_raw):
  from genjax.models import mnist_classifier
  _, variables = mnist_classifier.load_mnist_classifier()
  images, _ = mnist_raw['test']

  def stats(x_uint8_or_float):
    x = mnist_classifier.to_classifier_input(np.asarray(x_uint8_or_float, np.float32) / 255.0,
                                             value_range=(0.0, 1.0))
    logits, _ = mnist_classifier.classifier_outputs(variables, x)
    return collapse.class_statistics(np.asarray(logits).argmax(-1))

  real = stats(images[:1000])
  assert real['classes_covered'] == 10 and real['class_entropy'] > 2.2
  assert collapse.collapse_warning([], real) is None
  constant = stats(np.repeat(images[:1], 1000, axis=0))
  assert constant['classes_covered'] == 1 and constant['max_class_share'] == 1.0
  assert collapse.collapse_warning([real], constant) is not None


def test_knn_accuracy_separates_clusters_from_noise():
  rng = np.random.default_rng(1)
  labels = np.repeat(np.arange(4), 50)
  clustered = rng.normal(size=(200, 2)) * 0.1 + np.eye(4, 2)[labels] * 3 + labels[:, None]
  assert embed.knn_accuracy(clustered, labels) > 0.95
  noise = rng.normal(size=(200, 2))
  assert embed.knn_accuracy(noise, labels) < 0.5


def test_pca_explained_variance_and_nearest_neighbors():
  rng = np.random.default_rng(2)
  x = rng.normal(size=(500, 3)) * np.array([10.0, 1.0, 0.1])
  embedding, ratio = embed.pca(x)
  variances = np.var(x, axis=0, ddof=1)
  np.testing.assert_allclose(ratio, np.sort(variances)[::-1][:2] / variances.sum(), rtol=0.05)
  assert embedding.shape == (500, 2)
  dist, idx = embed.nearest_neighbors(x[:5] + 1e-3, x, k=1)
  np.testing.assert_array_equal(idx[:, 0], np.arange(5))
  brute = np.sqrt(((x[:5, None] + 1e-3 - x[None]) ** 2).sum(-1)).min(1)
  np.testing.assert_allclose(dist[:, 0], brute, rtol=1e-10)


def test_a_resumed_run_warns_against_the_evaluations_logged_before_it():
  rows = [{'step': 50, 'loss': 1.0},
          {'step': 100, 'test/class_entropy': 2.2, 'test/classes_covered': 10,
           'test/max_class_share': 0.15},
          {'step': 200, 'test/class_entropy': 2.1, 'test/classes_covered': 9,
           'test/max_class_share': 0.2, 'test/d_real': 0.6}]
  history = collapse.history_from_metrics(rows)
  assert history == [{'class_entropy': 2.2, 'classes_covered': 10, 'max_class_share': 0.15},
                     {'class_entropy': 2.1, 'classes_covered': 9, 'max_class_share': 0.2}]
  after_resume = {'class_entropy': 2.0, 'classes_covered': 9, 'max_class_share': 0.3}
  assert collapse.collapse_warning([], after_resume) is None  # a fresh history cannot see a drop
  assert '9 of 10' in collapse.collapse_warning(history, after_resume)
