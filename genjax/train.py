"""train_and_evaluate(config, workdir): one training loop for every method.

Everything that changes from step to step is a pure function of (config.seed, step): the batch,
its binarization and the model's noise. With the train state restored from the latest checkpoint,
a resumed run therefore repeats an uninterrupted one exactly.
"""
import contextlib
import errno
import json
import os
import signal
import sys
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from genjax import checkpoints, experiments, parallel, results
from genjax import workdir as workdir_lib
from genjax.configs_check import check_resumable, flat_dict, validate_config, write_config
from genjax.errors import GenjaxError, TrainingDiverged, TrainingStopped, WorkdirError
from genjax.metric_logging import Progress, Writers


def _host_window(window):
  """[(step, {name: device scalar or [S] vector})] -> (steps, names, float64 [W, names, S]).

  Everything is copied to the host first and reduced with numpy: eager jnp ops on arrays
  replicated over several CPU devices start multi-device programs of their own, which can
  interleave with a running train step's all-reduce (see _serialize_steps)."""
  names = sorted(window[0][1])
  host = jax.device_get([[m[n] for n in names] for _, m in window])
  values = np.asarray(host, np.float64)
  if values.ndim == 2:  # one seed
    values = values[..., None]
  return [s for s, _ in window], names, values


def _first_bad(window):
  """(step, name, value, seed index) of the first non-finite metric in the window, or None."""
  if not window:
    return None
  steps, names, values = _host_window(window)
  bad = np.argwhere(~np.isfinite(values))
  if not len(bad):
    return None
  row, col, seed = bad[0]
  return steps[row], names[col], values[row, col, seed], int(seed)


def _serialize_steps():
  """Whether to wait for each step before dispatching the next: on CPU with several devices in
  this process. XLA:CPU runs each device's share of a program on a thread pool the size of the
  machine's cores and an all-reduce blocks its thread until every device arrives; with several
  programs in flight (async dispatch) and more devices than cores, the threads can all be taken
  by shares waiting for a share that never gets one (`Expected 4 threads to join the
  rendezvous, but only 3 ... arrived`, an abort after 40 s). One program at a time cannot
  deadlock; accelerators run a device's work on its own streams and keep async dispatch."""
  return jax.default_backend() == 'cpu' and jax.local_device_count() > 1


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


def _last_checkpoint(mngr, what):
  """'<what> is step N in DIR', or that there is none, as the manager finds it on disk now."""
  try:
    mngr.reload()
    last = mngr.latest_step()
  except Exception:  # noqa: BLE001 -- the failure being reported matters more
    last = None
  return (f'{what} is step {last} in {mngr.directory}' if last is not None
          else 'no checkpoint was written')


