"""What a tough user meets: damaged checkpoints, a second writer, a stale data copy, impossible
values, bad files and workdirs. Each is detected, refused with one line, or survived, and a refused
start writes nothing."""
import errno
import glob
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from genjax.fault_injection import flip_middle, largest_file
from tests.conftest import REPO
from tests.test_adversarial_train import smoke_config

CONFIGS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(REPO, 'configs', '*.py'))
                 if os.path.basename(p) not in ('adversarial_common.py', 'sample_eval.py'))


# ---- impossible values: refused before any work ------------------------------------------------

def test_the_fast_checks_name_what_the_modules_implement():
  from genjax import configs_check as cc
  from genjax.experiments import ADVERSARIAL_METHODS, adversarial
  from genjax.methods import adversarial as adversarial_method
  from genjax.methods import iwae
  from genjax.models import iwae_mlp, layers
  assert cc.LIKELIHOOD_OBJECTIVES == iwae.OBJECTIVES
  assert cc.LIKELIHOOD_OPTIMIZERS == iwae.OPTIMIZERS
  assert cc.LIKELIHOOD_ARCHITECTURES == tuple(sorted(iwae_mlp.ARCHITECTURES))
  assert cc.ADVERSARIAL_METHODS == ADVERSARIAL_METHODS
  assert cc.ADVERSARIAL_DATASETS == tuple(sorted(adversarial.IMAGE_SHAPES))
  assert cc.CONV_IMPLS == layers.CONV_IMPLS
  assert cc.ADVERSARIAL_OPTIMIZERS == adversarial.ADVERSARIAL_OPTIMIZERS
  assert cc.ADVERSARIAL_TRAIN_SIZES == adversarial.NUM_TRAIN
  assert cc.ADVERSARIAL_AUGMENTS == adversarial_method.AUGMENTS
  assert cc.INFO_AUGMENTS == adversarial_method.INFO_AUGMENTS


@pytest.mark.parametrize('name', CONFIGS)
@pytest.mark.parametrize('variant', ['', 'smoke'])
def test_every_shipped_config_passes_validation(name, variant):
  from genjax.configs_check import validate_config
  if variant and name == 'classifier_mnist':
    variant = 'smoke'
  config = smoke_config(name, None, None) if variant else _config(name)
  validate_config(config)


def _config(name, variant=''):
  import importlib.util
  spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, 'configs', name + '.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(variant)


@pytest.mark.parametrize('name,field,value', [
    ('iwae_mnist', 'optim.learning_rate', -1e-3),
    ('iwae_mnist', 'optim.learning_rate', 0.0),
    ('iwae_mnist', 'optim.momentum', 1.0),
    ('iwae_mnist', 'optim.b2', -0.1),
    ('iwae_mnist', 'method.k', 0),
    ('dcgan_mnist', 'optim.g.learning_rate', 0.0),
    ('dcgan_mnist', 'optim.d.learning_rate', -2e-4),
    ('dcgan_mnist', 'optim.g.b1', 1.0),
    ('dcgan_mnist', 'method.ema_decay', 1.0),
    ('dcgan_mnist', 'method.ema_decay', -0.5),
    ('wgan_mnist', 'method.clip', 0.0),
    ('wgan_mnist', 'method.clip', -0.01),
    ('wgan_mnist', 'method.n_critic', 0),
    ('wgan_gp_mnist', 'method.gp_lambda', -10.0),
    ('infogan_mnist', 'method.lambda_cont', -0.1),
    ('infogan_mnist', 'method.num_categories', 0),
    ('gan_mnist', 'model.z_dim', 0),
    ('classifier_mnist', 'optim.learning_rate', -1.0),
    ('dcgan_mnist', 'optim.g.name', 'adagrad'),
    ('dcgan_mnist', 'data.train_size', 0),
    ('dcgan_mnist', 'data.train_size', 60001),
    ('dcgan_mnist', 'data.train_size', 100),  # < one batch of 128
    ('wgan_gp_mnist', 'data.train_size', 300),  # < 5 critic batches of 64
    ('dcgan_mnist', 'data.augment', 'flip'),
])
def test_impossible_values_are_one_config_error_naming_the_field(name, field, value):
  from genjax.configs_check import validate_config
  from genjax.errors import ConfigError
  config = _config(name)
  section, key = field.rsplit('.', 1)
  target = config
  for part in section.split('.'):
    target = target[part]
  target[key] = value
  with pytest.raises(ConfigError, match=field.replace('.', r'\.') + '=') as info:
    validate_config(config)
  assert '\n' not in str(info.value)


