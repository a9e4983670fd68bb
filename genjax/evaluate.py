"""evaluate(workdir): the full evaluation of a run's latest checkpoint -> WORKDIR/eval.json,
WORKDIR/evals/step_N.json and TensorBoard scalars under WORKDIR/eval/.

What is measured depends on the method (genjax/experiments) and on the run's config.eval, which
`eval_overrides` (launch/evaluate.py --config.eval.x=...) may change: sample quality for every
generative model (genjax/experiments/sample_eval.py), and for VAE / IWAE ('nll')
  elbo          test ELBO, estimated from the same nll_num_samples draws per example
  iwae_bound    the k-sample bound L_k at the training k
  nll           -log p(x) estimated with nll_num_samples importance samples (5000 in the paper)
  active_units  units with Cov_x(E_q[u|x]) > 0.01, summed over stochastic layers
all on the MNIST test set binarized once with a fixed key (data.on_device.TEST_BINARIZATION_SEED).
"""
import json
import os
import time

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


def uses_inception(workdir=None, dataset=None, eval_overrides=None):
  """Whether an evaluation computes Inception features: a workdir's config.eval.features (after
  the overrides; by default Inception for every dataset but MNIST), or --images of `dataset`."""
  features = (eval_overrides or {}).get('features')
  if features is None and workdir:
    path = os.path.join(workdir, 'config.json')
    if not os.path.exists(path):
      return False  # evaluate() says what is wrong
    with open(path) as f:
      config = json.load(f)
    features = (config.get('eval') or {}).get('features')
    dataset = (config.get('data') or {}).get('name', dataset)
  if features is None:
    return dataset != 'mnist'
  return 'inception' in str(features).split(',')


def cpu_devices(requested, inception):
  """How many CPU devices an evaluation starts with (call before JAX's backends start).

  Inception features on a CPU run faster split over one-thread devices, one per core, than on
  XLA's one multi-threaded device (results/benchmarks/inception_cpu.json, 2-core AMD EPYC: 1.19x
  against 0.85x the TorchScript reference's images/s; the features equal one device's,
  tests/metrics/test_inception.py). `requested` (--cpu_devices) None: that layout when the
  evaluation computes Inception features and XLA_FLAGS sets no device count, else XLA's default
  (1). Other work (sampling, an NLL) then runs on one device of one thread. Only the CPU backend
  reads these settings; on a GPU or TPU the features split over its devices anyway."""
  from genjax import distributed, parallel
  preset = distributed.requested_cpu_devices()  # XLA_FLAGS' or jax_num_cpu_devices' count
  if requested is not None:
    if requested < 1:
      raise ConfigError(f'--cpu_devices={requested} must be at least 1 (1: XLA\'s one '
                        'multi-threaded CPU device).')
    if preset > 1 and preset != requested:
      raise ConfigError(f'--cpu_devices={requested} contradicts the {preset} CPU devices that '
                        'XLA_FLAGS\' --xla_force_host_platform_device_count asks for: give one.')
    count = requested
  elif preset > 1 or not inception:
    return preset
  else:
    count = parallel.cpu_cores()
  parallel.use_cpu_devices(count)
  return count


def _experiment_and_manager(workdir, source_dir=None, load_train=False, eval_overrides=None):
  config = load_run_config(workdir)
  if source_dir:
    config.data.source_dir = source_dir
  if eval_overrides:
    if 'eval' not in config:
      config.eval = config_dict.ConfigDict()
    config.eval.update({k: v for k, v in eval_overrides.items() if v is not None})
  if not os.path.isdir(os.path.join(workdir, 'checkpoints')):
    raise CheckpointError(f'{workdir} holds no checkpoint to evaluate (no checkpoints/ folder): '
                          'train into it first, or give the workdir of a run that saved one.')
  mngr = checkpoints.manager(workdir, create=False)  # evaluation leaves the workdir's layout as is
  if mngr.latest_step() is None:
    raise CheckpointError(f'{workdir}/checkpoints holds no checkpoint to evaluate.')
  experiment = experiments.for_config(config, load_train=load_train)
  return experiment, mngr


