"""evaluate(workdir): the full evaluation of a run's latest checkpoint -> WORKDIR/eval.json.

What is measured depends on the method (genjax/experiments): for VAE / IWAE
  elbo          test ELBO, estimated from the same nll_num_samples draws per example
  iwae_bound    the k-sample bound L_k at the training k
  nll           -log p(x) estimated with nll_num_samples importance samples (5000 in the paper)
  active_units  units with Cov_x(E_q[u|x]) > 0.01, summed over stochastic layers
all on the MNIST test set binarized once with a fixed key (data.on_device.TEST_BINARIZATION_SEED).
"""
import json
import os

from absl import logging
from ml_collections import config_dict

from genjax import checkpoints, experiments
from genjax.errors import CheckpointError


def load_run_config(workdir):
  path = os.path.join(workdir, 'config.json')
  if not os.path.exists(path):
    raise CheckpointError(f'{path} does not exist: {workdir} is not a genjax workdir. Train into '
                          'it first with launch/train.py --workdir=...')
  with open(path) as f:
    return config_dict.ConfigDict(json.load(f))


def restore_run(workdir, source_dir=None, load_train=False):
  """(experiment, state at the latest checkpoint) of a workdir."""
  config = load_run_config(workdir)
  if source_dir:
    config.data.source_dir = source_dir
  experiment = experiments.for_config(config, load_train=load_train)
  mngr = checkpoints.manager(workdir)
  if mngr.latest_step() is None:
    raise CheckpointError(f'{workdir}/checkpoints holds no checkpoint to evaluate.')
  return experiment, checkpoints.restore_latest(mngr, experiment.init_state())


def evaluate(workdir, nll_num_samples=None, source_dir=None):
  experiment, state = restore_run(workdir, source_dir)
  kwargs = {'nll_num_samples': nll_num_samples} if nll_num_samples else {}
  result = {'step': int(state.step), **experiment.evaluate(state, **kwargs)}
  with open(os.path.join(workdir, 'eval.json.tmp'), 'w') as f:
    json.dump(result, f, indent=2)
  os.replace(os.path.join(workdir, 'eval.json.tmp'), os.path.join(workdir, 'eval.json'))
  logging.info('eval at step %d: %s', result['step'],
               ', '.join(f'{k}={v:.4g}' for k, v in result.items() if isinstance(v, float)))
  return result
