"""A small MNIST CNN whose 128-d penultimate layer serves as the feature space of MNIST-FID/KID/
precision-recall, and whose logits give a classifier-based Inception Score and class histogram.

Input convention: MNIST images as float32 in [0, 1], shape [B, 28, 28, 1] (white digits on black,
as in the dataset). `to_classifier_input` converts uint8 images and [-1, 1] generator outputs.

The trained weights ship with the package (genjax/assets/mnist_classifier.msgpack, written by
results/evaluation/make_classifier_json.py; test accuracy in results/evaluation/
classifier_mnist.json); `load_mnist_classifier()` returns them.
"""
import functools
import importlib.resources

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization

IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
FEATURE_DIM = 128
ASSET = 'mnist_classifier.msgpack'


class MnistClassifier(nn.Module):
  """conv32-conv32-pool-conv64-conv64-pool-dense128-dense10, 3x3 'VALID' convolutions, each
  followed by BatchNorm and ReLU. Returns (logits [B, 10], features [B, 128]); the features are
  the dense128 activations after BatchNorm and ReLU, taken before dropout. Use train=False
  (running BatchNorm statistics, no dropout) for every measurement."""
  dropout_rate: float = 0.5

  @nn.compact
  def __call__(self, x_BHWC, train=False):
    norm = functools.partial(nn.BatchNorm, use_running_average=not train, momentum=0.9)
    # 'VALID' padding: 28 -> 26 -> 24 -> 12 -> 10 -> 8 -> 4; half the cost of 'SAME' on CPU,
    # and the 4x4x64 map keeps the dense layer (and the shipped weights) small.
    conv = lambda h, n: nn.relu(norm()(nn.Conv(n, (3, 3), padding='VALID', use_bias=False)(h)))
    pool = lambda h: nn.max_pool(h, (2, 2), strides=(2, 2))
    h = pool(conv(conv(x_BHWC, 32), 32))
    h = pool(conv(conv(h, 64), 64))
    h = h.reshape(h.shape[0], -1)
    features = nn.relu(norm()(nn.Dense(FEATURE_DIM, use_bias=False)(h)))
    h = nn.Dropout(self.dropout_rate, deterministic=not train)(features)
    return nn.Dense(NUM_CLASSES)(h), features


def to_classifier_input(images, value_range=None):
  """Images -> float32 [B, 28, 28, 1] in [0, 1].

  uint8 images are divided by 255. Float images must say their range: value_range=(0, 1), or
  (-1, 1) for tanh generators. Flat [B, 784] vectors are reshaped. Values are clipped to [0, 1].
  """
  images = jnp.asarray(images)
  if images.dtype == jnp.uint8:
    x = images.astype(jnp.float32) / 255.0
  elif value_range is None:
    raise ValueError('Float images need value_range=(0, 1) or (-1, 1); uint8 images need none.')
  else:
    lo, hi = value_range
    x = (images.astype(jnp.float32) - lo) / (hi - lo)
  return jnp.clip(x.reshape(x.shape[0], *IMAGE_SHAPE), 0.0, 1.0)


def variables_to_bytes(variables):
  """{'params', 'batch_stats'} -> msgpack bytes (float32 numpy leaves)."""
  return serialization.msgpack_serialize(
      jax.tree.map(lambda a: np.asarray(a, np.float32), serialization.to_state_dict(variables)))


def _template(module):
  return jax.eval_shape(lambda: module.init(jax.random.key(0),
                                            jnp.zeros((1, *IMAGE_SHAPE)), train=False))


def load_mnist_classifier(path=None):
  """(module, variables) of the trained classifier; `path` defaults to the packaged asset."""
  module = MnistClassifier()
  if path is None:
    data = importlib.resources.files('genjax').joinpath('assets', ASSET).read_bytes()
  else:
    with open(path, 'rb') as f:
      data = f.read()
  template = _template(module)
  restored = serialization.msgpack_restore(data)
  shapes = jax.tree.map(lambda a: a.shape, template)
  got = jax.tree.map(lambda a: np.shape(a), restored)
  if got != shapes:
    raise ValueError(f'{path or ASSET} does not hold MnistClassifier weights: shapes {got} vs '
                     f'{shapes}.')
  return module, jax.tree.map(jnp.asarray, restored)


@jax.jit
def _apply(variables, x_BHWC):
  return MnistClassifier().apply(variables, x_BHWC, train=False)


def classifier_outputs(variables, images, batch_size=500):
  """(logits [N, 10], features [N, 128]) of images already in the classifier's input form
  (float [N, 28, 28, 1] in [0, 1]; see to_classifier_input), in batches of `batch_size`.
  The last batch is padded, so every call compiles one shape only."""
  images = jnp.asarray(images, jnp.float32)
  n = len(images)
  logits, features = [], []
  for start in range(0, n, batch_size):
    chunk = images[start:start + batch_size]
    pad = batch_size - len(chunk)
    if pad:
      chunk = jnp.concatenate([chunk, jnp.zeros((pad, *chunk.shape[1:]), chunk.dtype)])
    out_logits, out_features = _apply(variables, chunk)
    logits.append(out_logits[:batch_size - pad])
    features.append(out_features[:batch_size - pad])
  return jnp.concatenate(logits), jnp.concatenate(features)