def test_wgan_gp_refuses_a_batchnorm_critic():
  from genjax.configs_check import validate_config
  from genjax.errors import ConfigError
  config = _config('wgan_gp_mnist')
  config.model.discriminator_norm = 'batch'
  with pytest.raises(ConfigError, match='BatchNorm'):
    validate_config(config)


# ---- the launcher: one line, exit status 2, in seconds, nothing written ------------------------

def _launch(*args, timeout=120):
  t0 = time.monotonic()
  result = subprocess.run([sys.executable, os.path.join(REPO, 'launch', 'train.py'), *args],
                          capture_output=True, text=True, timeout=timeout)
  return result, time.monotonic() - t0


def _one_error_line(result):
  assert result.returncode == 2, result.stderr[-2000:]
  errors = [l for l in result.stderr.splitlines() if l.startswith('error: ')]
  assert len(errors) == 1 and 'Traceback' not in result.stderr, result.stderr[-2000:]
  return errors[0]


@pytest.mark.parametrize('case', ['negative_lr', 'unknown_config', 'workdir_is_file',
                                  'broken_config'])
def test_launcher_refuses_at_once_with_one_line(case, tmp_path):
  workdir = tmp_path / 'run'
  config = os.path.join(REPO, 'configs', 'iwae_mnist.py:smoke')
  args = [f'--config={config}', f'--workdir={workdir}']
  if case == 'negative_lr':
    args.append('--config.optim.learning_rate=-0.001')
    needle = 'optim.learning_rate=-0.001'
  elif case == 'unknown_config':
    args[0] = '--config=configs/no_such_config.py'
    needle = 'no such config file'
  elif case == 'broken_config':
    (tmp_path / 'broken.py').write_text('def get_config(:\n')
    args[0] = f'--config={tmp_path / "broken.py"}'
    needle = 'SyntaxError'
  else:
    workdir.write_text('')
    args[1] = f'--workdir={workdir}'
    needle = 'is a file'
  result, seconds = _launch(*args)
  assert needle in _one_error_line(result)
  assert seconds < 10, f'refused after {seconds:.1f} s'
  assert case == 'workdir_is_file' or not workdir.exists()


@pytest.mark.parametrize('override, needle', [
    ('--config.data.source_dir=/x', '--config.data.*: evaluation takes only --config.eval.*'),
    ('--config.eval.metricz=fid', 'did you mean "metrics"')])
def test_evaluate_refuses_an_override_it_does_not_take_in_one_line(override, needle, tmp_path):
  result = subprocess.run([sys.executable, os.path.join(REPO, 'launch', 'evaluate.py'),
                           f'--workdir={tmp_path}', override], capture_output=True, text=True,
                          timeout=120)
  assert needle in _one_error_line(result)
  assert os.listdir(tmp_path) == []


def test_evals_dir_without_all_checkpoints_is_one_line(tmp_path):
  result = subprocess.run([sys.executable, os.path.join(REPO, 'launch', 'evaluate.py'),
                           f'--workdir={tmp_path}', f'--evals_dir={tmp_path}/curve'],
                          capture_output=True, text=True, timeout=120)
  assert '--evals_dir goes with --all_checkpoints' in _one_error_line(result)
  assert os.listdir(tmp_path) == []


def test_read_only_workdir_is_one_line(tmp_path):
  if os.geteuid() == 0:
    pytest.skip('root writes anywhere: a read-only directory cannot be made')  # pragma: no cover
  workdir = tmp_path / 'ro'
  workdir.mkdir()
  workdir.chmod(0o500)
  result, _ = _launch('--config=' + os.path.join(REPO, 'configs', 'iwae_mnist.py:smoke'),
                      f'--workdir={workdir}')
  assert 'not writable' in _one_error_line(result)


def test_workdir_checks_without_a_launcher(tmp_path):
  from genjax import workdir
  from genjax.errors import WorkdirError
  (tmp_path / 'f').write_text('')
  with pytest.raises(WorkdirError, match='is a file'):
    workdir.check_usable(str(tmp_path / 'f'))
  with pytest.raises(WorkdirError, match='is a file'):
    workdir.check_usable(str(tmp_path / 'f' / 'below'))
  workdir.check_usable(str(tmp_path / 'new' / 'deeper'))  # created when needed
  assert not (tmp_path / 'new').exists()


