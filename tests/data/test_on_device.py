"""On-device epochs: permutations, determinism from keys, dynamic binarization."""
import jax
import jax.numpy as jnp
import numpy as np

from genjax import parallel
from genjax.data import on_device


def _batches(x, batch_size=10, seed=0, binarize=False):
  mesh = parallel.data_mesh(jax.devices()[:1])
  return on_device.EpochBatches(jnp.asarray(x), batch_size, jax.random.key(seed),
                                parallel.batch_sharding(mesh), binarize)


def test_each_epoch_is_a_permutation_and_epochs_differ():
  x = np.arange(50, dtype=np.float32)[:, None]
  batches = _batches(x)
  epoch0 = np.concatenate([np.asarray(batches(s))[:, 0] for s in range(5)])
  epoch1 = np.concatenate([np.asarray(batches(s))[:, 0] for s in range(5, 10)])
  assert sorted(epoch0.tolist()) == list(range(50)) == sorted(epoch1.tolist())
  assert not np.array_equal(epoch0, epoch1)


def test_a_batch_depends_only_on_key_and_step():
  x = np.random.RandomState(0).rand(50, 4).astype(np.float32)
  a, b = _batches(x, binarize=True), _batches(x, binarize=True)
  for s in (0, 3, 1):  # b jumps around: no hidden state decides the batch
    a(s)
  np.testing.assert_array_equal(np.asarray(a(7)), np.asarray(b(7)))
  c = _batches(x, seed=1, binarize=True)
  assert not np.array_equal(np.asarray(a(7)), np.asarray(c(7)))


def test_dynamic_binarization_is_bernoulli_of_intensity():
  x = np.full((20000, 3), [0.1, 0.5, 0.9], np.float32)
  batch = np.asarray(_batches(x, batch_size=20000, binarize=True)(0))
  assert set(np.unique(batch)) <= {0.0, 1.0}
  np.testing.assert_allclose(batch.mean(axis=0), [0.1, 0.5, 0.9], atol=0.015)
  # a new epoch draws new bits for the same example
  again = np.asarray(_batches(x, batch_size=20000, binarize=True)(1))
  assert not np.array_equal(batch, again)


def test_test_set_binarization_is_fixed():
  """One Bernoulli draw from the fixed key TEST_BINARIZATION_SEED: equal to that draw made here,
  unlike a draw from any other key, and binary with the pixel intensities as frequencies."""
  import jax
  x = np.random.RandomState(0).rand(3000, 5).astype(np.float32)
  got = np.asarray(on_device.binarized_test_set(x))
  expected = np.asarray(jax.random.bernoulli(jax.random.key(on_device.TEST_BINARIZATION_SEED), x))
  np.testing.assert_array_equal(got, expected.astype(np.float32))
  other = np.asarray(jax.random.bernoulli(jax.random.key(on_device.TEST_BINARIZATION_SEED + 1), x))
  assert (got != other).mean() > 0.2
  assert set(np.unique(got)) <= {0.0, 1.0}
  np.testing.assert_allclose(got.mean(0), x.mean(0), atol=0.03)
