"""Orbax checkpoints of a train state under WORKDIR/checkpoints, with clear errors."""
import contextlib
import os
import sys
import tempfile
import time

import orbax.checkpoint as ocp
from flax import serialization
from flax.training import train_state

from genjax.errors import CheckpointError


def manager(workdir, max_to_keep=3):
  return ocp.CheckpointManager(
      os.path.abspath(os.path.join(workdir, 'checkpoints')),
      options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True))


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


def save(mngr, state):
  mngr.save(int(state.step), args=ocp.args.StandardSave(_payload(state)))


def restore_latest(mngr, state):
  """Returns `state` with the latest checkpoint's arrays, or `state` itself if there is none."""
  step = mngr.latest_step()
  return state if step is None else restore_step(mngr, state, step)


def restore_step(mngr, state, step):
  """Returns `state` with the arrays of checkpoint `step`."""
  try:
    with _stderr_kept_unless_failed():
      restored = mngr.restore(step, args=ocp.args.StandardRestore(_payload(state)))
  except Exception as e:  # noqa: BLE001 -- any failure here means an unusable checkpoint
    path = os.path.join(str(mngr.directory), str(step))
    raise CheckpointError(
        f'Checkpoint {path} cannot be restored ({type(e).__name__}: {str(e)[:300]}). It is '
        f'damaged or was written by a different config. Move that step folder aside to resume '
        f'from an earlier one, or use a fresh --workdir.') from None
  return _from_payload(state, restored)
