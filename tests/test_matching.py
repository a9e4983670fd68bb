"""InfoGAN's code-to-label accuracy against brute force over every one-to-one map."""
import itertools

import numpy as np

from genjax.experiments.adversarial import best_matching_accuracy


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
