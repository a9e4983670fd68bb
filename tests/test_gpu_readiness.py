"""results/gpu/readiness.py, the script a lent GPU measures speed, MFU and bfloat16 with, run here
on the CPU at a tiny scale: its JSON's fields, MFU null for a chip without a known peak, FLOPs equal
to what genjax.train.record_cost writes for the same compiled step, and its arithmetic."""
import importlib.util
import json
import os
import subprocess
import sys
import tarfile

import pytest

from tests.conftest import REPO

SCRIPT = os.path.join(REPO, 'results', 'gpu', 'readiness.py')


def _module():
  spec = importlib.util.spec_from_file_location('readiness', SCRIPT)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _run(out, cifar_dir, *flags, timeout=600):
  result = subprocess.run([sys.executable, SCRIPT, f'--cifar_dir={cifar_dir}', f'--out={out}',
                           *flags], capture_output=True, text=True, timeout=timeout, cwd=REPO)
  assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
  assert 'Traceback' not in result.stdout + result.stderr, result.stderr[-3000:]
  with open(out / 'readiness.json') as f:
    report = json.load(f)
  assert (out / 'readiness.md').read_text().startswith(
      f"# Accelerator readiness: {report['hardware']['device_kind']}")
  return report


TINY = ('--variant=smoke', '--batch_size=8', '--steps=6', '--warmup=2', '--window=3',
        '--step_only_steps=2')


def _check_runs(report, config):
  hw = report['hardware']
  assert hw['platform'] == 'cpu' and hw['jax_version'] and hw['devices_used'] == 1
  assert hw['peak_name'] is None and 'not in the peak table' in hw['peak_source']
  assert [(r['name'], r['compute_dtype']) for r in report['runs']] == [
      (config, 'float32'), (config, 'bfloat16')]
  for r in report['runs']:
    assert r['steps_run'] == 6 and r['timed_steps'] == 4 and not r['truncated']
    assert r['steps_per_sec'] > 0 and r['step_only_steps_per_sec'] > 0
    assert r['flops_per_step'] > 0 and r['achieved_flops_per_sec'] > 0
    assert r['mfu'] is None and r['mfu_step_only'] is None  # a CPU: no peak, no MFU
    assert r['param_dtypes'] == ['float32'] and r['finite'] and r['final_window'] == 3
    assert r['batch_size'] == 8
  (comparison,) = report['comparisons']
  f32, bf16 = report['runs']
  assert comparison['speedup'] == pytest.approx(bf16['steps_per_sec'] / f32['steps_per_sec'])
  assert set(comparison['metrics']) == set(f32['final_metrics'])
  assert report['complete']
  return f32, bf16, comparison


def _record_cost_flops(config_name, cifar_dir, dtype, tmp_path, train_split='train'):
  """FLOPs/step as a training run's cost.json holds them: genjax.train.record_cost on the train
  step compiled as genjax/train.py compiles it."""
  import jax

  from genjax.data import raw
  from genjax.experiments.adversarial import AdversarialExperiment
  from genjax.train import record_cost
  from tests.test_adversarial_train import smoke_config
  config = smoke_config(config_name, cifar_dir, None, batch_size=8, compute_dtype=dtype)
  test = raw.read_cifar10(cifar_dir, 'test')
  train = test if train_split == 'test' else raw.read_cifar10(cifar_dir, 'train')
  experiment = AdversarialExperiment(config, splits={'train': train, 'test': test})
  state = experiment.init_state()
  compiled = jax.jit(experiment.train_step, donate_argnums=0).lower(
      state, experiment.batch(0), experiment.keys['train']).compile()
  workdir = tmp_path / f'cost_{dtype}'
  workdir.mkdir()
  record_cost(str(workdir), compiled)
  with open(workdir / 'cost.json') as f:
    return json.load(f)['flops_per_step']


@pytest.mark.slow  # compiles the DCGAN CIFAR step three times (~2 min on a busy 2-core CPU)
def test_dcgan_on_cpu_reports_speed_cost_and_close_losses(tmp_path, cifar_dir):
  out = tmp_path / 'out'
  report = _run(out, cifar_dir, '--configs=dcgan_cifar', *TINY)
  f32, bf16, comparison = _check_runs(report, 'dcgan_cifar')
  assert report['data']['train_split'] == 'train'
  assert sorted(f32['final_metrics']) == ['d_fake', 'd_loss', 'd_real', 'g_loss']
  # float32's flops are checked the same way in the WGAN case below
  assert bf16['flops_per_step'] == pytest.approx(
      _record_cost_flops('dcgan_cifar', cifar_dir, 'bfloat16', tmp_path), rel=1e-9)
  # 6 steps of the same seed: the losses stay within the script's tolerance
  assert comparison['all_close'], comparison['metrics']
  text = (out / 'readiness.md').read_text()
  assert '| dcgan_cifar | bfloat16 | 8 |' in text and 'not in the peak table' in text


