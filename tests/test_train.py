"""End to end through the real launchers on real MNIST: train, evaluate, resume after SIGKILL,
determinism, and one clear error for each kind of bad input."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # every test here trains through launch/train.py or reads its run

TIMING = ('time', 'per_sec', '/s', 'eta')
SMOKE = ['--config.train.num_steps=300', '--config.train.checkpoint_every=100',
         '--config.train.log_every=50', '--config.train.eval_every=150']


def launch(script, *args, env=None, wait=True):
  cmd = [sys.executable, os.path.join(REPO, 'launch', script), *args]
  full_env = dict(os.environ, **(env or {}))
  if not wait:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=full_env)
  return subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=600)


def train(workdir, mnist_dir, tfds_dir, *extra, wait=True):
  return launch('train.py', '--config=' + os.path.join(REPO, 'configs', 'iwae_mnist.py:smoke'),
                f'--workdir={workdir}', f'--config.data.source_dir={mnist_dir}',
                f'--config.data.tfds_data_dir={tfds_dir}', *SMOKE, *extra, wait=wait)


def rows(workdir):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [{k: v for k, v in json.loads(l).items() if not any(w in k for w in TIMING)}
            for l in f if l.strip()]


def final_params(workdir):
  from genjax.evaluate import restore_run
  return restore_run(workdir)[1].params


@pytest.fixture(scope='module')
def straight_run(tmp_path_factory, mnist_dir, tfds_dir, mnist_arrays):
  del mnist_arrays  # prepares the TFDS copy first
  workdir = str(tmp_path_factory.mktemp('straight'))
  result = train(workdir, mnist_dir, tfds_dir)
  assert result.returncode == 0, result.stdout + result.stderr
  return workdir


def test_train_writes_logs_checkpoints_and_grids(straight_run):
  logged = rows(straight_run)
  assert [r['step'] for r in logged if 'loss' in r] == list(range(50, 301, 50))
  assert [r['step'] for r in logged if 'test/iwae_bound' in r] == [150, 300]
  assert logged[-1]['test/iwae_bound'] > logged[0]['iwae_bound']  # it learned
  assert sorted(os.listdir(os.path.join(straight_run, 'checkpoints')))[-1] == '300'
  assert os.path.exists(os.path.join(straight_run, 'samples', 'step_00000300.png'))
  assert any(f.startswith('events.out.tfevents') for f in os.listdir(straight_run))


def start_until_first_checkpoint(workdir, mnist_dir, tfds_dir):
  """The smoke run started in the background, returned once its step-100 checkpoint exists."""
  proc = train(workdir, mnist_dir, tfds_dir, wait=False)
  first = os.path.join(workdir, 'checkpoints', '100')
  deadline = time.time() + 300
  while not os.path.isdir(first) and proc.poll() is None and time.time() < deadline:
    time.sleep(0.02)
  return proc


def test_resume_after_sigkill_equals_straight_run(straight_run, tmp_path, mnist_dir, tfds_dir):
  workdir = str(tmp_path / 'killed')
  proc = start_until_first_checkpoint(workdir, mnist_dir, tfds_dir)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert proc.returncode == -signal.SIGKILL, 'the run ended before it could be killed'
  assert not os.path.isdir(os.path.join(workdir, 'checkpoints', '300'))
  resumed = train(workdir, mnist_dir, tfds_dir)
  assert resumed.returncode == 0, resumed.stderr
  assert rows(workdir) == rows(straight_run)
  a, b = final_params(workdir), final_params(straight_run)
  for x, y in zip(jax_leaves(a), jax_leaves(b)):
    np.testing.assert_array_equal(x, y)


def test_sigterm_saves_the_step_reached_and_resume_equals_straight_run(straight_run, tmp_path,
                                                                       mnist_dir, tfds_dir):
  """A SIGTERM (a scheduler, a sweep stopping) mid-run: the step running finishes, a checkpoint is
  saved at it (not only at the last scheduled one), one `stopped:` line says where, the exit
  status is 128 + 15; rerunning resumes there and ends with the straight run's parameters and
  metrics rows, bit for bit."""
  workdir = str(tmp_path / 'stopped')
  proc = start_until_first_checkpoint(workdir, mnist_dir, tfds_dir)
  time.sleep(0.3)  # a few steps past the scheduled checkpoint
  proc.send_signal(signal.SIGTERM)
  out = proc.communicate(timeout=120)[0].decode()
  assert proc.returncode == 128 + signal.SIGTERM, out[-2000:]
  stopped = [line for line in out.splitlines() if line.startswith('stopped: ')]
  assert len(stopped) == 1 and 'Traceback' not in out, out[-2000:]
  step = int(stopped[0].split('SIGTERM at step ')[1].split()[0])
  assert 100 < step < 300
  saved = sorted(int(s) for s in os.listdir(os.path.join(workdir, 'checkpoints')) if s.isdigit())
  assert saved[-1] == step, saved  # the step reached, not the last scheduled one (100 or 200)
  if step % 50:  # the steps since the last logged row wait for the resume, not logged in part
    assert os.path.exists(os.path.join(workdir, 'stop_window.json'))
    assert [r['step'] for r in rows(workdir) if 'loss' in r][-1] == step - step % 50
  resumed = train(workdir, mnist_dir, tfds_dir)
  assert resumed.returncode == 0, resumed.stderr
  assert f'Resuming from the checkpoint at step {step}' in resumed.stderr
  assert rows(workdir) == rows(straight_run)  # every row, the one across the stop included
  assert not os.path.exists(os.path.join(workdir, 'stop_window.json'))
  a, b = final_params(workdir), final_params(straight_run)
  for x, y in zip(jax_leaves(a), jax_leaves(b)):
    np.testing.assert_array_equal(x, y)


def jax_leaves(tree):
  import jax
  return [np.asarray(x) for x in jax.tree.leaves(tree)]


def test_same_seed_same_numbers_other_seed_other_numbers(straight_run, tmp_path, mnist_dir,
                                                         tfds_dir):
  again = train(str(tmp_path / 'again'), mnist_dir, tfds_dir, '--config.train.num_steps=100')
  other = train(str(tmp_path / 'other'), mnist_dir, tfds_dir, '--config.train.num_steps=100',
                '--config.seed=1')
  assert again.returncode == 0 and other.returncode == 0
  first_rows = [r for r in rows(straight_run) if r['step'] <= 100 and 'loss' in r]
  assert [r for r in rows(str(tmp_path / 'again')) if 'loss' in r] == first_rows
  assert [r for r in rows(str(tmp_path / 'other')) if 'loss' in r] != first_rows


def test_evaluate_writes_consistent_likelihoods(straight_run):
  result = launch('evaluate.py', f'--workdir={straight_run}', '--nll_num_samples=200')
  assert result.returncode == 0, result.stderr
  with open(os.path.join(straight_run, 'eval.json')) as f:
    e = json.load(f)
  assert e['step'] == 300 and e['nll_num_samples'] == 200 and e['iwae_bound_num_samples'] == 5
  # log p(x) >= L_5 >= ELBO in expectation; the NLL estimate uses 200 samples
  assert 0 < e['nll'] < -e['iwae_bound'] < -e['elbo']
  assert 0 < e['active_units'] <= 50


def test_config_typo_is_one_clear_error(tmp_path, mnist_dir, tfds_dir):
  result = train(str(tmp_path / 'typo'), mnist_dir, tfds_dir, '--config.train.num_stepz=3')
  assert result.returncode == 2
  assert 'num_stepz' in result.stderr and 'Traceback' not in result.stderr


def test_missing_data_dir_is_one_clear_error(tmp_path, tfds_dir):
  result = train(str(tmp_path / 'nodata'), str(tmp_path / 'nowhere'), str(tmp_path / 'tfds'))
  assert result.returncode == 2
  assert 'nowhere' in result.stderr and 'Traceback' not in result.stderr


def test_changed_config_in_old_workdir_is_refused(straight_run, mnist_dir, tfds_dir):
  result = train(straight_run, mnist_dir, tfds_dir, '--config.method.k=7')
  assert result.returncode == 2
  assert 'method.k' in result.stderr and 'Traceback' not in result.stderr


def test_nan_stops_with_the_step_and_keeps_the_last_checkpoint(tmp_path, mnist_dir, tfds_dir):
  workdir = str(tmp_path / 'nan')
  result = train(workdir, mnist_dir, tfds_dir, '--config.optim.learning_rate=1e6',
                 '--config.optim.schedule=constant', '--config.train.log_every=1',
                 '--config.train.checkpoint_every=1', '--config.train.num_steps=300')
  assert result.returncode == 2, result.stderr[-2000:]
  assert 'Traceback' not in result.stderr
  message = [l for l in result.stderr.splitlines() if l.startswith('error:')][0]
  bad_step = int(message.split(' at step ')[1].split(';')[0])
  assert 'last good checkpoint' in message or 'no checkpoint' in message
  saved = sorted(int(s) for s in os.listdir(os.path.join(workdir, 'checkpoints')) if s.isdigit())
  assert all(s < bad_step for s in saved)
  if saved:
    params = final_params(workdir)
    assert all(np.all(np.isfinite(x)) for x in jax_leaves(params))


def test_damaged_checkpoints_are_one_clear_error(straight_run, tmp_path):
  """Every checkpoint truncated: nothing to fall back to (tests/test_hardening.py: the fallback)."""
  import shutil
  workdir = str(tmp_path / 'damaged')
  shutil.copytree(straight_run, workdir)
  if os.path.exists(os.path.join(workdir, 'eval.json')):  # an earlier test evaluated the run
    os.remove(os.path.join(workdir, 'eval.json'))
  for step in ('100', '200', '300'):
    step_dir = os.path.join(workdir, 'checkpoints', step)
    for root, _, files in os.walk(step_dir):
      for name in files:
        if not name.startswith('_'):  # leave orbax's markers, damage the array data
          with open(os.path.join(root, name), 'r+b') as f:
            f.truncate(max(0, os.path.getsize(f.name) // 3))
  result = launch('evaluate.py', f'--workdir={workdir}', '--nll_num_samples=10')
  assert result.returncode == 2, result.stderr[-2000:]
  errors = [l for l in result.stderr.splitlines() if l.startswith('error: ')]
  assert len(errors) == 1 and 'No intact checkpoint' in errors[0], result.stderr[-2000:]
  assert 'step 300:' in errors[0] and 'Traceback' not in result.stderr
  assert not os.path.exists(os.path.join(workdir, 'eval.json'))


def test_without_workdir_the_run_goes_to_runs_name_under_the_current_directory(
    tmp_path, mnist_dir, tfds_dir, mnist_arrays):
  """The design's command as written, from another directory: launch/train.py without --workdir
  trains into ./runs/NAME (printed), and launch/evaluate.py --run_config finds it there."""
  del mnist_arrays
  config = os.path.join(REPO, 'configs', 'iwae_mnist.py') + ':smoke'
  common = [f'--config.data.source_dir={mnist_dir}', f'--config.data.tfds_data_dir={tfds_dir}']
  trained = subprocess.run(
      [sys.executable, os.path.join(REPO, 'launch', 'train.py'), f'--config={config}', *common,
       '--config.train.num_steps=4', '--config.train.checkpoint_every=4',
       '--config.train.eval_every=4', '--config.train.log_every=2', '--nofigures'],
      cwd=tmp_path, capture_output=True, text=True, timeout=600)
  assert trained.returncode == 0, trained.stderr[-2000:]
  expected = os.path.join(str(tmp_path), 'runs', 'iwae_mnist_smoke')
  assert f'workdir: {expected}' in trained.stdout
  assert os.path.isfile(os.path.join(expected, 'config.json'))
  assert [r['step'] for r in rows(expected) if 'loss' in r] == [2, 4]
  evaluated = subprocess.run(
      [sys.executable, os.path.join(REPO, 'launch', 'evaluate.py'), f'--run_config={config}',
       '--config.eval.metrics=nll', '--nll_num_samples=10'],
      cwd=tmp_path, capture_output=True, text=True, timeout=600)
  assert evaluated.returncode == 0, evaluated.stderr[-2000:]
  with open(os.path.join(expected, 'eval.json')) as f:
    assert json.load(f)['step'] == 4
