"""genjax.results reads workdirs as training wrote them, and results/overview.ipynb runs on the
committed results and reports what the CSV files hold."""
import csv
import json
import os

import numpy as np
import pytest

from genjax import results
from genjax.metric_logging import JsonlLog
from tests.conftest import REPO


def _workdir(tmp_path, rows, eval_result=None):
  (tmp_path / 'config.json').write_text(json.dumps({'seed': 3}))
  log = JsonlLog(str(tmp_path), resume_step=0)  # the writer training uses
  for step, scalars in rows:
    log.write(step, scalars)
  if eval_result is not None:
    (tmp_path / 'eval.json').write_text(json.dumps(eval_result))
  return tmp_path


def test_load_run_reads_what_training_wrote(tmp_path):
  _workdir(tmp_path, [(100, {'loss': 2.0}), (200, {'loss': 1.5, 'test/acc': 0.5}),
                      (300, {'loss': 1.25, 'test/acc': 0.75})], eval_result={'step': 300})
  run = results.load_run(str(tmp_path))
  assert run.config == {'seed': 3} and run.eval == {'step': 300}
  steps, acc = run.curve('test/acc')
  np.testing.assert_array_equal(steps, [200, 300])
  np.testing.assert_array_equal(acc, [0.5, 0.75])
  assert run.curve('loss')[1].tolist() == [2.0, 1.5, 1.25]
  with pytest.raises(results.ResultsError, match=r"no metric 'test/nll'.*'loss', 'test/acc'"):
    run.curve('test/nll')


def test_a_last_line_cut_by_a_kill_is_dropped_but_a_corrupt_line_is_an_error(tmp_path):
  _workdir(tmp_path, [(100, {'loss': 2.0}), (200, {'loss': 1.5})])
  path = tmp_path / 'metrics.jsonl'
  with open(path, 'a') as f:
    f.write('{"step": 300, "lo')  # killed mid-write
  assert [r['step'] for r in results.load_run(str(tmp_path)).metrics] == [100, 200]

  good = path.read_text().split('\n')[:2]
  for bad in ('not json', '[1, 2]', '{"loss": 1.0}'):  # not JSON; JSON but not a row; no step
    path.write_text('\n'.join([bad, good[1]]) + '\n')
    with pytest.raises(results.ResultsError, match=r'metrics.jsonl, line 1, is not a JSON object'):
      results.load_run(str(tmp_path))


def test_clear_errors_for_what_is_not_a_run(tmp_path):
  with pytest.raises(results.ResultsError, match='has no config.json'):
    results.load_run(str(tmp_path))
  (tmp_path / 'config.json').write_text('{"seed": ')
  with pytest.raises(results.ResultsError, match='config.json is not valid JSON'):
    results.load_run(str(tmp_path))
  with pytest.raises(results.ResultsError, match='is not a directory'):
    results.find_runs(str(tmp_path / 'missing'))


def test_find_runs_and_read_table_on_committed_results():
  runs = results.find_runs(str(REPO / 'results' / 'iwae_mnist' / 'runs'))
  assert sorted(r.name for r in runs) == sorted(os.listdir(REPO / 'results' / 'iwae_mnist' / 'runs'))
  table_path = REPO / 'results' / 'iwae_mnist' / 'results.csv'
  rows = results.read_table(str(table_path))
  with open(table_path, newline='') as f:
    raw = list(csv.DictReader(f))
  assert [r['nll'] for r in rows] == [float(r['nll']) for r in raw]
  assert [r['method'] for r in rows] == [r['method'] for r in raw]  # text stays text
  # eval.json of each run agrees with the table made from it
  by_name = {r.name: r for r in runs}
  for row in rows:
    run = by_name[f"{row['method']}_k{int(row['k'])}_l{int(row['layers'])}_e20_s{int(row['seed'])}"]
    assert round(run.eval['nll'], 2) == row['nll']


@pytest.mark.slow  # runs the notebook's cells
def test_overview_notebook_runs_on_committed_results(monkeypatch):
  """Runs every code cell in order, from results/ as Jupyter would, and checks the numbers it
  computes against the CSV read independently."""
  monkeypatch.setenv('MPLBACKEND', 'Agg')
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  monkeypatch.chdir(REPO / 'results')
  with open('overview.ipynb') as f:
    notebook = json.load(f)
  assert notebook['nbformat'] == 4
  namespace = {}
  for cell in notebook['cells']:
    if cell['cell_type'] == 'code':
      exec(compile(''.join(cell['source']), 'overview.ipynb', 'exec'), namespace)  # noqa: S102
  plt.close('all')

  with open(REPO / 'results' / 'infogan_mnist' / 'results.csv', newline='') as f:
    accuracy = [float(r['categorical_accuracy']) for r in csv.DictReader(f)]
  assert namespace['infogan_accuracy'] == accuracy
  # ... and the CSV the notebook reads holds the accuracies the committed runs' eval.json files
  # report (the runs of the committed config: infogan_s<seed> on the GPU, infogan_cpu_s<seed>)
  runs_dir = REPO / 'results' / 'infogan_mnist' / 'runs'
  from_runs = [results.load_run(str(runs_dir / d)).eval['categorical_accuracy']
               for d in os.listdir(runs_dir)
               if d.startswith(('infogan_s', 'infogan_cpu_s')) and d.rsplit('_s', 1)[1].isdigit()]
  assert len(from_runs) == len(accuracy) and sorted(from_runs) == sorted(accuracy)
  assert namespace['infogan_mean'] == pytest.approx(sum(accuracy) / len(accuracy))
  cpu_runs = [d for d in os.listdir(REPO / 'results' / 'infogan_mnist' / 'runs')
              if d.startswith('infogan_cpu_s') and d[len('infogan_cpu_s'):].isdigit()]
  assert sorted(r.name for r in namespace['infogan_runs']) == sorted(cpu_runs)
  assert set(namespace['last_grids']) == {'gan_mnist_s0', 'dcgan_mnist_s0', 'wgan_mnist_s0',
                                          'wgan_gp_mnist_s0'}