def _write_failed(workdir, mngr, step, error):
  """A failed write (full disk, lost permissions) as one WorkdirError naming the last intact
  checkpoint."""
  where = _last_checkpoint(mngr, 'the last intact checkpoint')
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

  In a multi-process run (jax.distributed, launch/train.py --num_processes) every process runs
  this on the same shared workdir: all of them build the same global state and save and restore
  checkpoints together, as Orbax expects; process 0 alone holds the workdir's lock and writes
  config.json, the logs, figures and quick evaluations.
  """
  validate_config(config)
  mesh = parallel.data_mesh()
  parallel.check_batch_size(config.train.batch_size, mesh)
  lead = jax.process_index() == 0
  with workdir_lib.exclusive(workdir) if lead else contextlib.nullcontext():
    if os.path.exists(os.path.join(workdir, 'config.json')):
      check_resumable(config, workdir)  # a changed config is refused before any data is loaded
    experiment = experiments.for_config(config, mesh)
    mngr = checkpoints.manager(workdir, config.train.keep_checkpoints)
    state = checkpoints.restore_latest(mngr, experiment.init_state(), quarantine=lead)
    position = {'step': checkpoints.step_of(state)}
    try:
      if lead:
        write_config(config, workdir)
        record_hardware(workdir)
      return _train(config, workdir, experiment, mngr, state, mesh, position)
    except Exception as e:  # noqa: BLE001 -- only write failures are translated
      if isinstance(e, GenjaxError):
        raise
      if jax.process_count() > 1 and _is_peer_failure(e):
        raise _peer_failed(workdir, mngr, position['step'], e) from None
      if not _is_write_failure(e):
        raise
      raise _write_failed(workdir, mngr, position['step'], e) from None


def _is_peer_failure(error):
  """Whether an exception of a multi-process run comes from losing another process (a closed
  collective connection, the coordination service's report of a dead task)."""
  text = str(error)
  return any(t in text for t in ('Gloo', 'gloo', 'Connection closed', 'Connection reset',
                                 'coordination', 'heartbeat', 'DEADLINE_EXCEEDED', 'UNAVAILABLE',
                                 'barrier', 'Barrier', 'peer'))


def _peer_failed(workdir, mngr, step, error):
  where = _last_checkpoint(mngr, 'the last checkpoint')
  cause = ' '.join(str(error).split())[:160]
  return GenjaxError(
      f'process {jax.process_index()} of {jax.process_count()} lost another process of this run '
      f'near step {step} ({cause}); {where}. Rerun all {jax.process_count()} processes with the '
      'same command to resume from it.')


PENDING_NAME = 'stop_window.json'  # a stop's metrics since the last logged row


def _save_pending(workdir, step, window):
  """The per-step metrics of the window a stop interrupted, as float64 host values (JSON keeps
  them exactly), so that the resumed run logs the same rows as an uninterrupted one."""
  steps, names, values = _host_window(window)
  path = os.path.join(workdir, PENDING_NAME)
  with open(path + '.tmp', 'w') as f:
    json.dump({'step': step, 'steps': steps, 'names': names, 'values': values.tolist()}, f)
  os.replace(path + '.tmp', path)


def _load_pending(workdir, start, seeds):
  """The window saved by a stop at `start` (the checkpoint resumed from), else []."""
  try:
    with open(os.path.join(workdir, PENDING_NAME)) as f:
      pending = json.load(f)
  except (OSError, ValueError):
    return []
  if pending.get('step') != start:  # from another stop, older than this checkpoint
    return []
  values = np.asarray(pending['values'], np.float64)  # [W, names, S]
  return [(step, {n: (values[i, j] if seeds is not None else values[i, j, 0])
                  for j, n in enumerate(pending['names'])})
          for i, step in enumerate(pending['steps'])]


class _StopRequests:
  """SIGTERM (a scheduler's or a sweep's stop), SIGHUP (the launcher died:
  workdir.stop_with_parent) and SIGINT (Ctrl-C) during the loop of a one-process run: the step
  running finishes, a checkpoint is saved at it and the run stops with one line that says so.
  Rerunning the command resumes there, so no step is lost (the default: everything since the last
  scheduled checkpoint), and the metrics of the steps since the last logged row wait in
  WORKDIR/stop_window.json, so that the resumed run's log equals an uninterrupted run's. The
  checkpoint is one like the scheduled ones (it counts towards keep_checkpoints); a stop during
  the last step lets training finish and skips what follows it (--evaluate, figures). A second Ctrl-C stops at once, keeping the last saved checkpoint; more
  SIGTERMs or SIGHUPs (a sweep stopping: SIGTERM, then SIGHUP as it exits) wait for the save. A
  signal this process ignores (nohup's SIGHUP) stays ignored. Multi-process runs keep the
  defaults: a save is collective, one process cannot make it alone."""

  NAMES = ('SIGTERM', 'SIGHUP', 'SIGINT')

  def __init__(self, mngr):
    self.mngr = mngr  # for its directory
    self.received = None  # the first signal's number
    self.interrupted = False  # a Ctrl-C came: a second one stops at once
    self.previous = {}

  def __enter__(self):
    if jax.process_count() == 1 and threading.current_thread() is threading.main_thread():
      for name in self.NAMES:
        number = getattr(signal, name)
        if signal.getsignal(number) != signal.SIG_IGN:
          self.previous[number] = signal.signal(number, self._note)
    return self

  def _note(self, signum, frame):
    del frame
    if signum == signal.SIGINT and self.interrupted:
      try:  # a save may be half written: the restore skips it for the newest intact one
        print(f'stopped: a second Ctrl-C stopped training at once; the rerun of the same '
              f'command resumes from the newest complete checkpoint in {self.mngr.directory}.',
              file=sys.stderr, flush=True)
      finally:
        os._exit(128 + signum)
    self.interrupted = self.interrupted or signum == signal.SIGINT
    if self.received is None:  # later SIGTERMs and SIGHUPs: the same request
      self.received = signum
      logging.warning('%s: stopping after this step, with a checkpoint at it.',
                      signal.Signals(signum).name)

  def __exit__(self, *exc):
    for number, handler in self.previous.items():
      signal.signal(number, handler)


class _NoWriters:
  """What a process other than 0 writes: nothing."""

  def write_scalars(self, step, scalars):
    pass

  def write_hparams(self, hparams):
    pass

  def close(self):
    pass


def _local_copy(state):
  """In a multi-process run, `state` (replicated over every process's devices) as arrays on this
  process's first device, for the evaluations and figures process 0 makes alone."""
  if jax.process_count() == 1:
    return state
  return jax.device_put(jax.device_get(state), jax.local_devices()[0])


def _train(config, workdir, experiment, mngr, state, mesh, position):
  """The loop; position['step'] follows the last finished step (for error messages)."""
  lead = jax.process_index() == 0
  state = parallel.put_replicated(state, mesh)
  seeds = getattr(experiment, 'seeds', None)  # a SeedStack: metrics carry a leading seed axis
  start = position['step']
  num_steps = config.train.num_steps
  writers = Writers(workdir, resume_step=start) if lead else _NoWriters()
  if start == 0:
    writers.write_hparams({k: v if isinstance(v, (int, float, str, bool)) else str(v)
                           for k, v in flat_dict(config.to_dict()).items()})
  else:
    logging.info('Resuming from the checkpoint at step %d in %s.', start, workdir)
    logged = os.path.join(workdir, 'metrics.jsonl')
    if lead and hasattr(experiment, 'resume_history') and os.path.exists(logged):
      experiment.resume_history(results.read_metrics(logged))  # evaluations before the resume

  train_key = experiment.keys['train']
  train_step = jax.jit(experiment.train_step, donate_argnums=0)
  if start < num_steps:  # compiled once, here, so that XLA's cost analysis can be recorded
    train_step = train_step.lower(state, experiment.batch(start), train_key).compile()
    if lead:
      record_cost(workdir, train_step)
  serialize = _serialize_steps()
  progress = Progress(start, num_steps)
  window = _load_pending(workdir, start, seeds)

  def write_rows(step, per_seed, extra=None):
    """One metrics row, or one per seed (with its `seed`) for a SeedStack."""
    if seeds is None:
      writers.write_scalars(step, {**per_seed[0], **(extra or {})})
    else:
      for seed, scalars in zip(seeds, per_seed):
        writers.write_scalars(step, {**scalars, **(extra or {}), 'seed': seed})

  def flush():
    """Pulls the window's metrics to the host; stops on a non-finite value before any save.
    Returns one dict of window means per seed."""
    bad = _first_bad(window)
    if bad:
      mngr.wait_until_finished()
      writers.close()
      last = mngr.latest_step()
      where = (f'the last good checkpoint is step {last} in {mngr.directory}' if last is not None
               else 'no checkpoint was written')
      which = f' (seed {seeds[bad[3]]})' if seeds is not None else ''
      if lead:
        with open(os.path.join(workdir, 'diverged.json'), 'w') as f:
          json.dump({'step': int(bad[0]), 'metric': bad[1], 'value': float(bad[2]),
                     'last_checkpoint': last,
                     **({'seed': seeds[bad[3]]} if seeds is not None else {})}, f)
      raise TrainingDiverged(
          f'{bad[1]} became {bad[2]} at step {bad[0]}{which}; training stopped and {where} (left '
          'intact). Lower the learning rate or check the data, then rerun the same command to '
          'resume from that checkpoint.')
    if not window:
      return [{}]
    _, names, values = _host_window(window)
    window.clear()
    means = values.mean(axis=0)  # [names, S]
    return [{n: float(means[j, i]) for j, n in enumerate(names)} for i in range(means.shape[1])]

  with _StopRequests(mngr) as stop:
    t_start = time.monotonic()
    for step in range(start, num_steps):
      state, metrics = train_step(state, experiment.batch(step), train_key)
      if serialize:
        jax.block_until_ready(state)
      done = position['step'] = step + 1
      window.append((done, metrics))
      if step == start:  # compiled and running: say so at once (console only)
        jax.block_until_ready(metrics)
        logging.info('step %d/%d  first step of this process done (compilation included) in %.1f s',
                     done, num_steps, time.monotonic() - t_start)
      is_last = done == num_steps
      stopping = stop.received is not None and not is_last
      if done % config.train.log_every == 0 or is_last:
        per_seed = flush()
        speed = progress.update(done)
        for scalars in per_seed:
          scalars['epoch'] = done / experiment.steps_per_epoch
        write_rows(done, per_seed, speed)
        logging.info('step %d/%d  %s  %.1f steps/s  ETA %.0f s', done, num_steps,
                     '  '.join(f'{k} {v:.4g}' for k, v in sorted(per_seed[0].items())
                               if k != 'epoch'),
                     speed['steps_per_sec'], speed['eta_seconds'])
      if lead and (done % config.train.eval_every == 0 or is_last):
        t0 = time.monotonic()
        local = _local_copy(state)
        scalars = experiment.quick_eval(local, done)
        per_seed = scalars if seeds is not None else [scalars]
        write_rows(done, per_seed)
        experiment.save_figures(local, done, workdir)
        logging.info('step %d  %s  (%.1f s)', done,
                     '  '.join(f'{k} {v:.4g}' for k, v in sorted(per_seed[0].items())),
                     time.monotonic() - t0)
      if done % config.train.checkpoint_every == 0 or is_last or stopping:
        pending = list(window) if stopping and window else None
        flush()  # a non-finite metric stops here, before the save
        checkpoints.save(mngr, state)
        if lead and pending:
          _save_pending(workdir, done, pending)
        elif lead and os.path.exists(os.path.join(workdir, PENDING_NAME)):
          os.remove(os.path.join(workdir, PENDING_NAME))  # logged by now
      if stopping:
        break
    mngr.wait_until_finished()  # inside: a signal during the last save waits for it
    writers.close()
  if stop.received is not None:
    name = signal.Signals(stop.received).name
    step = position['step']
    if step < num_steps:
      raise TrainingStopped(
          f'{name} at step {step} of {num_steps}: a checkpoint was saved at step {step} in '
          f'{mngr.directory}. Rerun the same command to resume from it.', stop.received)
    raise TrainingStopped(
        f'{name} during the last step: training finished ({num_steps} steps, checkpoint saved in '
        f'{mngr.directory}) but nothing after it ran (evaluation, figures). Rerun the same '
        'command to do them.', stop.received)
  return state