# ---- one writer per workdir ---------------------------------------------------------------------

_HOLDER = textwrap.dedent('''
    import sys, time
    from genjax import workdir
    with workdir.exclusive(sys.argv[1]):
      print('held', flush=True)
      time.sleep(600)
''')


def test_a_second_writer_is_refused_naming_the_holder_and_a_killed_one_does_not_block(tmp_path):
  from genjax import workdir
  from genjax.errors import WorkdirError
  path = str(tmp_path / 'w')
  holder = subprocess.Popen([sys.executable, '-c', _HOLDER, path], stdout=subprocess.PIPE,
                            text=True, cwd=REPO)
  try:
    assert holder.stdout.readline().strip() == 'held'
    with pytest.raises(WorkdirError, match=f'in use by process {holder.pid} '):
      with workdir.exclusive(path):
        pass
  finally:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
  assert os.path.exists(os.path.join(path, workdir.LOCK_NAME))  # left behind by kill -9 ...
  with workdir.exclusive(path):  # ... and no obstacle
    with workdir.exclusive(path):  # re-entrant within its process (launch/train.py, train.py)
      pass
    other = subprocess.run([sys.executable, '-c', _HOLDER, path], capture_output=True, text=True,
                           cwd=REPO, timeout=120)
    assert other.returncode != 0 and f'in use by process {os.getpid()} ' in other.stderr


def test_a_refused_start_removes_the_workdir_it_created(tmp_path):
  from genjax import workdir
  from genjax.errors import DataError
  path = tmp_path / 'fresh'
  with pytest.raises(DataError):
    with workdir.exclusive(str(path)):
      (path / 'checkpoints').mkdir()
      raise DataError('refused')
  assert not path.exists()
  path.mkdir()
  (path / 'config.json').write_text('{}')
  with pytest.raises(DataError):
    with workdir.exclusive(str(path)):
      raise DataError('refused')
  assert (path / 'config.json').exists()  # a workdir that was there is never removed


# ---- checkpoints: damage is detected, the newest intact one is used ----------------------------

@pytest.fixture(scope='module')
def iwae_run(tmp_path_factory, mnist_dir, tfds_dir, mnist_arrays):
  """A 6-step IWAE smoke run with checkpoints at steps 2, 4 and 6."""
  from genjax.train import train_and_evaluate
  del mnist_arrays
  workdir = str(tmp_path_factory.mktemp('iwae_run'))
  config = smoke_config('iwae_mnist', mnist_dir, tfds_dir, num_steps=6, log_every=2,
                        checkpoint_every=2, eval_every=6)
  train_and_evaluate(config, workdir)
  return config, workdir


def _copy(run, tmp_path, name='copy'):
  target = str(tmp_path / name)
  shutil.copytree(run[1], target)
  return target


def _restore(workdir, config, **kwargs):
  from genjax import checkpoints, experiments
  experiment = experiments.for_config(config, load_train=False)
  return checkpoints.restore_latest(checkpoints.manager(workdir, create=False),
                                    experiment.init_state(), **kwargs)


@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_an_intact_checkpoint_restores_with_its_digest(iwae_run):
  config, workdir = iwae_run
  with open(os.path.join(workdir, 'checkpoints', '6', '_CHECKPOINT_METADATA')) as f:
    assert len(json.load(f)['custom_metadata']['genjax_sha256']) == 64
  assert int(_restore(workdir, config).step) == 6


@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_flipped_bytes_fall_back_to_the_previous_checkpoint_with_a_warning(iwae_run, tmp_path,
                                                                         caplog):
  config, _ = iwae_run
  workdir = _copy(iwae_run, tmp_path)
  flip_middle(largest_file(os.path.join(workdir, 'checkpoints', '6')))
  with caplog.at_level(logging.WARNING):
    state = _restore(workdir, config)
  assert int(state.step) == 4
  assert any('checkpoints/6 is damaged' in r.getMessage() for r in caplog.records)
  assert os.path.isdir(os.path.join(workdir, 'checkpoints', '6'))  # evaluation moves nothing


