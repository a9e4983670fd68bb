"""results/gpu/device_runs.py --sweeps: the script a lent GPU runs the studies with, run here on
the CPU through the same path (a Python where TensorFlow cannot be imported, as on the GPU image:
MNIST from the IDX files, no TFDS, no TensorBoard), then reported as launch/report.py reports a
sweep launch/sweep.py ran."""
import csv
import os
import subprocess
import sys

import pytest

from genjax import report
from tests import without_tensorflow
from tests.conftest import REPO


@pytest.mark.slow  # trains two smoke runs and scores them
def test_device_script_runs_a_sweep_that_the_report_reads(tmp_path, mnist_dir):
  sweep = tmp_path / 'tiny.py'
  sweep.write_text(
      'from genjax.sweeps import Sweep\n\n'
      'def get_sweep():\n'
      "  return Sweep(config='configs/dcgan_mnist.py:smoke', seeds=(0,),\n"
      "               settings=[{'data.augment': 'none'}, {'data.augment': 'diffaugment'}],\n"
      "               fixed={'data.train_size': 1000},\n"
      "               eval_overrides={'num_samples': 200, 'num_reference': 1000},\n"
      "               metrics=('fid_mnist_classifier', 'classes_covered'))\n")
  runs, out = tmp_path / 'runs', tmp_path / 'out'
  command = [sys.executable, os.path.join(REPO, 'results', 'gpu', 'device_runs.py'),
             f'--sweeps={sweep}', f'--mnist_dir={mnist_dir}', f'--runs_dir={runs}',
             f'--out={out}', '--budget_s=600']
  env = without_tensorflow.env()
  result = subprocess.run(command, capture_output=True, text=True, timeout=1200, cwd=REPO, env=env)
  assert result.returncode == 0, result.stderr[-3000:]
  assert 'Traceback' not in result.stdout + result.stderr, result.stderr[-3000:]
  assert (out / 'runs.tar.gz').exists()
  # genjax degraded by itself: one warning for the whole process, no TensorBoard files
  assert result.stderr.count('TensorBoard files skipped') == 1, result.stderr[-3000:]
  assert not list(runs.rglob('events.out.tfevents*'))
  report.write_report(str(runs / 'tiny'), str(tmp_path / 'report'))
  with open(tmp_path / 'report' / 'results.csv') as f:
    rows = list(csv.DictReader(f))
  assert [r['data.augment'] for r in rows] == ['none', 'diffaugment']
  assert all(r['status'] == 'evaluated' and float(r['fid_mnist_classifier']) > 0 for r in rows)
  assert all(float(r['flops_per_step']) > 0 for r in rows)
  # DiffAugment's T runs inside the step: XLA counts more work for it
  assert float(rows[1]['flops_per_step']) > float(rows[0]['flops_per_step'])
  # a second call finds every run done and trains nothing
  again = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO, env=env)
  assert again.returncode == 0 and 'seed=0:' not in again.stdout, again.stdout[-2000:]
