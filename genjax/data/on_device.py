"""Whole splits kept on device; shuffling, batching and binarization there, from explicit keys.

MNIST and CIFAR-10 fit in accelerator memory, so an epoch is a permutation of indices and a batch
is a gather: no host input pipeline, and the batch for a step is a pure function of (key, step),
which is what makes a resumed run draw exactly the batches an uninterrupted one would.
"""

import jax
import jax.numpy as jnp
import numpy as np

from genjax.errors import ConfigError

# The test set of a likelihood model is binarized once, with this key, for every run and seed,
# so that NLLs of different runs are measured on the same binary images.
TEST_BINARIZATION_SEED = 0


def to_unit_interval(images_uint8):
  """uint8 [N, H, W, C] -> float32 [N, H*W*C] in [0, 1]."""
  return np.asarray(images_uint8, np.float32).reshape(len(images_uint8), -1) / 255.0


def binarize(key, x):
  """One Bernoulli draw per pixel with p = intensity (dynamic binarization, Burda et al. 2015)."""
  return jax.random.bernoulli(key, x).astype(x.dtype)


def binarized_test_set(x_test):
  return binarize(jax.random.key(TEST_BINARIZATION_SEED), jnp.asarray(x_test))


class EpochBatches:
  """Batch `step` of an endless sequence of shuffled epochs, optionally binarized anew each time.

  Args:
    x: float32 [N, D] on device (replicated where there are several devices).
    batch_size: global batch size; the last partial batch of an epoch is dropped.
    key: the run's data key; epoch e is permuted by fold_in(key, e), batch s binarized by
      fold_in(binarization key, s).
    batch_sharding: where each batch lives (split over the mesh's data axis).
  """

  def __init__(self, x, batch_size, key, batch_sharding, dynamic_binarization=True):
    if batch_size > len(x):
      raise ConfigError(f'train.batch_size={batch_size} exceeds the {len(x)} training examples.')
    self.x = x
    self.batch_size = batch_size
    self.steps_per_epoch = len(x) // batch_size
    self._perm_key, self._binarize_key = jax.random.split(key)
    self._binarize = dynamic_binarization
    self._epoch, self._perm = None, None
    self._permutation = jax.jit(lambda k, e: jax.random.permutation(jax.random.fold_in(k, e),
                                                                     len(x)))
    self._take = jax.jit(self._take_impl, out_shardings=batch_sharding)

  def _take_impl(self, x, perm, index, step):
    idx = jax.lax.dynamic_slice_in_dim(perm, index * self.batch_size, self.batch_size)
    batch = x[idx]
    if self._binarize:
      batch = binarize(jax.random.fold_in(self._binarize_key, step), batch)
    return batch

  def __call__(self, step):
    epoch, index = divmod(step, self.steps_per_epoch)
    if epoch != self._epoch:
      self._epoch, self._perm = epoch, self._permutation(self._perm_key, epoch)
    return self._take(self.x, self._perm, index, step)
