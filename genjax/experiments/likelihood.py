"""VAE / IWAE on dynamically binarized MNIST."""
import functools
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from genjax import parallel, viz
from genjax.data import load_split, on_device, subsets
from genjax.configs_check import LEGACY_DEFAULTS
from genjax.configs_check import validate_likelihood as validate  # noqa: F401
from genjax.experiments import sample_eval
from genjax.methods import iwae
from genjax.metrics import likelihood
from genjax.models.iwae_mlp import ARCHITECTURES


def run_keys(seed):
  """The run's root key split once: (init, data, train, eval)."""
  return jax.random.split(jax.random.key(seed), 4)


def load_mnist_vectors(config, split):
  """The split as float vectors in [0, 1]; for 'train', the fixed class-balanced subset of
  data.train_size images when that is set (genjax/data/subsets.py)."""
  images, labels = load_split(config.data.name, split, config.data.source_dir,
                              config.data.tfds_data_dir)
  size = config.data.get('train_size')
  if split == 'train' and size is not None:
    images = images[subsets.class_balanced_subset(labels, size)]
  return on_device.to_unit_interval(images)


class LikelihoodExperiment:

  def __init__(self, config, mesh=None, load_train=True):
    validate(config)
    self.config = config
    self.mesh = mesh or parallel.data_mesh()
    self.keys = dict(zip(('init', 'data', 'train', 'eval'), run_keys(config.seed)))
    self.bounds_key, self.grid_key = jax.random.split(self.keys['eval'])
    self.x_test = on_device.binarized_test_set(load_mnist_vectors(config, 'test'))
    self.steps_per_epoch = (config.data.get('train_size') or 60000) // config.train.batch_size
    if load_train:
      x_train = jax.device_put(load_mnist_vectors(config, 'train'),
                               parallel.replicated(self.mesh))
      self._batches = on_device.EpochBatches(x_train, config.train.batch_size,
                                             self.keys['data'],
                                             parallel.batch_sharding(self.mesh),
                                             config.data.dynamic_binarization)
      self.steps_per_epoch = self._batches.steps_per_epoch
    # A run made before train.compute_dtype existed stored none: it computed in float32.
    self.model = iwae.build_model(config.model, config.train.get(
        'compute_dtype', LEGACY_DEFAULTS['train.compute_dtype']))
    self.train_step = iwae.make_train_step(self.model, config.method.name, config.method.k)

  def init_state(self):
    tx = iwae.make_optimizer(self.config.optim, self.steps_per_epoch)
    return iwae.create_train_state(self.keys['init'], self.model, tx)

  def batch(self, step):
    return self._batches(step)

  def quick_eval(self, state, step):
    """Test bounds at the training k (full test set) — cheap enough to run during training."""
    k = self.config.method.k
    lme, elbo = likelihood.importance_bounds(self.model, state.params, self.x_test,
                                             jax.random.fold_in(self.bounds_key, step),
                                             num_samples=k, chunk=k)
    return {'test/iwae_bound': float(np.mean(lme)), 'test/elbo': float(np.mean(elbo))}

  def save_figures(self, state, step, workdir):
    apply = lambda *a, **kw: self.model.apply({'params': state.params}, *a, **kw)
    samples = apply(self.grid_key, 64, method='sample')
    recons = apply(self.x_test[:32], method='reconstruct')
    pairs = jnp.stack([self.x_test[:32], recons], axis=1).reshape(64, 28, 28, 1)
    viz.save_panels(os.path.join(workdir, 'samples', f'step_{step:08d}.png'),
                    [('samples (pixel means)', samples.reshape(64, 28, 28, 1)),
                     ('test x | reconstruction', pairs)], title=f'step {step}')

  def generated_images(self, state, index, size):
    """`size` samples (pixel means of p(x|h)) as [size, 28, 28, 1] in [0, 1], a pure function of
    (state, eval key, index, size)."""
    key = jax.random.fold_in(jax.random.fold_in(self.keys['eval'], 10**9 + 1), index)
    means = self.model.apply({'params': state.params}, key, size, method='sample')
    return np.asarray(means).reshape(size, 28, 28, 1)

  def evaluate(self, state, nll_num_samples=None):
    """ELBO, L_k at the training k, NLL with nll_num_samples, active units on the test set (the
    'nll' metric), and the sample-quality metrics of config.eval (experiments/sample_eval.py)."""
    eval_settings = sample_eval.settings(self.config, likelihood=True)
    result = {'method': self.config.method.name, 'k': self.config.method.k,
              'stochastic_layers': self.config.model.stochastic_layers}
    if 'nll' in eval_settings.metrics:
      result.update(self.likelihood_metrics(state, nll_num_samples))
    result.update(sample_eval.evaluate_samples(self.config, eval_settings,
                                               functools.partial(self.generated_images, state)))
    return result

  def likelihood_metrics(self, state, nll_num_samples=None):
    """ELBO, L_k at the training k, NLL with nll_num_samples, active units on the test set."""
    config, params = self.config, state.params
    nll_num_samples = nll_num_samples or config.eval.nll_num_samples
    x_test = self.x_test[:config.eval.get('nll_test_examples') or len(self.x_test)]
    key = jax.random.fold_in(self.keys['eval'], 10**9)  # apart from training's eval keys
    nll_key, bound_key, au_key = jax.random.split(key, 3)
    t0 = time.monotonic()

    def progress(done, total):
      if done % (10 * config.eval.batch_size) == 0 or done == total:
        spent = time.monotonic() - t0
        logging.info('NLL (k=%d): %d/%d test examples, %.0f s, ETA %.0f s', nll_num_samples,
                     done, total, spent, spent * (total - done) / done)

    log_px, elbo = likelihood.importance_bounds(
        self.model, params, x_test, nll_key, nll_num_samples, chunk=config.eval.nll_chunk,
        batch_size=config.eval.batch_size, progress=progress)
    nll_seconds = time.monotonic() - t0
    k = config.method.k
    bound, _ = likelihood.importance_bounds(self.model, params, x_test, bound_key, k, chunk=k,
                                            batch_size=config.eval.batch_size)
    units = likelihood.active_units(self.model, params, x_test, au_key,
                                    config.eval.active_units_threshold)
    result = {
        'elbo': float(np.mean(elbo)),
        'iwae_bound': float(np.mean(bound)),
        'nll': float(-np.mean(log_px)),
        'active_units': int(sum(units)),
        'active_units_per_layer': units,
        'elbo_num_samples': nll_num_samples,
        'iwae_bound_num_samples': k,
        'nll_num_samples': nll_num_samples,
        'num_test_examples': int(len(x_test)),
        'test_binarization_seed': on_device.TEST_BINARIZATION_SEED,
        'nll_seconds': nll_seconds,
    }
    n_train = config.eval.get('train_nll_examples')
    if n_train:
      result.update(self.train_likelihood(params, n_train, nll_num_samples))
    return result

  def train_likelihood(self, params, num_examples, nll_num_samples):
    """ELBO and NLL on the first `num_examples` training images the run trained on (its
    data.train_size subset), binarized once with a fixed key: beside the test numbers they show
    how much the model overfits. `train_gap` = test NLL - train NLL is left to the reader's
    table (both are in eval.json)."""
    config = self.config
    x = load_mnist_vectors(config, 'train')[:num_examples]
    x = on_device.binarize(jax.random.key(on_device.TEST_BINARIZATION_SEED + 1), jnp.asarray(x))
    key = jax.random.fold_in(self.keys['eval'], 10**9 + 2)
    log_px, elbo = likelihood.importance_bounds(
        self.model, params, x, key, nll_num_samples, chunk=config.eval.nll_chunk,
        batch_size=config.eval.batch_size)
    return {'train_elbo': float(np.mean(elbo)), 'train_nll': float(-np.mean(log_px)),
            'num_train_examples': int(len(x))}
