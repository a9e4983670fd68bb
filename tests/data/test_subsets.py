"""Class-balanced training subsets on the real MNIST labels."""
import numpy as np
import pytest

from genjax.data.subsets import class_balanced_subset
from genjax.errors import ConfigError


def test_subsets_are_balanced_nested_and_fixed(mnist_raw):
  _, labels = mnist_raw['train']
  previous = None
  for size in (1000, 5000, 10000):
    idx = class_balanced_subset(labels, size)
    assert len(idx) == len(np.unique(idx)) == size
    assert np.all(np.diff(idx) > 0)
    counts = np.bincount(labels[idx], minlength=10)
    assert np.all(counts == size // 10), counts
    if previous is not None:
      assert np.isin(previous, idx).all()  # a larger size only adds images
    previous = idx
  np.testing.assert_array_equal(class_balanced_subset(labels, 1000),
                                class_balanced_subset(labels, 1000))
  other = class_balanced_subset(labels, 1000, seed=1)
  assert not np.array_equal(other, class_balanced_subset(labels, 1000))
  everything = class_balanced_subset(labels, len(labels))
  np.testing.assert_array_equal(everything, np.arange(len(labels)))
  uneven = class_balanced_subset(labels, 1003)
  assert sorted(np.bincount(labels[uneven], minlength=10)) == [100] * 7 + [101] * 3


def test_subset_sizes_that_cannot_be_had_are_refused():
  labels = np.repeat(np.arange(10), 5)
  with pytest.raises(ConfigError, match='choose 1..50'):
    class_balanced_subset(labels, 51)
  with pytest.raises(ConfigError, match='choose 1..50'):
    class_balanced_subset(labels, 0)
  skewed = np.array([0] * 45 + list(range(1, 10)) * 1 + [1])
  with pytest.raises(ConfigError, match='too few examples'):
    class_balanced_subset(skewed, 30)