@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_evaluation_never_scores_a_damaged_checkpoint(iwae_run, tmp_path):
  from genjax import evaluate
  workdir = _copy(iwae_run, tmp_path)
  flip_middle(largest_file(os.path.join(workdir, 'checkpoints', '6')))
  result = evaluate.evaluate(workdir, nll_num_samples=5, eval_overrides={
      'metrics': 'nll', 'nll_test_examples': 100})
  assert result['step'] == 4 and np.isfinite(result['nll'])


@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_no_intact_checkpoint_is_one_error_and_the_config_is_not_rewritten(iwae_run, tmp_path):
  from genjax.errors import CheckpointError
  from genjax.train import train_and_evaluate
  config, _ = iwae_run
  workdir = _copy(iwae_run, tmp_path)
  for step in (2, 4, 6):
    flip_middle(largest_file(os.path.join(workdir, 'checkpoints', str(step))))
  before = open(os.path.join(workdir, 'config.json')).read()
  longer = smoke_config('iwae_mnist', config.data.source_dir, config.data.tfds_data_dir,
                        num_steps=8, log_every=2, checkpoint_every=2, eval_every=6)
  with pytest.raises(CheckpointError, match='No intact checkpoint') as info:
    train_and_evaluate(longer, workdir)
  assert '\n' not in str(info.value)
  assert open(os.path.join(workdir, 'config.json')).read() == before
  assert sorted(os.listdir(os.path.join(workdir, 'checkpoints'))) == ['2', '4', '6']


@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_resume_past_a_damaged_checkpoint_quarantines_it_and_repeats_the_straight_run(
    iwae_run, tmp_path):
  """_METADATA deleted from the newest checkpoint: training falls back to step 4, moves step 6
  aside, trains 4 -> 6 again, and ends where the undamaged run ended."""
  from genjax.train import train_and_evaluate
  config, straight = iwae_run
  workdir = _copy(iwae_run, tmp_path)
  os.remove(os.path.join(workdir, 'checkpoints', '6', 'default', '_METADATA'))
  train_and_evaluate(config, workdir)
  assert os.path.isdir(os.path.join(workdir, 'damaged_checkpoints', '6'))
  strip = lambda rows: [{k: v for k, v in r.items() if 'sec' not in k} for r in rows]
  read = lambda d: strip(json.loads(l) for l in open(os.path.join(d, 'metrics.jsonl')))
  assert read(workdir) == read(straight)
  a, b = _restore(workdir, config), _restore(straight, config)
  from genjax.checkpoints import _payload, digest
  assert digest(_payload(a)) == digest(_payload(b))


@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_a_checkpoint_without_digest_is_checked_for_non_finite_values(iwae_run, tmp_path):
  import jax
  import orbax.checkpoint as ocp
  from genjax import checkpoints, experiments
  from genjax.errors import CheckpointError
  config, _ = iwae_run
  experiment = experiments.for_config(config, load_train=False)
  state = experiment.init_state()
  payload = checkpoints._payload(state)
  payload['params'] = jax.tree_util.tree_map(lambda x: x * np.nan, payload['params'])
  mngr = checkpoints.manager(str(tmp_path))
  mngr.save(1, args=ocp.args.StandardSave(payload))  # as genjax saved before the digest
  mngr.wait_until_finished()
  with pytest.raises(CheckpointError, match='non-finite values'):
    checkpoints.restore_step(mngr, state, 1)


@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_a_full_disk_stops_at_the_failed_write_naming_the_last_checkpoint(iwae_run, tmp_path,
                                                                           monkeypatch):
  from genjax import checkpoints
  from genjax.errors import WorkdirError
  from genjax.train import train_and_evaluate
  config, _ = iwae_run
  workdir = _copy(iwae_run, tmp_path)
  longer = smoke_config('iwae_mnist', config.data.source_dir, config.data.tfds_data_dir,
                        num_steps=10, log_every=2, checkpoint_every=2, eval_every=6)

  def full(mngr, state):
    raise OSError(errno.ENOSPC, 'No space left on device')
  monkeypatch.setattr(checkpoints, 'save', full)
  with pytest.raises(WorkdirError, match='failed at step 8 .No space left on device.; training '
                     'stopped and the last intact checkpoint is step 6'):
    train_and_evaluate(longer, workdir)


