"""The MNIST classifier behind the MNIST-FID/KID/PR features and the classifier-based scores of
generated digits (genjax/models/mnist_classifier.py), trained with cross-entropy on real MNIST."""
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from genjax import parallel, viz
from genjax.data import load_split, on_device
from genjax.configs_check import validate_classifier as validate
from genjax.errors import ConfigError
from genjax.experiments.likelihood import run_keys
from genjax.models.mnist_classifier import IMAGE_SHAPE, MnistClassifier, classifier_outputs


@struct.dataclass
class ClassifierState:
  step: jax.Array
  params: Any
  batch_stats: Any
  opt_state: Any


def load_images(config, split):
  """(float32 [N, 28, 28, 1] in [0, 1], int32 labels [N]) of a verified MNIST split."""
  images, labels = load_split(config.data.name, split, config.data.source_dir,
                              config.data.tfds_data_dir)
  return np.asarray(images, np.float32) / 255.0, labels


def make_optimizer(c, num_steps):
  lr = optax.cosine_decay_schedule(c.learning_rate, num_steps) if c.decay == 'cosine' \
      else c.learning_rate
  return optax.adamw(lr, weight_decay=c.weight_decay)


def random_shift(key, x_BHWC, max_shift):
  """Each image translated by its own integer offset in [-max_shift, max_shift]^2, zero fill."""
  if max_shift == 0:
    return x_BHWC
  b, h, w, _ = x_BHWC.shape
  padded = jnp.pad(x_BHWC, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
  offsets = jax.random.randint(key, (b, 2), 0, 2 * max_shift + 1)
  crop = lambda img, o: jax.lax.dynamic_slice(img, (o[0], o[1], 0), (h, w, img.shape[-1]))
  return jax.vmap(crop)(padded, offsets)


def make_train_step(model, tx, max_shift):

  def train_step(state, batch, key):
    images, labels = batch
    key = jax.random.fold_in(key, state.step)
    shift_key, dropout_key = jax.random.split(key)
    images = random_shift(shift_key, images, max_shift)

    def loss_fn(params):
      (logits, _), updates = model.apply(
          {'params': params, 'batch_stats': state.batch_stats}, images, train=True,
          mutable=['batch_stats'], rngs={'dropout': dropout_key})
      loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
      return loss, (logits, updates['batch_stats'])

    (loss, (logits, batch_stats)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    state = state.replace(step=state.step + 1, params=optax.apply_updates(state.params, updates),
                          batch_stats=batch_stats, opt_state=opt_state)
    return state, {'loss': loss, 'train_accuracy': jnp.mean(jnp.argmax(logits, -1) == labels)}

  return train_step


class ClassifierExperiment:

  def __init__(self, config, mesh=None, load_train=True):
    validate(config)
    self.config = config
    self.mesh = mesh or parallel.data_mesh()
    self.keys = dict(zip(('init', 'data', 'train', 'eval'), run_keys(config.seed)))
    x_test, y_test = load_images(config, 'test')
    self.x_test, self.y_test = jnp.asarray(x_test), np.asarray(y_test)
    self.steps_per_epoch = 60000 // config.train.batch_size
    if load_train:
      x, y = load_images(config, 'train')
      where = parallel.replicated(self.mesh)
      self._x, self._y = jax.device_put(x, where), jax.device_put(y, where)
      # EpochBatches shuffles indices; the images and labels are gathered by them.
      self._indices = on_device.EpochBatches(
          jax.device_put(np.arange(len(x), dtype=np.int32), where), config.train.batch_size,
          self.keys['data'], parallel.batch_sharding(self.mesh), dynamic_binarization=False)
      self._gather = jax.jit(lambda x, y, i: (x[i], y[i]),
                             out_shardings=parallel.batch_sharding(self.mesh))
      self.steps_per_epoch = self._indices.steps_per_epoch
    self.model = MnistClassifier(dropout_rate=config.model.dropout_rate)
    self.tx = make_optimizer(config.optim, config.train.num_steps)
    self.train_step = make_train_step(self.model, self.tx, config.data.max_shift)
    self._test_logits = (None, None)

  def init_state(self):
    variables = self.model.init(self.keys['init'], jnp.zeros((1, *IMAGE_SHAPE)), train=False)
    params = variables['params']
    return ClassifierState(step=jnp.zeros((), jnp.int32), params=params,
                           batch_stats=variables['batch_stats'], opt_state=self.tx.init(params))

  def batch(self, step):
    return self._gather(self._x, self._y, self._indices(step))

  @staticmethod
  def variables(state):
    return {'params': state.params, 'batch_stats': state.batch_stats}

  def test_predictions(self, state):
    """Test-set logits; quick_eval and save_figures of one step share one pass."""
    step = int(state.step)
    if self._test_logits[0] != step:
      logits, _ = classifier_outputs(self.variables(state), self.x_test,
                                     self.config.eval.batch_size)
      self._test_logits = (step, np.asarray(logits))
    return self._test_logits[1]

  def quick_eval(self, state, step):
    logits = self.test_predictions(state)
    return {'test/accuracy': float(np.mean(logits.argmax(-1) == self.y_test))}

  def save_figures(self, state, step, workdir):
    wrong = np.flatnonzero(self.test_predictions(state).argmax(-1) != self.y_test)[:64]
    if len(wrong):
      viz.save_panels(os.path.join(workdir, 'samples', f'step_{step:08d}.png'),
                      [(f'misclassified test digits (first {len(wrong)})', self.x_test[wrong])],
                      title=f'classifier step {step}')

  def evaluate(self, state):
    logits = self.test_predictions(state)
    predicted = logits.argmax(-1)
    loss = optax.softmax_cross_entropy_with_integer_labels(jnp.asarray(logits),
                                                           jnp.asarray(self.y_test))
    per_class = [float(np.mean(predicted[self.y_test == c] == c)) for c in range(10)]
    return {'test_accuracy': float(np.mean(predicted == self.y_test)),
            'test_loss': float(jnp.mean(loss)),
            'test_accuracy_per_class': per_class,
            'num_test_examples': int(len(self.y_test))}
