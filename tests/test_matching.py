"""InfoGAN's code-to-label accuracy against brute force over every one-to-one map; the label-free
code statistics against scipy's entropies."""
import itertools

import numpy as np

from genjax.experiments.adversarial import best_matching_accuracy, code_statistics


def test_hungarian_matching_equals_brute_force():
  rng = np.random.RandomState(0)
  for _ in range(5):
    labels = rng.randint(0, 5, 200)
    predicted = np.where(rng.rand(200) < 0.6, (labels * 3 + 1) % 5, rng.randint(0, 5, 200))
    best = max(np.mean(np.asarray(perm)[predicted] == labels)
               for perm in itertools.permutations(range(5)))
    accuracy, mapping = best_matching_accuracy(predicted, labels, num_classes=5)
    np.testing.assert_allclose(accuracy, best)
    assert sorted(mapping.values()) == list(range(5))


def test_code_statistics_against_scipy_entropies():
  from scipy.stats import entropy
  rng = np.random.RandomState(1)
  logits = rng.randn(300, 10) * 3
  p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
  stats = code_statistics(logits)
  np.testing.assert_allclose(stats['code_marginal_entropy'], entropy(p.mean(0)), rtol=1e-5)
  np.testing.assert_allclose(stats['code_conditional_entropy'],
                             np.mean([entropy(row) for row in p]), rtol=1e-5)


def test_code_statistics_separate_a_clean_split_from_a_merged_one():
  """Confident and balanced -> I = log 10; two codes never used -> H[c] = log 8 (their
  probabilities underflow to 0 in float32: 0 log 0 counts as 0)."""
  clean = np.repeat(np.eye(10) * 50, 30, axis=0)
  merged = np.repeat(np.eye(10)[:8] * 200, 30, axis=0)
  np.testing.assert_allclose(code_statistics(clean)['code_mutual_information'], np.log(10),
                             rtol=1e-4)
  np.testing.assert_allclose(code_statistics(merged)['code_marginal_entropy'], np.log(8),
                             rtol=1e-4)
