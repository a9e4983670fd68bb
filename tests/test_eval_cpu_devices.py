"""launch/evaluate.py's CPU layout: one-thread devices, one per core, when the evaluation computes
Inception features (results/benchmarks/inception_cpu.json: faster than XLA's one device), XLA's
default otherwise; --cpu_devices chooses, and a bad value is one error line."""
import json
import os
import subprocess
import sys

import pytest

from genjax import evaluate
from genjax.errors import ConfigError
from tests.conftest import REPO


def _workdir(tmp_path, dataset, features=None):
  config = {'data': {'name': dataset}, 'eval': {'features': features, 'metrics': 'fid'}}
  (tmp_path / 'config.json').write_text(json.dumps(config))
  return str(tmp_path)


@pytest.mark.parametrize('dataset, features, overrides, expected', [
    ('cifar10', None, None, True),  # Inception is CIFAR's default
    ('mnist', None, None, False),  # the MNIST classifier is MNIST's
    ('mnist', 'mnist_classifier', {'features': 'inception'}, True),
    ('mnist', 'mnist_classifier,inception', None, True),
    ('cifar10', 'inception', {'features': 'mnist_classifier'}, False),
])
def test_a_workdir_uses_inception_as_its_config_says(tmp_path, dataset, features, overrides,
                                                     expected):
  workdir = _workdir(tmp_path, dataset, features)
  assert evaluate.uses_inception(workdir, None, overrides) is expected


def test_images_use_inception_for_cifar_only(tmp_path):
  assert evaluate.uses_inception(None, 'cifar10', {}) is True
  assert evaluate.uses_inception(None, 'mnist', {}) is False
  assert evaluate.uses_inception(str(tmp_path / 'missing'), None, {}) is False


def _layout(code, xla_flags=''):
  env = dict(os.environ, XLA_FLAGS=xla_flags, JAX_PLATFORMS='cpu')
  out = subprocess.run([sys.executable, '-c', code], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-2000:]
  return json.loads(out.stdout.strip().splitlines()[-1])


PROBE = ('import json, os; from genjax import evaluate\n'
         'n = evaluate.cpu_devices({requested}, {inception})\n'
         'import jax\n'
         'print(json.dumps([n, jax.local_device_count(), os.environ["XLA_FLAGS"]]))\n')


def test_inception_gets_one_device_per_core_of_one_thread_each():
  cores = len(os.sched_getaffinity(0))
  n, devices, flags = _layout(PROBE.format(requested=None, inception=True))
  assert n == devices == cores
  assert ('--xla_cpu_multi_thread_eigen=false' in flags) == (cores > 1)


def test_other_evaluations_and_explicit_choices_keep_their_layout():
  assert _layout(PROBE.format(requested=None, inception=False))[:2] == [1, 1]
  assert _layout(PROBE.format(requested=1, inception=True))[:2] == [1, 1]
  assert _layout(PROBE.format(requested=3, inception=False))[:2] == [3, 3]
  n, devices, flags = _layout(PROBE.format(requested=None, inception=True),
                              '--xla_force_host_platform_device_count=4')
  assert (n, devices) == (4, 4) and 'multi_thread_eigen' not in flags  # the user's own layout


def test_bad_device_counts_are_config_errors(monkeypatch):
  with pytest.raises(ConfigError, match='at least 1'):
    evaluate.cpu_devices(0, True)
  monkeypatch.setenv('XLA_FLAGS', '--xla_force_host_platform_device_count=4')
  with pytest.raises(ConfigError, match='contradicts'):
    evaluate.cpu_devices(2, True)


def test_the_launcher_says_so_in_one_line(tmp_path):
  workdir = _workdir(tmp_path, 'cifar10')
  out = subprocess.run([sys.executable, 'launch/evaluate.py', f'--workdir={workdir}',
                        '--cpu_devices=0'], cwd=REPO, capture_output=True, text=True, timeout=300)
  assert out.returncode == 2
  assert out.stderr.strip().splitlines()[-1].startswith('error: --cpu_devices=0 must be at least 1')
  assert 'Traceback' not in out.stderr
