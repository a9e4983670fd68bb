"""The evaluation job (genjax/evaluate.py, genjax/experiments/sample_eval.py) on real data: eval
settings from the command line, the train-split protocol against an independent computation,
TensorBoard scalars, Inception features inside the job, VAE/IWAE sample metrics, watching a
running training, and one clear error for each bad setting."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from scipy import linalg

from genjax import evaluate
from genjax.errors import CheckpointError, ConfigError
from genjax.experiments import sample_eval
from genjax.train import train_and_evaluate
from tests.conftest import REPO
from tests.test_adversarial_train import smoke_config


@pytest.fixture(scope='module')
def gan_run(tmp_path_factory, mnist_dir, tfds_dir, mnist_arrays):
  """A 4-step smoke GAN with checkpoints at steps 2 and 4 (each test copies what it changes)."""
  del mnist_arrays
  workdir = str(tmp_path_factory.mktemp('gan_run'))
  train_and_evaluate(smoke_config('gan_mnist', mnist_dir, tfds_dir), workdir)
  return workdir


def _copy(run, tmp_path):
  import shutil
  target = str(tmp_path / 'run')
  shutil.copytree(run, target)
  return target


@pytest.mark.slow  # trains a smoke run
def test_eval_overrides_choose_metrics_and_rerun_only_on_change(gan_run, tmp_path):
  workdir = _copy(gan_run, tmp_path)
  only_fid = evaluate.evaluate(workdir, eval_overrides={'metrics': 'fid'})
  assert 'fid_mnist_classifier' in only_fid and 'kid_mnist_classifier' not in only_fid
  assert 'classifier_score' not in only_fid and only_fid['eval_config']['metrics'] == 'fid'
  # evals/step_4.json came from other settings: --all_checkpoints with the run's own does both.
  assert evaluate.evaluate_all(workdir) == [2, 4]
  assert evaluate.evaluate_all(workdir) == []
  assert evaluate.evaluate_all(workdir, eval_overrides={'kid_subsets': 5}) == [2, 4]
  with open(os.path.join(workdir, 'eval.json')) as f:
    assert json.load(f)['kid_subsets'] == 5


@pytest.mark.slow  # trains a smoke run
def test_a_curve_in_its_own_evals_dir_leaves_the_runs_evaluation_alone(gan_run, tmp_path):
  """--evals_dir: a curve over training at other settings (here fewer KID subsets) goes to its
  own folder, resumes there, and neither eval.json nor evals/ change."""
  workdir = _copy(gan_run, tmp_path)
  own = evaluate.evaluate(workdir)
  with open(os.path.join(workdir, 'eval.json')) as f:
    before = f.read()
  with open(evaluate.step_eval_path(workdir, own['step'])) as f:
    before_step = f.read()
  curve = str(tmp_path / 'curve')
  fewer_subsets = {'kid_subsets': 5}
  assert evaluate.evaluate_all(workdir, eval_overrides=fewer_subsets, evals_dir=curve) == [2, 4]
  assert evaluate.evaluate_all(workdir, eval_overrides=fewer_subsets, evals_dir=curve) == []
  for step in (2, 4):
    with open(evaluate.step_eval_path(workdir, step, curve)) as f:
      assert json.load(f)['kid_subsets'] == 5
  with open(os.path.join(workdir, 'eval.json')) as f:
    assert f.read() == before
  with open(evaluate.step_eval_path(workdir, own['step'])) as f:
    assert f.read() == before_step


def _fid_by_hand(real_features, fake_features):
  mu1, mu2 = real_features.mean(0), fake_features.mean(0)
  s1, s2 = np.cov(real_features, rowvar=False), np.cov(fake_features, rowvar=False)
  covmean = linalg.sqrtm(s1 @ s2).real
  return float(np.sum((mu1 - mu2)**2) + np.trace(s1 + s2 - 2 * covmean))


@pytest.mark.slow  # trains a smoke run
def test_train_protocol_equals_a_hand_computation_on_the_train_split(gan_run, tmp_path,
                                                                      mnist_arrays):
  from genjax.models import mnist_classifier
  workdir = _copy(gan_run, tmp_path)
  result = evaluate.evaluate(workdir, eval_overrides={'protocol': 'train', 'num_reference': 600,
                                                      'num_samples': 300, 'metrics': 'fid'})
  assert result['reference'] == 'mnist train split, first 600 of 60000 images'
  assert result['num_samples'] == 300 and result['eval_protocol'] == 'train'
  # By hand: the first 600 training digits and the same 300 generated ones through the classifier.
  experiment, state = evaluate.restore_run(workdir)
  fakes = experiment.generated_images(state, 0, 300)  # the job's first (and only) batch
  variables = mnist_classifier.load_mnist_classifier()[1]
  real = mnist_arrays['train'][0][:600].astype(np.float32).reshape(-1, 28, 28, 1) / 255
  features = lambda x: np.asarray(mnist_classifier.classifier_outputs(variables, x)[1], np.float64)
  expected = _fid_by_hand(features(real), features(fakes))
  assert result['fid_mnist_classifier'] == pytest.approx(expected, rel=1e-5)
  test_fid = evaluate.evaluate(workdir, eval_overrides={'num_reference': 600, 'num_samples': 300,
                                                        'metrics': 'fid'})['fid_mnist_classifier']
  assert test_fid != pytest.approx(expected, rel=1e-5)  # the protocol changed the reference


@pytest.mark.slow  # trains a smoke run
def test_scalars_reach_tensorboard(gan_run, tmp_path):
  from tensorflow.python.summary.summary_iterator import summary_iterator
  workdir = _copy(gan_run, tmp_path)
  result = evaluate.evaluate(workdir)
  values = {}
  for name in os.listdir(os.path.join(workdir, 'eval')):
    for event in summary_iterator(os.path.join(workdir, 'eval', name)):
      for v in event.summary.value:
        values[(event.step, v.tag)] = float(np.frombuffer(v.tensor.tensor_content, np.float32)[0]
                                            if v.tensor.tensor_content else v.tensor.float_val[0])
  assert values[(4, 'eval/fid_mnist_classifier')] == pytest.approx(
      result['fid_mnist_classifier'], rel=1e-6)
  assert values[(4, 'eval/classifier_score')] == pytest.approx(result['classifier_score'], rel=1e-6)


@pytest.mark.slow  # trains a smoke run
def test_likelihood_runs_get_sample_metrics_and_can_skip_the_nll(tmp_path, mnist_dir, tfds_dir,
                                                                 mnist_arrays):
  del mnist_arrays
  config = smoke_config('iwae_mnist', mnist_dir, tfds_dir, num_steps=4, log_every=2, eval_every=4,
                        checkpoint_every=2)
  train_and_evaluate(config, str(tmp_path))
  samples_only = evaluate.evaluate(str(tmp_path), eval_overrides={'metrics': 'fid,score'})
  assert 'nll' not in samples_only and np.isfinite(samples_only['fid_mnist_classifier'])
  # 4 training steps make near-identical blobs, not digits (measured: 1.0009): far below the ~9.2
  # that real test digits score at this count (tests/metrics/test_sample_quality_mnist.py)
  assert 1 - 1e-6 <= samples_only['classifier_score'] < 2
  nll_only = evaluate.evaluate(str(tmp_path), nll_num_samples=10,
                               eval_overrides={'metrics': 'nll'})
  assert np.isfinite(nll_only['nll']) and 'fid_mnist_classifier' not in nll_only


@pytest.mark.slow
def test_inception_metrics_inside_the_job_on_cifar(tmp_path, cifar_dir, tfds_dir):
  """The wiring, with random Inception weights (the port's equality is tests/metrics)."""
  from flax import traverse_util

  from genjax.metrics import inception_weights
  workdir = str(tmp_path / 'run')
  train_and_evaluate(smoke_config('wgan_cifar', cifar_dir, tfds_dir, num_steps=2, eval_every=2),
                     workdir)
  small = {'num_samples': 24, 'num_reference': 24, 'kid_subset_size': 10, 'kid_subsets': 3}
  with pytest.raises(CheckpointError, match='convert_inception'):
    evaluate.evaluate(workdir, eval_overrides={**small,
                                               'inception_weights': str(tmp_path / 'none')})
  # Random weights of the right shapes, drawn in numpy: no compile of the module's init.
  rng = np.random.default_rng(0)
  flat = {}
  for name, shape in inception_weights.expected_shapes(with_logits=True).items():
    leaf = name.rsplit('/', 1)[1]
    fan_in = int(np.prod(shape[:-1])) if leaf == 'kernel' else 1
    flat[tuple(name.split('/'))] = (
        np.ones(shape, np.float32) if leaf in ('var', 'scale') else
        rng.normal(0, 1 / np.sqrt(fan_in), shape).astype(np.float32) if leaf == 'kernel' else
        np.zeros(shape, np.float32))
  params = traverse_util.unflatten_dict(flat)
  weights = str(tmp_path / 'random_inception.msgpack')
  inception_weights.save_inception_params(weights, params, {'source': 'random init (test)'})
  result = evaluate.evaluate(workdir, eval_overrides={**small, 'inception_weights': weights})
  for key in ('fid', 'kid', 'precision', 'recall', 'density', 'coverage'):
    assert np.isfinite(result[f'{key}_inception']), key
  assert 1 <= result['inception_score'] and result['reference'].startswith('cifar10 test split')
  assert 'mnist_classifier' not in json.dumps(result['feature_networks'])
  # The launcher splits the features over one-thread CPU devices (one per core): same numbers.
  out = subprocess.run(
      [sys.executable, 'launch/evaluate.py', f'--workdir={workdir}', '--cpu_devices=2'] +
      [f'--config.eval.{k}={v}' for k, v in {**small, 'inception_weights': weights}.items()],
      cwd=REPO, capture_output=True, text=True, timeout=1200)
  assert out.returncode == 0, out.stderr[-2000:]
  assert 'split over 2 one-thread devices' in out.stdout
  with open(os.path.join(workdir, 'eval.json')) as f:
    launched = json.load(f)
  for key in ('fid', 'kid', 'precision', 'recall', 'density', 'coverage'):
    assert launched[f'{key}_inception'] == pytest.approx(result[f'{key}_inception'], rel=1e-3,
                                                         abs=1e-4), key
  # Outside images (--images --dataset=cifar10): real test images score closer than noise.
  from genjax.data import load_split
  real = load_split('cifar10', 'train', cifar_dir, tfds_dir)[0][:24]
  np.save(tmp_path / 'real.npy', real)
  np.save(tmp_path / 'noise.npy', np.random.default_rng(0).integers(0, 256, real.shape, np.uint8))
  scores = {name: evaluate.evaluate_images(
      str(tmp_path / f'{name}.npy'), cifar_dir, dataset='cifar10', kid_subset_size=10,
      kid_subsets=3, eval_overrides={'inception_weights': weights, 'num_reference': 24})
      for name in ('real', 'noise')}
  assert scores['real']['num_samples'] == 24
  assert scores['real']['kid_inception'] < scores['noise']['kid_inception']


@pytest.mark.parametrize('overrides, needle', [
    ({'metrics': 'fid,bogus'}, "unknown \\['bogus'\\]"),
    ({'metrics': 'nll'}, 'likelihood model'),
    ({'protocol': 'val'}, 'choose test'),
    ({'features': 'resnet'}, 'choose from mnist_classifier,inception'),
    ({'kid_subset_size': 5000, 'num_samples': 1000}, 'kid_subset_size=5000 exceeds'),
    ({'num_samples': 0}, 'num_samples=0 must be positive'),
])
def test_bad_eval_settings_say_what_to_change(overrides, needle):
  config = smoke_config('gan_mnist', 'unused', None)
  config.eval.update(overrides)
  with pytest.raises(ConfigError, match=needle):
    sample_eval.settings(config)


def test_mnist_classifier_features_are_refused_on_cifar():
  config = smoke_config('dcgan_cifar', 'unused', None)
  config.eval.features = 'mnist_classifier'
  with pytest.raises(ConfigError, match='features=inception'):
    sample_eval.settings(config)


def test_runs_saved_before_the_eval_fields_get_the_defaults():
  config = smoke_config('gan_mnist', 'unused', None)
  del config['eval']
  s = sample_eval.settings(config)
  assert s.metrics == sample_eval.SAMPLE_METRICS and s.features == ('mnist_classifier',)
  assert (s.protocol, s.num_samples, s.kid_subset_size) == ('test', 10_000, 1000)
  assert sample_eval.settings(smoke_config('iwae_mnist', 'unused', None),
                              likelihood=True).metrics[0] == 'nll'


@pytest.mark.slow
def test_watch_follows_a_running_training_to_its_last_step(tmp_path, mnist_dir, tfds_dir):
  workdir = str(tmp_path / 'run')
  training = subprocess.Popen(
      [sys.executable, os.path.join(REPO, 'launch', 'train.py'),
       '--config=' + os.path.join(REPO, 'configs', 'gan_mnist.py') + ':smoke',
       f'--workdir={workdir}', f'--config.data.source_dir={mnist_dir}',
       f'--config.data.tfds_data_dir={tfds_dir}', '--config.train.num_steps=8'],
      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
  try:
    while not os.path.exists(os.path.join(workdir, 'config.json')):
      assert training.poll() is None, training.stderr.read()[-2000:]
      time.sleep(0.5)
    evaluated = evaluate.watch(workdir, source_dir=mnist_dir, poll_seconds=1,
                               timeout_seconds=600)
  finally:
    training.wait(timeout=600)
  assert training.returncode == 0
  assert evaluated[-1] == 8 and evaluated == sorted(set(evaluated))
  with open(os.path.join(workdir, 'eval.json')) as f:
    assert json.load(f)['step'] == 8


@pytest.mark.slow  # trains a smoke run
def test_an_unreadable_newest_checkpoint_is_retried_then_reported(gan_run, tmp_path):
  """What watch() meets when a training is still finishing a checkpoint."""
  import shutil
  workdir = _copy(gan_run, tmp_path)
  step_dir = os.path.join(workdir, 'checkpoints', '4')
  for name in os.listdir(step_dir):  # the folder is listed, its contents are not there yet
    path = os.path.join(step_dir, name)
    shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
  unready = {}
  assert evaluate.evaluate_all(workdir, unready=unready) == [2] and unready == {4: 1}
  for _ in range(evaluate.WATCH_RETRIES - 1):
    assert evaluate.evaluate_all(workdir, unready=unready) == []
  with pytest.raises(CheckpointError, match='cannot be read'):
    evaluate.evaluate_all(workdir, unready=unready)
  with pytest.raises(CheckpointError, match='cannot be read'):
    evaluate.evaluate_all(workdir)  # without watch(): at once


def test_changed_eval_settings_do_not_block_resuming(tmp_path):
  from genjax.configs_check import check_resumable, write_config
  config = smoke_config('gan_mnist', 'unused', None)
  write_config(config, str(tmp_path))
  config.eval.update(metrics='fid', num_samples=50)  # how the run is measured, not trained
  check_resumable(config, str(tmp_path))
  config.train.batch_size = 8
  with pytest.raises(CheckpointError, match='train.batch_size'):
    check_resumable(config, str(tmp_path))
