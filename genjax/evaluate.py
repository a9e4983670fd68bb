"""evaluate(workdir): likelihood metrics of a VAE / IWAE run's checkpoint -> WORKDIR/eval.json.

  elbo          test ELBO, estimated from the same nll_num_samples draws per example
  iwae_bound    the k-sample bound L_k at the training k
  nll           -log p(x) estimated with nll_num_samples importance samples (5000 in the paper)
  active_units  units with Cov_x(E_q[u|x]) > 0.01, summed over stochastic layers
All on the MNIST test set binarized once with a fixed key (data.on_device.TEST_BINARIZATION_SEED).
"""
import json
import os
import time

import jax
import numpy as np
from absl import logging
from ml_collections import config_dict

from genjax import checkpoints
from genjax.data import on_device
from genjax.errors import CheckpointError
from genjax.metrics import likelihood
from genjax.train import build, load_mnist_vectors, run_keys


def load_run_config(workdir):
  path = os.path.join(workdir, 'config.json')
  if not os.path.exists(path):
    raise CheckpointError(f'{path} does not exist: {workdir} is not a genjax workdir. Train into '
                          'it first with launch/train.py --workdir=...')
  with open(path) as f:
    return config_dict.ConfigDict(json.load(f))


def evaluate(workdir, nll_num_samples=None, source_dir=None):
  config = load_run_config(workdir)
  if source_dir:
    config.data.source_dir = source_dir
  nll_num_samples = nll_num_samples or config.eval.nll_num_samples
  x_test = on_device.binarized_test_set(load_mnist_vectors(config, 'test'))
  model, state = build(config, steps_per_epoch=1)  # the schedule does not matter here
  mngr = checkpoints.manager(workdir)
  if mngr.latest_step() is None:
    raise CheckpointError(f'{workdir}/checkpoints holds no checkpoint to evaluate.')
  state = checkpoints.restore_latest(mngr, state)
  params, step = state.params, int(state.step)
  key = jax.random.fold_in(run_keys(config.seed)[3], 10**9)  # apart from training's eval keys
  nll_key, bound_key, au_key = jax.random.split(key, 3)

  t0 = time.monotonic()

  def progress(done, total):
    if done % (10 * config.eval.batch_size) == 0 or done == total:
      spent = time.monotonic() - t0
      logging.info('NLL (k=%d): %d/%d test examples, %.0f s, ETA %.0f s', nll_num_samples, done,
                   total, spent, spent * (total - done) / done)

  log_px, elbo = likelihood.importance_bounds(model, params, x_test, nll_key, nll_num_samples,
                                              chunk=config.eval.nll_chunk,
                                              batch_size=config.eval.batch_size,
                                              progress=progress)
  nll_seconds = time.monotonic() - t0
  k = config.method.k
  bound, _ = likelihood.importance_bounds(model, params, x_test, bound_key, k, chunk=k,
                                          batch_size=config.eval.batch_size)
  units = likelihood.active_units(model, params, x_test, au_key,
                                  config.eval.active_units_threshold)
  result = {
      'step': step,
      'method': config.method.name,
      'k': k,
      'stochastic_layers': config.model.stochastic_layers,
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
  with open(os.path.join(workdir, 'eval.json.tmp'), 'w') as f:
    json.dump(result, f, indent=2)
  os.replace(os.path.join(workdir, 'eval.json.tmp'), os.path.join(workdir, 'eval.json'))
  logging.info('step %d: NLL %.3f (k=%d)  ELBO %.3f  L_%d %.3f  active units %s', step,
               result['nll'], nll_num_samples, result['elbo'], k, result['iwae_bound'], units)
  return result
