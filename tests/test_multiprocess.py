"""Multi-process training on localhost (jax.distributed, gloo collectives on CPU) through the real
launcher: 2 processes of 2 fake devices give the numbers of 1 process on 4 devices bit for bit
(an IWAE and a GAN with BatchNorm) and of 1 process on 1 device within float tolerance; one
process writes the logs; 4 and 8 devices run the whole loop (train, evaluate, checkpoint) without
the all-reduce deadlock; a kill -9 of one process stops the other with one clear error in
seconds, and rerunning resumes to the uninterrupted run's numbers."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # every test launches training processes

TIMING = ('time', 'per_sec', '/s', 'eta', 'seconds')
IWAE = ['--config=configs/iwae_mnist.py:smoke', '--config.train.num_steps=40',
        '--config.train.log_every=10', '--config.train.checkpoint_every=20',
        '--config.train.eval_every=40', '--config.eval.metrics=nll',
        '--config.eval.nll_num_samples=20', '--config.eval.nll_chunk=20',
        '--config.eval.nll_test_examples=40', '--nofigures']
DCGAN = ['--config=configs/dcgan_mnist.py:smoke', '--config.train.num_steps=8',
         '--config.train.batch_size=16', '--config.train.log_every=2',
         '--config.train.checkpoint_every=4', '--config.train.eval_every=8', '--nofigures']


def free_port():
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def start(args, workdir, devices, mnist_dir, tfds_dir, process=None):
  cmd = [sys.executable, os.path.join(REPO, 'launch', 'train.py'), *args, f'--workdir={workdir}',
         f'--config.data.source_dir={mnist_dir}', f'--config.data.tfds_data_dir={tfds_dir}']
  if process is not None:
    cmd += [f'--coordinator_address=127.0.0.1:{process[2]}', f'--num_processes={process[1]}',
            f'--process_id={process[0]}']
  env = dict(os.environ, XLA_FLAGS=f'--xla_force_host_platform_device_count={devices}')
  return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)


def finish(procs, timeout=600):
  outs = []
  for p in procs:
    out, _ = p.communicate(timeout=timeout)
    outs.append(out)
  for p, out in zip(procs, outs):
    assert p.returncode == 0, out[-3000:]
  return outs


def one_process(args, workdir, devices, mnist_dir, tfds_dir):
  finish([start(args, workdir, devices, mnist_dir, tfds_dir)])


def two_processes(args, workdir, mnist_dir, tfds_dir):
  port = free_port()
  return finish([start(args, workdir, 2, mnist_dir, tfds_dir, (i, 2, port)) for i in (0, 1)])


def rows(workdir):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [{k: v for k, v in json.loads(l).items() if not any(w in k for w in TIMING)}
            for l in f if l.strip()]


def eval_numbers(workdir):
  with open(os.path.join(workdir, 'eval.json')) as f:
    result = json.load(f)
  return {k: v for k, v in result.items()
          if isinstance(v, float) and not any(w in k for w in TIMING)}


@pytest.fixture(scope='module')
def iwae_runs(tmp_path_factory, mnist_dir, tfds_dir, mnist_arrays):
  del mnist_arrays
  root = tmp_path_factory.mktemp('iwae')
  runs = {k: str(root / k) for k in ('one_device', 'four_devices', 'two_processes')}
  args = IWAE + ['--evaluate']
  one_process(args, runs['one_device'], 1, mnist_dir, tfds_dir)
  one_process(args, runs['four_devices'], 4, mnist_dir, tfds_dir)
  runs['outputs'] = two_processes(args, runs['two_processes'], mnist_dir, tfds_dir)
  return runs


def test_two_processes_equal_one_process_on_four_devices(iwae_runs):
  two, four = rows(iwae_runs['two_processes']), rows(iwae_runs['four_devices'])
  assert [r['step'] for r in two] == [10, 20, 30, 40, 40]  # one writer: no row twice
  # gloo all-reduces, one Eigen thread per device and one XLA thread-pool size in both
  # (distributed.same_arithmetic_on_cpu_devices): bit for bit (measured on a 2-core AMD EPYC).
  # Without the pool size, 2 of 200 columns of a matrix product differ from the first step on.
  assert [r.keys() for r in two] == [r.keys() for r in four]
  for a, b in zip(two, four):
    for k, v in b.items():
      assert a[k] == v, (a['step'], k)
  evals = eval_numbers(iwae_runs['two_processes']), eval_numbers(iwae_runs['four_devices'])
  assert evals[0] and evals[0] == evals[1]
  # process 1 wrote nothing of its own and said where process 0 evaluates
  assert 'process 1 of 2' in iwae_runs['outputs'][1]
  names = set(os.listdir(iwae_runs['two_processes']))
  assert {'config.json', 'metrics.jsonl', 'eval.json', 'checkpoints', 'hardware.json'} <= names


def test_one_device_gives_the_same_numbers_within_float_tolerance(iwae_runs):
  """One device sums the batch's gradient in another order than four devices' all-reduce: the
  same run up to rounding, which 40 steps amplify to well under a relative 1e-3."""
  one, four = rows(iwae_runs['one_device']), rows(iwae_runs['four_devices'])
  assert [r['step'] for r in one] == [r['step'] for r in four]
  assert one != four  # not the same program: the comparison below is not of a run with itself
  for a, b in zip(one, four):
    for k, v in b.items():
      assert a[k] == pytest.approx(v, rel=1e-3), (a['step'], k)


def test_a_gan_with_batchnorm_on_two_processes_equals_four_devices(tmp_path, mnist_dir,
                                                                     tfds_dir, mnist_arrays):
  del mnist_arrays
  four, two = str(tmp_path / 'four'), str(tmp_path / 'two')
  one_process(DCGAN, four, 4, mnist_dir, tfds_dir)
  two_processes(DCGAN, two, mnist_dir, tfds_dir)
  logged, reference = rows(two), rows(four)
  assert [r['step'] for r in logged if 'g_loss' in r] == [2, 4, 6, 8]
  assert [r['step'] for r in logged] == [r['step'] for r in reference]
  for a, b in zip(logged, reference):  # BatchNorm's statistics included
    assert a.keys() == b.keys()
    for k, v in b.items():
      assert a[k] == v, (a['step'], k)


def test_eight_devices_run_the_whole_loop(tmp_path, mnist_dir, tfds_dir, mnist_arrays):
  """More devices than cores: each step is waited for before the next is dispatched, so the
  devices' all-reduce threads cannot starve one another (it aborted after 40 s before)."""
  del mnist_arrays
  workdir = str(tmp_path)
  args = [a for a in IWAE if not a.startswith('--config.train.num_steps')]
  one_process(args + ['--config.train.num_steps=20', '--config.train.batch_size=80',
                      '--evaluate'], workdir, 8, mnist_dir, tfds_dir)
  with open(os.path.join(workdir, 'hardware.json')) as f:
    assert json.load(f)[-1]['device_count'] == 8
  assert '20' in os.listdir(os.path.join(workdir, 'checkpoints'))
  assert eval_numbers(workdir)['nll'] > 0