@pytest.mark.slow  # compiles the WGAN CIFAR step (5 critic updates) three times
def test_wgan_from_the_test_batch_alone(tmp_path, cifar_dir):
  """What a lent GPU gets: only CIFAR-10's test batch (the archive is too large to carry)."""
  folder = tmp_path / 'cifar' / 'cifar-10-batches-bin'
  folder.mkdir(parents=True)
  with tarfile.open(os.path.join(cifar_dir, 'cifar-10-binary.tar.gz')) as tar:
    data = tar.extractfile('cifar-10-batches-bin/test_batch.bin').read()
  (folder / 'test_batch.bin').write_bytes(data)  # as results/gpu/README.md has it carried
  report = _run(tmp_path / 'out', tmp_path / 'cifar', '--configs=wgan_cifar',
                '--train_split=test', *TINY)
  f32, _, _ = _check_runs(report, 'wgan_cifar')
  assert report['data']['train_split'] == 'test' and f32['n_critic'] == 5
  assert f32['flops_per_step'] == pytest.approx(
      _record_cost_flops('wgan_cifar', str(tmp_path / 'cifar'), 'float32', tmp_path, 'test'),
      rel=1e-9)


def test_budget_and_bad_dtype_write_what_they_have(tmp_path, cifar_dir):
  """A spent budget measures nothing and says so; an impossible dtype is one error line in the
  report, not a traceback; both leave JSON and markdown behind."""
  report = _run(tmp_path / 'a', cifar_dir, '--configs=dcgan_cifar,wgan_cifar', '--budget_s=0',
                '--train_split=test')
  assert [r.get('skipped') for r in report['runs']] == ['budget of 0 s spent'] * 4
  assert not report['complete'] and report['comparisons'] == []
  report = _run(tmp_path / 'b', cifar_dir, '--configs=dcgan_cifar', '--dtypes=float16',
                '--train_split=test')
  (run,) = report['runs']
  assert run['error'].startswith("ConfigError: train.compute_dtype='float16'")
  assert not report['complete']


def test_peaks_and_mfu():
  readiness = _module()
  assert readiness.peak_for('cpu') is None
  assert readiness.mfu(1e12, 'cpu', 'bfloat16') is None
  name, peaks, _ = readiness.peak_for('NVIDIA H200')
  assert name == 'NVIDIA H200 SXM' and peaks['bfloat16'] == 989.5e12
  assert readiness.peak_for('NVIDIA H200 NVL')[0] == 'NVIDIA H200 NVL'
  assert readiness.peak_for('NVIDIA H100 80GB HBM3')[0] == 'NVIDIA H100 SXM'
  assert readiness.peak_for('NVIDIA H100 PCIe')[0] == 'NVIDIA H100 PCIe'
  assert readiness.peak_for('TPU v5 lite')[0] == 'TPU v5e'
  assert readiness.peak_for('TPU v5')[0] == 'TPU v5p'
  assert readiness.peak_for('TPU v4')[0] == 'TPU v4'
  # 2 GFLOP per step at 100 steps/s on an H200 in bfloat16: 2e11 / 989.5e12
  assert readiness.mfu(2e9 * 100, 'NVIDIA H200', 'bfloat16') == pytest.approx(2e11 / 989.5e12)
  # float32 on an NVIDIA GPU is set against the TF32 tensor-core peak (JAX's default precision)
  assert readiness.mfu(4.945e12, 'NVIDIA H200', 'float32') == pytest.approx(0.01)


def test_compare_arithmetic():
  readiness = _module()
  base = {'compute_dtype': 'float32', 'steps_per_sec': 10.0, 'step_only_steps_per_sec': 20.0,
          'steps_run': 200, 'final_metrics': {'d_loss': 1.0, 'wasserstein_estimate': 0.01,
                                              'g_loss': 2.0}}
  other = {'compute_dtype': 'bfloat16', 'steps_per_sec': 25.0, 'step_only_steps_per_sec': 50.0,
           'steps_run': 200, 'final_metrics': {'d_loss': 1.05, 'wasserstein_estimate': 0.03,
                                               'g_loss': 2.5}}
  c = readiness.compare(base, other, rtol=0.1, atol=0.05)
  assert c['speedup'] == 2.5 and c['speedup_step_only'] == 2.5
  assert c['metrics']['d_loss']['rel_diff'] == pytest.approx(0.05)
  assert c['metrics']['d_loss']['close']
  # 0.02 apart near 0: 200% relative, yet within atol
  assert c['metrics']['wasserstein_estimate']['rel_diff'] == pytest.approx(2.0)
  assert c['metrics']['wasserstein_estimate']['close']
  assert not c['metrics']['g_loss']['close']  # 25% and 0.5 apart
  assert not c['all_close']
