"""Orbax checkpoints of a train state under WORKDIR/checkpoints, verified when restored.

Each save records a SHA-256 digest of the state's arrays in the checkpoint's own metadata (orbax
`custom_metadata`, committed atomically with the step). A restore recomputes it from the arrays
read back, so flipped or truncated bytes are caught even where the storage format itself would
decode them into garbage; checkpoints written before the digest existed are checked for non-finite
values only. `restore_latest` falls back to the newest intact checkpoint, warning about each damaged
one, and stops with one CheckpointError line when none is intact.
"""
import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

import orbax.checkpoint as ocp
import jax
import numpy as np
from absl import logging
from flax import serialization
from flax.training import train_state

from genjax.errors import CheckpointError


DIGEST_KEY = 'genjax_sha256'
DAMAGED_DIR = 'damaged_checkpoints'


def manager(workdir, max_to_keep=3, create=True):
  """create=False (evaluation): a workdir without checkpoints is left as it is."""
  return ocp.CheckpointManager(
      os.path.abspath(os.path.join(workdir, 'checkpoints')),
      options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=create))


def digest(payload):
  """SHA-256 over every array of a checkpoint payload: tree path, dtype, shape and bytes (integers
  as int64: the step is saved as int32 and restored into a Python int's int64)."""
  h = hashlib.sha256()
  leaves = jax.tree_util.tree_flatten_with_path(payload)[0]
  for path, leaf in leaves:
    if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
      leaf = jax.random.key_data(leaf)
    x = np.ascontiguousarray(jax.device_get(leaf))
    if np.issubdtype(x.dtype, np.integer):  # a counter may come back wider than it was saved
      x = x.astype(np.int64)
    h.update(f'{jax.tree_util.keystr(path)}|{x.dtype.str}|{x.shape}|'.encode())
    h.update(x.tobytes())
  return h.hexdigest()


def _non_finite(payload):
  """Names of the floating-point arrays holding NaN or Inf."""
  bad = []
  for path, leaf in jax.tree_util.tree_flatten_with_path(payload)[0]:
    x = np.asarray(jax.device_get(leaf)) if not (
        isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key)) \
        else None
    if x is not None and np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
      bad.append(jax.tree_util.keystr(path))
  return bad


def _payload(state):
  """The arrays of a train state as nested containers orbax can store."""
  if isinstance(state, train_state.TrainState):
    # The optimizer and apply_fn are rebuilt from the config.
    return {'step': state.step, 'params': state.params, 'opt_state': state.opt_state}
  return serialization.to_state_dict(state)


def _from_payload(state, restored):
  if isinstance(state, train_state.TrainState):
    return state.replace(**restored)
  return serialization.from_state_dict(state, restored)


@contextlib.contextmanager
def _stderr_kept_unless_failed(settle_seconds=1.0):
  """Captures file descriptor 2 during a restore: replayed on success, dropped on failure.

  When a restore fails, orbax's pending tensorstore callbacks die on a closed event loop and
  print tracebacks from other threads, during and shortly after the failure; the CheckpointError
  already says what is wrong, so that noise is dropped (and waited out for `settle_seconds`).
  """
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as capture:
    os.dup2(capture.fileno(), 2)
    failed = True
    try:
      yield
      failed = False
    finally:
      if failed:
        time.sleep(settle_seconds)
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)
      if not failed:
        capture.seek(0)
        os.write(2, capture.read())


def step_of(state):
  """The step of a train state as an int (a run of several vmapped seeds holds one per seed,
  all equal)."""
  return int(np.ravel(jax.device_get(state.step))[0])


def save(mngr, state):
  payload = _payload(state)
  # Multi-host arrays are not all addressable here: those checkpoints get the finiteness check.
  meta = {DIGEST_KEY: digest(payload)} if jax.process_count() == 1 else {}
  mngr.save(step_of(state), args=ocp.args.StandardSave(payload), custom_metadata=meta)


