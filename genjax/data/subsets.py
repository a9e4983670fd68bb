"""Fixed class-balanced subsets of a training set, for the data-size ablations.

The subset of a given size is the same for every run and seed (it depends on the labels and
SUBSET_SEED only), and subsets are nested: the 1,000 images are among the 5,000, and so on, so a
larger size only adds data.
"""
import numpy as np

from genjax.errors import ConfigError

SUBSET_SEED = 0


def class_balanced_subset(labels, size, seed=SUBSET_SEED):
  """Sorted indices of `size` examples with the classes as equal as possible (the first
  size % num_classes classes get one more): the first examples of each class in a fixed shuffle.
  size = len(labels) is the whole set."""
  labels = np.asarray(labels)
  classes = np.unique(labels)
  if not 0 < size <= len(labels):
    raise ConfigError(f'data.train_size={size}: choose 1..{len(labels)} (or None for all).')
  if size == len(labels):  # the whole set, as unbalanced as it is (and a superset of all others)
    return np.arange(len(labels))
  order = np.random.default_rng(seed).permutation(len(labels))
  per_class = [order[labels[order] == c] for c in classes]
  quota = [size // len(classes) + (i < size % len(classes)) for i in range(len(classes))]
  short = [int(c) for c, members, q in zip(classes, per_class, quota) if len(members) < q]
  if short:
    raise ConfigError(f'data.train_size={size}: classes {short} have too few examples for a '
                      'balanced subset of that size.')
  return np.sort(np.concatenate([members[:q] for members, q in zip(per_class, quota)]))