def restore_run(workdir, source_dir=None, load_train=False):
  """(experiment, state at the latest checkpoint) of a workdir."""
  experiment, mngr = _experiment_and_manager(workdir, source_dir, load_train)
  return experiment, checkpoints.restore_latest(mngr, experiment.init_state())


def _write_json(path, result):
  with open(path + '.tmp', 'w') as f:
    json.dump(result, f, indent=2)
  os.replace(path + '.tmp', path)


def _eval_config(experiment, nll_num_samples):
  """What decides an evaluation's numbers besides the checkpoint: kept with each result, so a
  rerun with other settings evaluates again instead of reusing the old file."""
  e = experiment.config.get('eval') or config_dict.ConfigDict()
  settings = {k: v for k, v in e.to_dict().items() if k != 'cache_dir'}
  if nll_num_samples:
    settings['nll_num_samples'] = nll_num_samples
  return settings


def _evaluate_state(experiment, state, nll_num_samples, workdir):
  kwargs = {'nll_num_samples': nll_num_samples} if nll_num_samples else {}
  result = {'step': checkpoints.step_of(state), **experiment.evaluate(state, **kwargs),
            'eval_config': _eval_config(experiment, nll_num_samples)}
  logging.info('eval at step %d: %s', result['step'],
               ', '.join(f'{k}={v:.4g}' for k, v in result.items() if isinstance(v, float)))
  _write_tensorboard(workdir, result)
  return result


def _write_tensorboard(workdir, result):
  """The result's numbers as TensorBoard scalars 'eval/NAME' in WORKDIR/eval/ (skipped, with
  metric_logging's one warning, where clu's writers cannot load: eval.json has them all)."""
  from genjax.metric_logging import clu_metric_writers
  metric_writers = clu_metric_writers()
  if metric_writers is None:
    return
  def numbers(row, prefix):
    return {f'{prefix}eval/{k}': v for k, v in row.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ('step', 'seed')}

  scalars = numbers(result, '')
  for row in result.get('seeds', []):  # a run of several seeds: seed_S/eval/NAME
    scalars.update(numbers(row, f'seed_{row["seed"]}/'))
  writer = metric_writers.create_default_writer(os.path.join(workdir, 'eval'), asynchronous=False)
  writer.write_scalars(result['step'], scalars)
  writer.flush()
  writer.close()


def step_eval_path(workdir, step, evals_dir=None):
  return os.path.join(evals_dir or os.path.join(workdir, 'evals'), f'step_{step:08d}.json')


def evaluate(workdir, nll_num_samples=None, source_dir=None, eval_overrides=None):
  """The latest checkpoint -> WORKDIR/eval.json (and WORKDIR/evals/step_N.json)."""
  experiment, mngr = _experiment_and_manager(workdir, source_dir, eval_overrides=eval_overrides)
  state = checkpoints.restore_latest(mngr, experiment.init_state())
  result = _evaluate_state(experiment, state, nll_num_samples, workdir)
  os.makedirs(os.path.join(workdir, 'evals'), exist_ok=True)
  _write_json(step_eval_path(workdir, result['step']), result)
  _write_json(os.path.join(workdir, 'eval.json'), result)
  return result


def _has_eval(workdir, step, eval_config, evals_dir=None):
  """Whether evals/step_N.json holds a result made with these settings (unreadable: no)."""
  try:
    with open(step_eval_path(workdir, step, evals_dir)) as f:
      saved = json.load(f)
  except (OSError, ValueError):
    return False
  return json.loads(json.dumps(saved.get('eval_config'))) == json.loads(json.dumps(eval_config))


