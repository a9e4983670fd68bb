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
from genjax.errors import CheckpointError, ConfigError, DataError


def load_run_config(workdir):
  path = os.path.join(workdir, 'config.json')
  if not os.path.exists(path):
    raise CheckpointError(f'{path} does not exist: {workdir} is not a genjax workdir. Train into '
                          'it first with launch/train.py --workdir=...')
  with open(path) as f:
    return config_dict.ConfigDict(json.load(f))


def _experiment_and_manager(workdir, source_dir=None, load_train=False):
  config = load_run_config(workdir)
  if source_dir:
    config.data.source_dir = source_dir
  experiment = experiments.for_config(config, load_train=load_train)
  mngr = checkpoints.manager(workdir)
  if mngr.latest_step() is None:
    raise CheckpointError(f'{workdir}/checkpoints holds no checkpoint to evaluate.')
  return experiment, mngr


def restore_run(workdir, source_dir=None, load_train=False):
  """(experiment, state at the latest checkpoint) of a workdir."""
  experiment, mngr = _experiment_and_manager(workdir, source_dir, load_train)
  return experiment, checkpoints.restore_latest(mngr, experiment.init_state())


def _write_json(path, result):
  with open(path + '.tmp', 'w') as f:
    json.dump(result, f, indent=2)
  os.replace(path + '.tmp', path)


def _evaluate_state(experiment, state, nll_num_samples):
  kwargs = {'nll_num_samples': nll_num_samples} if nll_num_samples else {}
  result = {'step': int(state.step), **experiment.evaluate(state, **kwargs)}
  logging.info('eval at step %d: %s', result['step'],
               ', '.join(f'{k}={v:.4g}' for k, v in result.items() if isinstance(v, float)))
  return result


def step_eval_path(workdir, step):
  return os.path.join(workdir, 'evals', f'step_{step:08d}.json')


def evaluate(workdir, nll_num_samples=None, source_dir=None):
  """The latest checkpoint -> WORKDIR/eval.json (and WORKDIR/evals/step_N.json)."""
  experiment, state = restore_run(workdir, source_dir)
  result = _evaluate_state(experiment, state, nll_num_samples)
  os.makedirs(os.path.join(workdir, 'evals'), exist_ok=True)
  _write_json(step_eval_path(workdir, result['step']), result)
  _write_json(os.path.join(workdir, 'eval.json'), result)
  return result


def evaluate_all(workdir, nll_num_samples=None, source_dir=None):
  """Every checkpoint not yet evaluated -> WORKDIR/evals/step_N.json, oldest first; eval.json
  follows the newest. Safe beside a training run still writing checkpoints, and a rerun resumes
  where it stopped (steps with a file are skipped). Returns the steps evaluated now."""
  experiment, mngr = _experiment_and_manager(workdir, source_dir)
  os.makedirs(os.path.join(workdir, 'evals'), exist_ok=True)
  done = []
  for step in sorted(mngr.all_steps()):
    if os.path.exists(step_eval_path(workdir, step)):
      continue
    state = checkpoints.restore_step(mngr, experiment.init_state(), step)
    result = _evaluate_state(experiment, state, nll_num_samples)
    _write_json(step_eval_path(workdir, step), result)
    done.append(step)
  newest = max(mngr.all_steps())
  with open(step_eval_path(workdir, newest)) as f:
    _write_json(os.path.join(workdir, 'eval.json'), json.load(f))
  return done


def load_images(path):
  """An .npz (key 'images', else its only array) or .npy of [N, 28, 28(, 1)] uint8 or [0, 1]
  floats, or a directory of PNG files -> float32 [N, 28, 28, 1] in [0, 1]."""
  import numpy as np
  if not os.path.exists(path):
    raise DataError(f'--images={path} does not exist.')
  if os.path.isdir(path):
    from PIL import Image
    names = sorted(n for n in os.listdir(path) if n.lower().endswith('.png'))
    if not names:
      raise DataError(f'{path} holds no .png files.')
    images = np.stack([np.asarray(Image.open(os.path.join(path, n)).convert('L')) for n in names])
  elif path.endswith('.npz'):
    with np.load(path) as data:
      keys = list(data.keys())
      if 'images' not in keys and len(keys) != 1:
        raise DataError(f'{path} holds arrays {keys}: name the images array "images".')
      images = data['images' if 'images' in keys else keys[0]]
  elif path.endswith('.npy'):
    images = np.load(path)
  else:
    raise DataError(f'--images={path}: give an .npz, an .npy or a directory of PNG files.')
  images = np.asarray(images)
  if images.ndim == 4 and images.shape[-1] == 1:
    images = images[..., 0]
  if images.ndim != 3 or images.shape[1:] != (28, 28):
    raise DataError(f'{path}: images of shape {images.shape}; MNIST metrics need [N, 28, 28] '
                    '(or [N, 28, 28, 1]).')
  if images.dtype == np.uint8:
    images = images.astype(np.float32) / 255.0
  elif images.min() < 0 or images.max() > 1:
    raise DataError(f'{path}: float images must lie in [0, 1] (found [{images.min():.3g}, '
                    f'{images.max():.3g}]); map tanh outputs with (x + 1) / 2.')
  return images.astype(np.float32)[..., None]


def evaluate_images(path, source_dir=None, out=None, kid_subset_size=1000, kid_subsets=100):
  """Scores images from outside genjax against the MNIST test set (as many images as given, up
  to 10k), in the MNIST classifier's feature space, like torch-fidelity's CLI."""
  import numpy as np

  from genjax.data import load_split
  from genjax.metrics import sample_quality
  images = load_images(path)
  test, _ = load_split('mnist', 'test', source_dir)
  n = min(len(images), len(test))
  if kid_subset_size > n:
    raise ConfigError(f'{n} images: fewer than --kid_subset_size={kid_subset_size}; lower it.')
  real = np.asarray(test[:n], np.float32)[..., None] / 255.0
  result = {'images': path, **sample_quality.mnist_metrics(images[:n], real, kid_subset_size,
                                                           kid_subsets),
            'reference': f'MNIST test set, first {n} images'}
  if out:
    _write_json(out, result)
  return result