@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_resumed_tensorboard_holds_each_step_once(iwae_run, tmp_path):
  """Steps logged after the last checkpoint (a kill) are logged again on resume: TensorBoard keeps
  the first copy only up to the checkpoint, like metrics.jsonl."""
  import tensorflow as tf
  from tensorboard.compat.proto import event_pb2
  from genjax.train import train_and_evaluate
  config, _ = iwae_run
  workdir = _copy(iwae_run, tmp_path)
  shutil.rmtree(os.path.join(workdir, 'checkpoints', '6'))  # as if killed after logging step 6
  train_and_evaluate(config, workdir)
  steps = []
  for path in glob.glob(os.path.join(workdir, 'events.out.tfevents.*')):
    for record in tf.data.TFRecordDataset(path):
      event = event_pb2.Event.FromString(record.numpy())
      steps += [(event.step, v.tag) for v in event.summary.value if v.tag == 'loss']
  assert sorted(steps) == [(2, 'loss'), (4, 'loss'), (6, 'loss')]
  assert len(glob.glob(os.path.join(workdir, 'events.out.tfevents.*'))) == 2


# ---- data: the named source is the source used ---------------------------------------------------

@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_a_prepared_copy_does_not_stand_in_for_an_empty_source_dir(tmp_path, tfds_dir,
                                                                   mnist_arrays):
  from genjax.data import load_split
  from genjax.errors import DataError
  del mnist_arrays  # the TFDS copy is prepared
  (tmp_path / 'empty').mkdir()
  with pytest.raises(DataError, match='missing from') as info:
    load_split('mnist', 'test', str(tmp_path / 'empty'), tfds_dir)
  assert 'source_dir=DIR' not in str(info.value)  # the user did pass it


@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_a_prepared_copy_does_not_stand_in_for_a_truncated_source(tmp_path, mnist_dir, tfds_dir,
                                                                  mnist_arrays):
  from genjax.data import load_split
  from genjax.errors import DataError
  del mnist_arrays
  source = tmp_path / 'mnist'
  shutil.copytree(mnist_dir, source)
  for p in source.iterdir():
    p.chmod(0o644)
  victim = next(source.glob('t10k-images*'))
  with open(victim, 'r+b') as f:
    f.truncate(os.path.getsize(victim) // 2)
  with pytest.raises(DataError, match='t10k-images.*differ from those the prepared TFDS copy'):
    load_split('mnist', 'test', str(source), tfds_dir)


# ---- evaluation inputs ---------------------------------------------------------------------------

def test_images_with_nan_pixels_are_blamed_on_the_input(tmp_path):
  from genjax import evaluate
  from genjax.errors import DataError
  images = np.full((4, 28, 28), 0.5, np.float32)
  images[2, 3, 3] = np.nan
  np.save(tmp_path / 'x.npy', images)
  with pytest.raises(DataError, match='1 image.*NaN or Inf.*index 2'):
    evaluate.load_images(str(tmp_path / 'x.npy'))


@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_evaluating_a_workdir_without_checkpoints_creates_nothing(iwae_run, tmp_path):
  from genjax import evaluate
  from genjax.errors import CheckpointError
  workdir = tmp_path / 'nock'
  workdir.mkdir()
  shutil.copy(os.path.join(iwae_run[1], 'config.json'), workdir)
  with pytest.raises(CheckpointError, match='no checkpoint'):
    evaluate.evaluate(str(workdir))
  assert os.listdir(workdir) == ['config.json']


@pytest.mark.slow  # trains a smoke run
def test_evaluate_flags_through_the_command_line(iwae_run, tmp_path):
  """launch/evaluate.py's --config.eval.* overrides and --all_checkpoints, as a user types them."""
  workdir = _copy(iwae_run, tmp_path)
  result = subprocess.run(
      [sys.executable, os.path.join(REPO, 'launch', 'evaluate.py'), f'--workdir={workdir}',
       '--all_checkpoints', '--config.eval.metrics=nll', '--config.eval.nll_num_samples=7',
       '--config.eval.nll_test_examples=50'], capture_output=True, text=True, timeout=900)
  assert result.returncode == 0, result.stderr[-2000:]
  assert sorted(os.listdir(os.path.join(workdir, 'evals'))) == [
      f'step_{s:08d}.json' for s in (2, 4, 6)]
  with open(os.path.join(workdir, 'eval.json')) as f:
    e = json.load(f)
  assert (e['step'], e['nll_num_samples'], e['num_test_examples']) == (6, 7, 50)
  assert 'fid_mnist_classifier' not in e and np.isfinite(e['nll'])


@pytest.mark.slow  # trains through launch/train.py
@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='prctl is Linux-only')
def test_a_training_whose_launcher_is_killed_stops_and_frees_the_workdir(tmp_path):
  """`f() { python launch/train.py ...; }; f & kill -9 $!` kills the shell, not python: the
  training gets SIGHUP from PR_SET_PDEATHSIG and stops, so the rerun may take the workdir."""
  from genjax import workdir
  path = str(tmp_path / 'w')
  # SIGHUP at its default, as in a terminal: a suite run under nohup would pass SIG_IGN down
  holder = ('import signal, sys, time\n'
            'signal.signal(signal.SIGHUP, signal.SIG_DFL)\n'
            'from genjax import workdir\n'
            'workdir.stop_with_parent()\n'
            'with workdir.exclusive(sys.argv[1]):\n'
            '  print("held", flush=True)\n'
            '  time.sleep(600)\n')
  shell = subprocess.Popen(
      ['bash', '-c', 'f() { "$@"; }; f "$0" -c "$1" "$2" & echo $!; wait', sys.executable,
       holder, path], stdout=subprocess.PIPE, text=True, cwd=REPO)
  subshell = int(shell.stdout.readline())
  assert shell.stdout.readline().strip() == 'held'
  os.kill(subshell, signal.SIGKILL)  # what `kill -9 $!` kills: the subshell, python's parent
  shell.wait()
  deadline = time.monotonic() + 30
  while True:
    try:
      with workdir.exclusive(path):
        break
    except Exception:  # noqa: BLE001 -- still held: the orphan has not stopped yet
      assert time.monotonic() < deadline, 'the orphaned training kept the workdir'
      time.sleep(0.5)