def _saved_digest(mngr, step):
  """The digest in the step's _CHECKPOINT_METADATA (read as JSON: orbax's metadata() warns about
  every item it is not told how to restore); None for a checkpoint saved without one."""
  try:
    with open(os.path.join(_step_path(mngr, step), '_CHECKPOINT_METADATA')) as f:
      return (json.load(f).get('custom_metadata') or {}).get(DIGEST_KEY)
  except (OSError, ValueError, AttributeError):  # unreadable: the restore itself will say more
    return None


def _short(e):
  """An exception as one line of at most ~200 characters, cut at a word."""
  text = ' '.join(str(e).split())
  if len(text) > 200:
    text = text[:200].rsplit(' ', 1)[0] + ' ...'
  return f'{type(e).__name__}: {text}' if text else type(e).__name__


def restore_latest(mngr, state, quarantine=False):
  """Returns `state` with the arrays of the newest intact checkpoint, or `state` itself if there
  is no checkpoint. Damaged newer ones are skipped with a warning naming each, and with
  `quarantine` (training, which will write those steps again) moved to WORKDIR/damaged_checkpoints/
  once an intact one is found. None intact: CheckpointError."""
  steps = sorted(mngr.all_steps(), reverse=True)
  damaged = []
  for step in steps:
    try:
      restored = restore_step(mngr, state, step)
    except CheckpointError as e:
      logging.warning('Checkpoint %s is damaged and is skipped: %s', _step_path(mngr, step), e.reason)
      damaged.append((step, e.reason))
      continue
    if damaged:
      logging.warning('Fell back to the intact checkpoint at step %d after %d damaged newer '
                      'one(s) (%s).', step, len(damaged), ', '.join(str(s) for s, _ in damaged))
      if quarantine:
        _quarantine(mngr, [s for s, _ in damaged])
    return restored
  if not damaged:
    return state
  details = '; '.join(f'step {s}: {r}' for s, r in damaged)
  raise CheckpointError(
      f'No intact checkpoint in {mngr.directory} ({details}). Use a fresh --workdir, or move '
      'the damaged step folders aside to start this one over.')


def _step_path(mngr, step):
  return os.path.join(str(mngr.directory), str(step))


def _quarantine(mngr, steps):
  """Moves damaged step folders out of orbax's sight, to WORKDIR/damaged_checkpoints/STEP[.N]."""
  target_dir = os.path.join(os.path.dirname(str(mngr.directory)), DAMAGED_DIR)
  os.makedirs(target_dir, exist_ok=True)
  for step in steps:
    target, n = os.path.join(target_dir, str(step)), 1
    while os.path.exists(target):
      target, n = os.path.join(target_dir, f'{step}.{n}'), n + 1
    shutil.move(_step_path(mngr, step), target)
    logging.warning('Moved the damaged checkpoint %s to %s.', _step_path(mngr, step), target)
  mngr.reload()


def restore_step(mngr, state, step):
  """Returns `state` with the arrays of checkpoint `step`, verified against the digest recorded
  when it was saved (and free of NaN/Inf); CheckpointError (with `.reason`) otherwise."""
  path = _step_path(mngr, step)
  expected = _saved_digest(mngr, step)
  try:
    with _stderr_kept_unless_failed():
      restored = mngr.restore(step, args=ocp.args.StandardRestore(_payload(state)))
  except Exception as e:  # noqa: BLE001 -- any failure here means an unusable checkpoint
    reason = f'it cannot be read ({_short(e)})'
  else:
    if expected is not None and jax.process_count() == 1 and digest(restored) != expected:
      reason = 'its arrays do not match the checksum recorded when it was saved'
    elif _non_finite(restored):
      bad = _non_finite(restored)
      reason = f'non-finite values in {", ".join(bad[:3])}{" ..." if len(bad) > 3 else ""}'
    else:
      return _from_payload(state, restored)
  error = CheckpointError(
      f'Checkpoint {path} is damaged: {reason}. Move that step folder aside to resume from an '
      'earlier one, or use a fresh --workdir.')
  error.reason = reason
  raise error