def evaluate_all(workdir, nll_num_samples=None, source_dir=None, eval_overrides=None,
                 unready=None, evals_dir=None):
  """Every checkpoint not yet evaluated -> WORKDIR/evals/step_N.json, oldest first; eval.json
  follows the newest. Safe beside a training run still writing checkpoints (orbax shows only
  finished ones), and a rerun resumes where it stopped: steps whose file holds a result with the
  same eval settings are skipped. Returns the steps evaluated now.

  `unready`, a dict, makes a checkpoint that cannot be restored yet (one a running training is
  still finishing) a retry for the next call instead of an error: it counts the failures per step.

  `evals_dir` (a directory) takes the step_N.json files instead of WORKDIR/evals, and eval.json is
  left alone: a curve over training at other settings than the run's own evaluation (fewer
  samples, say) then overwrites neither.
  """
  built = _experiment_and_manager(workdir, source_dir, eval_overrides=eval_overrides)
  return _evaluate_pending(workdir, *built, nll_num_samples, unready, evals_dir)


def _evaluate_pending(workdir, experiment, mngr, nll_num_samples, unready, evals_dir=None):
  """evaluate_all with the experiment already built (watch() builds it once instead of
  reloading the data and recompiling at every poll)."""
  os.makedirs(evals_dir or os.path.join(workdir, 'evals'), exist_ok=True)
  eval_config = _eval_config(experiment, nll_num_samples)
  done = []
  mngr.reload()  # checkpoints a running training wrote since the manager was made
  steps = sorted(mngr.all_steps())
  for step in steps:
    if _has_eval(workdir, step, eval_config, evals_dir):
      continue
    try:
      state = checkpoints.restore_step(mngr, experiment.init_state(), step)
    except CheckpointError:
      mngr.reload()
      if step not in mngr.all_steps():
        logging.warning('Checkpoint %d was removed by the training (keep_checkpoints) before it '
                        'could be evaluated; skipped.', step)
        continue
      if unready is None or unready.get(step, 0) >= WATCH_RETRIES:
        raise
      unready[step] = unready.get(step, 0) + 1
      logging.info('Checkpoint %d is not readable yet (being written?); retrying later.', step)
      continue
    result = _evaluate_state(experiment, state, nll_num_samples, workdir)
    _write_json(step_eval_path(workdir, step, evals_dir), result)
    done.append(step)
  evaluated = [s for s in steps if os.path.exists(step_eval_path(workdir, s))]
  # The newest checkpoint seen above, not one a running training added since.
  if evaluated and not evals_dir:
    with open(step_eval_path(workdir, evaluated[-1])) as f:
      _write_json(os.path.join(workdir, 'eval.json'), json.load(f))
  return done


# How many polls a checkpoint may stay unreadable before watch() calls it damaged.
WATCH_RETRIES = 3


def watch(workdir, nll_num_samples=None, source_dir=None, eval_overrides=None, poll_seconds=60,
          timeout_seconds=None):
  """evaluate_all every poll_seconds, beside a running training, until the run's last step
  (config.train.num_steps) is evaluated. Returns the steps evaluated; raises CheckpointError
  when timeout_seconds pass first (rerun to go on: nothing evaluated is lost)."""
  last = int(load_run_config(workdir).train.num_steps)
  start, evaluated, unready, built = time.monotonic(), [], {}, None
  while True:
    if built is None and checkpoints.manager(workdir, create=False).latest_step() is not None:
      built = _experiment_and_manager(workdir, source_dir, eval_overrides=eval_overrides)
    if built is not None:  # a fresh manager: a long-lived one keeps a half-written step's state
      evaluated += _evaluate_pending(workdir, built[0], checkpoints.manager(workdir, create=False),
                                     nll_num_samples, unready)
      if os.path.exists(step_eval_path(workdir, last)):
        return evaluated
    if timeout_seconds is not None and time.monotonic() - start + poll_seconds > timeout_seconds:
      raise CheckpointError(f'{workdir}: step {last} was not checkpointed within '
                            f'{timeout_seconds} s (evaluated so far: {evaluated}). Rerun to go '
                            'on watching.')
    time.sleep(poll_seconds)


