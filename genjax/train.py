"""train_and_evaluate(config, workdir): one training loop for every method.

Everything that changes from step to step is a pure function of (config.seed, step): the batch,
its binarization and the model's noise. With the train state restored from the latest checkpoint,
a resumed run therefore repeats an uninterrupted one exactly.
"""
import errno
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from genjax import checkpoints, experiments, parallel, results
from genjax import workdir as workdir_lib
from genjax.configs_check import check_resumable, flat_dict, validate_config, write_config
from genjax.errors import GenjaxError, TrainingDiverged, WorkdirError
from genjax.metric_logging import Progress, Writers


def _first_bad(window):
  """(step, name, value) of the first non-finite metric in [(step, {name: device scalar})]."""
  if not window:
    return None
  names = sorted(window[0][1])
  values = np.asarray(jax.device_get(jnp.stack([jnp.stack([m[n] for n in names])
                                                for _, m in window])))
  bad_rows, bad_cols = np.nonzero(~np.isfinite(values))
  if not bad_rows.size:
    return None
  return window[bad_rows[0]][0], names[bad_cols[0]], values[bad_rows[0], bad_cols[0]]


def hardware():
  """What this process trains on, as results tables name it."""
  device = jax.devices()[0]
  info = {'platform': device.platform, 'device_kind': device.device_kind,
          'device_count': jax.device_count(), 'process_count': jax.process_count(),
          'cpu_count': os.cpu_count(),
          'single_thread_xla': 'intra_op_parallelism_threads=1' in os.environ.get('XLA_FLAGS', '')}
  try:
    with open('/proc/cpuinfo') as f:
      info['cpu_model'] = next(line.split(':', 1)[1].strip() for line in f
                               if line.startswith('model name'))
  except (OSError, StopIteration):
    info['cpu_model'] = 'unknown'
  return info


def record_hardware(workdir):
  """Appends this machine to WORKDIR/hardware.json unless it is there already (a run resumed
  elsewhere lists every machine it trained on)."""
  path = os.path.join(workdir, 'hardware.json')
  entries = []
  if os.path.exists(path):
    try:
      with open(path) as f:
        entries = json.load(f)
    except ValueError:
      entries = []
  current = hardware()
  if current not in entries:
    with open(path + '.tmp', 'w') as f:
      json.dump(entries + [current], f, indent=2)
    os.replace(path + '.tmp', path)


def record_cost(workdir, compiled_step):
  """Writes WORKDIR/cost.json: XLA's cost analysis of the compiled train step (one step: for the
  adversarial methods n_critic critic updates and one generator update), the FLOPs the comparison
  of methods sets against quality. Rewritten at each start (a resume on other hardware updates
  it)."""
  analysis = compiled_step.cost_analysis()
  if isinstance(analysis, (list, tuple)):  # older JAX: one dict per computation
    analysis = analysis[0] if analysis else {}
  analysis = analysis or {}
  cost = {'flops_per_step': float(analysis.get('flops', float('nan'))),
          'bytes_accessed_per_step': float(analysis.get('bytes accessed', float('nan'))),
          'backend': jax.default_backend()}
  with open(os.path.join(workdir, 'cost.json'), 'w') as f:
    json.dump(cost, f, indent=2)


def _write_failed(workdir, mngr, step, error):
  """A failed write (full disk, lost permissions) as one WorkdirError naming the last intact
  checkpoint."""
  try:
    mngr.reload()
    last = mngr.latest_step()
  except Exception:  # noqa: BLE001 -- the failure we report matters more
    last = None
  where = (f'the last intact checkpoint is step {last} in {mngr.directory}' if last is not None
           else 'no checkpoint was written')
  cause = getattr(error, 'strerror', None) or str(error).splitlines()[0][:200]
  return WorkdirError(f'Writing to {workdir} failed at step {step} ({cause}); training stopped and '
                      f'{where}. Free space or fix the directory, then rerun the same command to '
                      'resume.')


def _is_write_failure(error):
  """Whether an exception (or one it wraps) is the OS refusing a write."""
  seen = 0
  while error is not None and seen < 10:
    if isinstance(error, OSError) and error.errno in WRITE_ERRNOS:
      return True
    if any(text in str(error) for text in ('No space left', 'Disk quota', 'Read-only file system')):
      return True
    error, seen = error.__cause__ or error.__context__, seen + 1
  return False


WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO)