def test_a_killed_process_stops_the_other_and_a_rerun_resumes(tmp_path, mnist_dir, tfds_dir,
                                                             iwae_runs):
  workdir = str(tmp_path)
  long = [a for a in IWAE if not a.startswith('--config.train.num_steps')]
  long.append('--config.train.num_steps=100000')
  port = free_port()
  procs = [start(long, workdir, 2, mnist_dir, tfds_dir, (i, 2, port)) for i in (0, 1)]
  checkpoint = os.path.join(workdir, 'checkpoints', '20')
  deadline = time.monotonic() + 300
  while not os.path.isdir(checkpoint) and time.monotonic() < deadline:
    assert procs[0].poll() is None, procs[0].communicate()[0][-2000:]
    time.sleep(0.5)
  assert os.path.isdir(checkpoint)
  procs[1].send_signal(signal.SIGKILL)
  killed = time.monotonic()
  out, _ = procs[0].communicate(timeout=120)
  took = time.monotonic() - killed
  procs[1].wait()
  assert procs[0].returncode == 2, out[-2000:]
  errors = [l for l in out.splitlines() if l.startswith('error: ')]
  # in a collective: the closed connection, at once; elsewhere (a checkpoint's barrier): the
  # runtime's abort after the 30 s heartbeat, turned into one line by the supervising launcher
  assert len(errors) == 1 and 'another process' in errors[0], out[-2000:]
  assert 'Rerun all' in errors[0]
  assert 'Traceback' not in out and 'Fatal Python error' not in out
  assert took < 90, took
  # the same command with the original budget resumes and ends where the uninterrupted run did
  two_processes(IWAE, workdir, mnist_dir, tfds_dir)
  train_rows = lambda w: [r for r in rows(w) if 'loss' in r]
  assert train_rows(workdir) == train_rows(iwae_runs['two_processes'])


def test_an_incomplete_set_of_flags_is_one_error_line(tmp_path, mnist_dir):
  result = subprocess.run(
      [sys.executable, os.path.join(REPO, 'launch', 'train.py'), *IWAE,
       f'--workdir={tmp_path}', f'--config.data.source_dir={mnist_dir}',
       '--num_processes=2', '--process_id=0'], capture_output=True, text=True, timeout=120)
  assert result.returncode == 2
  assert result.stderr.strip().splitlines()[-1].startswith('error: a multi-process run needs all')
  assert 'Traceback' not in result.stderr


def test_evaluate_in_a_multi_process_job_writes_once(tmp_path, iwae_runs, mnist_dir):
  """The same evaluate command on every process: process 0 evaluates and writes, the others
  leave at once."""
  import shutil
  workdir = str(tmp_path / 'run')
  shutil.copytree(iwae_runs['two_processes'], workdir,
                  ignore=shutil.ignore_patterns('eval.json', 'evals', 'eval'))
  port = free_port()
  cmd = lambda i: [sys.executable, os.path.join(REPO, 'launch', 'evaluate.py'),
                   f'--workdir={workdir}', f'--source_dir={mnist_dir}',
                   f'--coordinator_address=127.0.0.1:{port}', '--num_processes=2',
                   f'--process_id={i}']
  procs = [subprocess.Popen(cmd(i), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
           for i in (0, 1)]
  outs = finish(procs)
  assert "process 1: the evaluation is process 0's" in outs[1]
  assert eval_numbers(workdir) == eval_numbers(iwae_runs['two_processes'])