def test_default_workdir_is_named_after_the_config_and_its_variant(tmp_path):
  from genjax import workdir
  assert workdir.default_workdir('configs/wgan_cifar.py', cwd=str(tmp_path)) == str(
      tmp_path / 'runs' / 'wgan_cifar')
  assert workdir.default_workdir('/x/y/configs/iwae_mnist.py:smoke', cwd='/w') == (
      '/w/runs/iwae_mnist_smoke')
  assert workdir.default_workdir('configs/a.py:b/c d', cwd='/w') == '/w/runs/a_b_c_d'


def test_multi_process_flags_are_all_or_none():
  from genjax import distributed
  from genjax.errors import ConfigError
  assert not distributed.requested(False, None, None, None)
  assert distributed.requested(True, None, None, None)
  assert distributed.requested(False, '127.0.0.1:1234', 2, 1)
  for bad, words in [(('h:1', 2, None), 'needs all three'), ((None, 2, 0), 'needs all three'),
                     (('h:1', 2, 2), 'must lie in'), (('h:1', 2, -1), 'must lie in'),
                     (('host', 2, 0), 'HOST:PORT')]:
    with pytest.raises(ConfigError, match=words):
      distributed.requested(False, *bad)


def test_a_stops_unlogged_window_comes_back_exactly(tmp_path):
  """The metrics a stop saves (stop_window.json) come back as the same float64 values, one seed
  (scalars) or a SeedStack's ([S] vectors), and only for the checkpoint they were saved with."""
  import jax.numpy as jnp
  from genjax import train
  rng = np.random.default_rng(0)
  for seeds, shape in ((None, ()), ((0, 1, 2), (3,))):
    window = [(s, {'loss': jnp.asarray(rng.normal(size=shape), jnp.float32),
                   'acc': jnp.asarray(rng.uniform(size=shape), jnp.float32)})
              for s in (101, 102, 103)]
    train._save_pending(str(tmp_path), 103, window)
    back = train._load_pending(str(tmp_path), 103, seeds)
    steps, names, values = train._host_window(window)
    assert [s for s, _ in back] == steps
    np.testing.assert_array_equal(train._host_window(back)[2], values)
    assert values.dtype == np.float64 and values[0, 0, 0] == float(window[0][1]['acc'].ravel()[0])
    assert train._load_pending(str(tmp_path), 100, seeds) == []  # another checkpoint's