def train_and_evaluate(config, workdir):
  """Trains `config` in `workdir`, resuming from its newest intact checkpoint.

  Order: every check that needs no data first (config values, the workdir, its lock, a changed
  config), then the data, then the checkpoint; config.json, hardware.json and the logs are written
  only once the restored state is known good, so a refused or failed start changes nothing.
  """
  validate_config(config)
  mesh = parallel.data_mesh()
  parallel.check_batch_size(config.train.batch_size, mesh)
  with workdir_lib.exclusive(workdir):
    if os.path.exists(os.path.join(workdir, 'config.json')):
      check_resumable(config, workdir)  # a changed config is refused before any data is loaded
    experiment = experiments.for_config(config, mesh)
    mngr = checkpoints.manager(workdir, config.train.keep_checkpoints)
    state = checkpoints.restore_latest(mngr, experiment.init_state(), quarantine=True)
    position = {'step': int(state.step)}
    try:
      write_config(config, workdir)
      record_hardware(workdir)
      return _train(config, workdir, experiment, mngr, state, mesh, position)
    except Exception as e:  # noqa: BLE001 -- only write failures are translated
      if isinstance(e, GenjaxError) or not _is_write_failure(e):
        raise
      raise _write_failed(workdir, mngr, position['step'], e) from None


def _train(config, workdir, experiment, mngr, state, mesh, position):
  """The loop; position['step'] follows the last finished step (for error messages)."""
  state = jax.device_put(state, parallel.replicated(mesh))
  start = int(state.step)
  num_steps = config.train.num_steps
  writers = Writers(workdir, resume_step=start)
  if start == 0:
    writers.write_hparams({k: v if isinstance(v, (int, float, str, bool)) else str(v)
                           for k, v in flat_dict(config.to_dict()).items()})
  else:
    logging.info('Resuming from the checkpoint at step %d in %s.', start, workdir)
    logged = os.path.join(workdir, 'metrics.jsonl')
    if hasattr(experiment, 'resume_history') and os.path.exists(logged):
      experiment.resume_history(results.read_metrics(logged))  # evaluations before the resume

  train_key = experiment.keys['train']
  train_step = jax.jit(experiment.train_step, donate_argnums=0)
  if start < num_steps:  # compiled once, here, so that XLA's cost analysis can be recorded
    train_step = train_step.lower(state, experiment.batch(start), train_key).compile()
    record_cost(workdir, train_step)
  progress = Progress(start, num_steps)
  window = []

  def flush():
    """Pulls the window's metrics to the host; stops on a non-finite value before any save."""
    bad = _first_bad(window)
    if bad:
      mngr.wait_until_finished()
      writers.close()
      last = mngr.latest_step()
      where = (f'the last good checkpoint is step {last} in {mngr.directory}' if last is not None
               else 'no checkpoint was written')
      with open(os.path.join(workdir, 'diverged.json'), 'w') as f:
        json.dump({'step': int(bad[0]), 'metric': bad[1], 'value': float(bad[2]),
                   'last_checkpoint': last}, f)
      raise TrainingDiverged(
          f'{bad[1]} became {bad[2]} at step {bad[0]}; training stopped and {where} (left '
          'intact). Lower the learning rate or check the data, then rerun the same command to '
          'resume from that checkpoint.')
    scalars = {k: float(np.mean(jax.device_get(jnp.stack([m[k] for _, m in window]))))
               for k in window[0][1]} if window else {}
    window.clear()
    return scalars

  t_start = time.monotonic()
  for step in range(start, num_steps):
    state, metrics = train_step(state, experiment.batch(step), train_key)
    done = position['step'] = step + 1
    window.append((done, metrics))
    if step == start:  # compiled and running: say so at once (console only)
      jax.block_until_ready(metrics)
      logging.info('step %d/%d  first step of this process done (compilation included) in %.1f s',
                   done, num_steps, time.monotonic() - t_start)
    is_last = done == num_steps
    if done % config.train.log_every == 0 or is_last:
      scalars = flush()
      speed = progress.update(done)
      scalars['epoch'] = done / experiment.steps_per_epoch
      writers.write_scalars(done, {**scalars, **speed})
      logging.info('step %d/%d  %s  %.1f steps/s  ETA %.0f s', done, num_steps,
                   '  '.join(f'{k} {v:.4g}' for k, v in sorted(scalars.items()) if k != 'epoch'),
                   speed['steps_per_sec'], speed['eta_seconds'])
    if done % config.train.eval_every == 0 or is_last:
      t0 = time.monotonic()
      scalars = experiment.quick_eval(state, done)
      writers.write_scalars(done, scalars)
      experiment.save_figures(state, done, workdir)
      logging.info('step %d  %s  (%.1f s)', done,
                   '  '.join(f'{k} {v:.4g}' for k, v in sorted(scalars.items())),
                   time.monotonic() - t0)
    if done % config.train.checkpoint_every == 0 or is_last:
      flush()
      checkpoints.save(mngr, state)
  mngr.wait_until_finished()
  writers.close()
  return state
