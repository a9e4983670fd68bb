"""train_and_evaluate(config, workdir): the training loop of the VAE / IWAE family.

Everything that changes from step to step is a pure function of (config.seed, step): the batch,
its binarization and the model's noise. With the train state restored from the latest checkpoint,
a resumed run therefore repeats an uninterrupted one exactly.
"""
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from genjax import checkpoints, parallel, viz
from genjax.configs_check import check_resumable, flat_dict, validate_config
from genjax.data import load_split, on_device
from genjax.errors import TrainingDiverged
from genjax.methods import iwae
from genjax.metrics import likelihood
from genjax.metric_logging import Progress, Writers


def run_keys(seed):
  """The run's root key split once: (init, data, train, eval)."""
  return jax.random.split(jax.random.key(seed), 4)


def load_mnist_vectors(config, split):
  images, _ = load_split(config.data.name, split, config.data.source_dir,
                         config.data.tfds_data_dir)
  return on_device.to_unit_interval(images)


def build(config, steps_per_epoch):
  """The model, its optimizer and an initial train state, all from the config."""
  model = iwae.build_model(config.model)
  tx = iwae.make_optimizer(config.optim, steps_per_epoch)
  init_key = run_keys(config.seed)[0]
  state = iwae.create_train_state(init_key, model, tx)
  return model, state


def quick_eval(model, params, x_test, key, config):
  """Test bounds at the training k (full test set) — cheap enough to run during training."""
  k = config.method.k
  lme, elbo = likelihood.importance_bounds(model, params, x_test, key, num_samples=k, chunk=k)
  return {'test/iwae_bound': float(np.mean(lme)), 'test/elbo': float(np.mean(elbo))}


def save_sample_grid(workdir, model, params, x_test, key, step):
  samples = model.apply({'params': params}, key, 64, method='sample')
  recons = model.apply({'params': params}, x_test[:32], method='reconstruct')
  pairs = jnp.stack([x_test[:32], recons], axis=1).reshape(64, 28, 28, 1)
  viz.save_panels(os.path.join(workdir, 'samples', f'step_{step:08d}.png'),
                  [('samples (pixel means)', samples.reshape(64, 28, 28, 1)),
                   ('test x | reconstruction', pairs)], title=f'step {step}')


def _first_bad(window):
  """(step, value) of the first non-finite loss in [(step, device scalar)], else None."""
  if not window:
    return None
  values = np.asarray(jax.device_get(jnp.stack([v for _, v in window])))
  bad = np.flatnonzero(~np.isfinite(values))
  return (window[bad[0]][0], values[bad[0]]) if bad.size else None


def train_and_evaluate(config, workdir):
  validate_config(config)
  os.makedirs(workdir, exist_ok=True)
  check_resumable(config, workdir)
  mesh = parallel.data_mesh()
  parallel.check_batch_size(config.train.batch_size, mesh)

  x_train = jax.device_put(load_mnist_vectors(config, 'train'), parallel.replicated(mesh))
  x_test = on_device.binarized_test_set(load_mnist_vectors(config, 'test'))
  _, data_key, train_key, eval_key = run_keys(config.seed)
  bounds_key, grid_key = jax.random.split(eval_key)  # the grid shows the same z every time
  batches = on_device.EpochBatches(x_train, config.train.batch_size, data_key,
                                   parallel.batch_sharding(mesh),
                                   config.data.dynamic_binarization)
  model, state = build(config, batches.steps_per_epoch)

  mngr = checkpoints.manager(workdir, config.train.keep_checkpoints)
  state = checkpoints.restore_latest(mngr, state)
  state = jax.device_put(state, parallel.replicated(mesh))
  start = int(state.step)
  num_steps = config.train.num_steps
  writers = Writers(workdir, resume_step=start)
  if start == 0:
    writers.write_hparams({k: v if isinstance(v, (int, float, str, bool)) else str(v)
                           for k, v in flat_dict(config.to_dict()).items()})
  else:
    logging.info('Resuming from the checkpoint at step %d in %s.', start, workdir)

  train_step = jax.jit(iwae.make_train_step(model, config.method.name, config.method.k),
                       donate_argnums=0)
  progress = Progress(start, num_steps)
  window, sums = [], {}

  def flush(step):
    """Pulls the window's metrics to the host; stops on a non-finite loss before any save."""
    bad = _first_bad(window)
    if bad:
      mngr.wait_until_finished()
      writers.close()
      last = mngr.latest_step()
      where = (f'the last good checkpoint is step {last} in {mngr.directory}' if last is not None
               else 'no checkpoint was written')
      raise TrainingDiverged(
          f'The loss became {bad[1]} at step {bad[0]}; training stopped and {where} (left '
          'intact). Lower optim.learning_rate or check the data, then rerun the same command to '
          'resume from that checkpoint.')
    scalars = {k: float(np.mean(jax.device_get(jnp.stack(v)))) for k, v in sums.items()}
    window.clear()
    sums.clear()
    return scalars

  for step in range(start, num_steps):
    state, metrics = train_step(state, batches(step), train_key)
    done = step + 1
    window.append((done, metrics['loss']))
    for k, v in metrics.items():
      sums.setdefault(k, []).append(v)
    is_last = done == num_steps
    if done % config.train.log_every == 0 or is_last:
      scalars = flush(done)
      speed = progress.update(done)
      scalars['epoch'] = done / batches.steps_per_epoch
      writers.write_scalars(done, {**scalars, **speed})
      logging.info('step %d/%d  loss %.3f  %.1f steps/s  ETA %.0f s', done, num_steps,
                   scalars['loss'], speed['steps_per_sec'], speed['eta_seconds'])
    if done % config.train.eval_every == 0 or is_last:
      t0 = time.monotonic()
      scalars = quick_eval(model, state.params, x_test, jax.random.fold_in(bounds_key, done),
                           config)
      writers.write_scalars(done, scalars)
      save_sample_grid(workdir, model, state.params, x_test, grid_key, done)
      logging.info('step %d  test iwae_bound(k=%d) %.3f  elbo %.3f  (%.1f s)', done,
                   config.method.k, scalars['test/iwae_bound'], scalars['test/elbo'],
                   time.monotonic() - t0)
    if done % config.train.checkpoint_every == 0 or is_last:
      if window:
        flush(done)
      checkpoints.save(mngr, state)
  mngr.wait_until_finished()
  writers.close()
  return state

