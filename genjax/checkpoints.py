"""Orbax checkpoints of a train state under WORKDIR/checkpoints, with clear errors."""
import os

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


def save(mngr, state):
  mngr.save(int(state.step), args=ocp.args.StandardSave(_payload(state)))


def restore_latest(mngr, state):
  """Returns `state` with the latest checkpoint's arrays, or `state` itself if there is none."""
  step = mngr.latest_step()
  if step is None:
    return state
  try:
    restored = mngr.restore(step, args=ocp.args.StandardRestore(_payload(state)))
  except Exception as e:  # noqa: BLE001 -- any failure here means an unusable checkpoint
    mngr.close()  # stop orbax's threads now, or they print tracebacks at exit
    path = os.path.join(str(mngr.directory), str(step))
    raise CheckpointError(
        f'Checkpoint {path} cannot be restored ({type(e).__name__}: {str(e)[:300]}). It is '
        f'damaged or was written by a different config. Move that step folder aside to resume '
        f'from an earlier one, or use a fresh --workdir.') from None
  return _from_payload(state, restored)