def load_images(path, channels=1):
  """An .npz (key 'images', else its only array) or .npy of [N, H, W(, C)] uint8 or [0, 1]
  floats, or a directory of PNG files -> float32 [N, H, W, channels] in [0, 1]."""
  import numpy as np
  if not os.path.exists(path):
    raise DataError(f'--images={path} does not exist.')
  if os.path.isdir(path):
    from PIL import Image
    names = sorted(n for n in os.listdir(path) if n.lower().endswith('.png'))
    if not names:
      raise DataError(f'{path} holds no .png files.')
    mode = 'L' if channels == 1 else 'RGB'
    images = np.stack([np.asarray(Image.open(os.path.join(path, n)).convert(mode))
                       for n in names])
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
  if not np.issubdtype(images.dtype, np.number):
    raise DataError(f'{path}: images of dtype {images.dtype}; give uint8 or float pixels.')
  if np.issubdtype(images.dtype, np.floating) and not np.all(np.isfinite(images)):
    bad = np.argwhere(~np.isfinite(images.reshape(len(images), -1)).all(axis=1)).ravel()
    raise DataError(f'{path}: {len(bad)} image(s) hold NaN or Inf pixels (the first: index '
                    f'{int(bad[0])}); the input is bad, not the scoring. Fix or drop them.')
  if images.ndim == 3:
    images = images[..., None]
  if images.ndim != 4 or images.shape[-1] != channels:
    raise DataError(f'{path}: images of shape {images.shape}; expected [N, H, W, {channels}] '
                    f'(or [N, H, W] for grey levels) for this dataset.')
  if images.dtype == np.uint8:
    images = images.astype(np.float32) / 255.0
  elif images.min() < 0 or images.max() > 1:
    raise DataError(f'{path}: float images must lie in [0, 1] (found [{images.min():.3g}, '
                    f'{images.max():.3g}]); map tanh outputs with (x + 1) / 2.')
  return images.astype(np.float32)


def evaluate_images(path, source_dir=None, out=None, kid_subset_size=1000, kid_subsets=100,
                    dataset='mnist', eval_overrides=None):
  """Scores images from outside genjax against a dataset's real images, like torch-fidelity's
  CLI: every image given against the test split (config.eval fields in eval_overrides: features,
  protocol, inception_weights, ...). MNIST defaults to the MNIST classifier's feature space."""
  import numpy as np

  from genjax.experiments import sample_eval
  if dataset not in sample_eval.DEFAULT_FEATURES:
    raise ConfigError(f'--dataset={dataset}: choose one of {sorted(sample_eval.DEFAULT_FEATURES)}.')
  images = load_images(path, channels=1 if dataset == 'mnist' else 3)
  config = config_dict.ConfigDict({
      'data': {'name': dataset, 'source_dir': source_dir, 'tfds_data_dir': None},
      'eval': {'metrics': ','.join(sample_eval.SAMPLE_METRICS), 'num_samples': len(images),
               'kid_subset_size': kid_subset_size, 'kid_subsets': kid_subsets}})
  config.eval.update({k: v for k, v in (eval_overrides or {}).items() if v is not None})
  if config.eval.num_samples > len(images):
    raise ConfigError(f'eval.num_samples={config.eval.num_samples}: {path} holds only '
                      f'{len(images)} images.')
  settings = sample_eval.settings(config)
  if 'mnist_classifier' in settings.features and images.shape[1:3] != (28, 28):
    raise DataError(f'{path}: {images.shape[1:3]} images; the MNIST classifier needs 28x28.')
  batch = sample_eval.GENERATION_BATCH
  result = {'images': path, **sample_eval.evaluate_samples(
      config, settings, lambda i, size: np.asarray(images[i * batch:i * batch + size]))}
  if out:
    _write_json(out, result)
  return result
