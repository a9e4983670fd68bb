"""The sweep report: rows per run, statistics over seeds checked against numpy/scipy, diverged
runs kept, the README table put between its markers."""
import csv
import json
import os

import numpy as np
import pytest
import scipy.stats

from genjax import report


def make_run(root, name, config, eval_result=None, metrics=(), diverged=False):
  d = os.path.join(root, name)
  os.makedirs(d)
  with open(os.path.join(d, 'config.json'), 'w') as f:
    json.dump(config, f)
  with open(os.path.join(d, 'metrics.jsonl'), 'w') as f:
    for row in metrics:
      f.write(json.dumps(row) + '\n')
  if eval_result is not None:
    with open(os.path.join(d, 'eval.json'), 'w') as f:
      json.dump(eval_result, f)
  if diverged:
    with open(os.path.join(d, 'diverged.json'), 'w') as f:
      json.dump({'step': 10}, f)
  return d


@pytest.fixture
def sweep_root(tmp_path):
  root = str(tmp_path / 'root')
  nll = {('sgd', 0): 101.0, ('sgd', 1): 103.5, ('sgd', 2): 99.0,
         ('adam', 0): 90.25, ('adam', 1): 91.0, ('adam', 2): None}
  runs = []
  for (opt, seed), value in nll.items():
    name = f'optim.name={opt},seed={seed}'
    config = {'seed': seed, 'optim': {'name': opt, 'learning_rate': 1e-3}, 'train': {}}
    metrics = [{'step': 50, 'steps_per_sec': 10.0, 'test/elbo': -120.0 + seed},
               {'step': 100, 'steps_per_sec': 25.0, 'test/elbo': -110.0 - seed}]
    make_run(root, name, config, None if value is None else
             {'step': 100, 'nll': value, 'active_units': 20 + seed, 'nll_num_samples': 5000},
             metrics, diverged=value is None)
    runs.append({'name': name, 'setting': {'optim.name': opt}, 'seed': seed})
  with open(os.path.join(root, 'sweep.json'), 'w') as f:
    json.dump({'swept_keys': ['optim.name'], 'columns': {'optim.name': 'optimizer'},
               'metrics': ['nll', 'active_units'], 'curves': ['test/elbo'], 'runs': runs}, f)
  return root, nll


def read_csv(path):
  with open(path) as f:
    return list(csv.DictReader(f))


def test_bootstrap_interval_matches_scipy():
  values = np.random.default_rng(3).normal(100.0, 2.0, size=12)
  low, high = report.bootstrap_interval(values)
  ref = scipy.stats.bootstrap((values,), np.mean, n_resamples=50_000, method='percentile',
                              random_state=1).confidence_interval
  # Two Monte Carlo estimates of the same quantiles: they agree to a few hundredths here,
  # while the interval is ~2.2 wide.
  assert low == pytest.approx(ref.low, abs=0.06)
  assert high == pytest.approx(ref.high, abs=0.06)
  assert values.min() <= low < values.mean() < high <= values.max()
  assert report.bootstrap_interval([4.0]) == (4.0, 4.0)


def test_report_rows_summary_and_table(sweep_root, tmp_path):
  root, nll = sweep_root
  out = str(tmp_path / 'out')
  readme = os.path.join(out, 'README.md')
  os.makedirs(out)
  with open(readme, 'w') as f:
    f.write(f'# Study\n\nText before.\n\n{report.BEGIN}\nstale table\n{report.END}\n\nAfter.\n')
  written = report.write_report(root, out)
  assert readme in written

  rows = read_csv(os.path.join(out, 'results.csv'))
  assert [(r['optimizer'], r['seed']) for r in rows] == [
      ('sgd', '0'), ('sgd', '1'), ('sgd', '2'), ('adam', '0'), ('adam', '1'), ('adam', '2')]
  for r in rows:
    expected = nll[(r['optimizer'], int(r['seed']))]
    assert (r['nll'] == '') == (expected is None)
    assert r['status'] == ('diverged' if expected is None else 'evaluated')
    if expected is not None:
      assert float(r['nll']) == expected
    # 50 steps at 10/s, then 50 at 25/s
    assert float(r['train_seconds']) == pytest.approx(7.0)
    if expected is None:  # a diverged run's last logged value is no result
      assert r['final_test/elbo'] == ''
    else:
      assert float(r['final_test/elbo']) == -110.0 - int(r['seed'])

  summary = {s['optimizer']: s for s in read_csv(os.path.join(out, 'summary.csv'))}
  sgd = np.array([101.0, 103.5, 99.0])
  assert float(summary['sgd']['nll_mean']) == pytest.approx(sgd.mean())
  assert float(summary['sgd']['nll_std']) == pytest.approx(np.std(sgd, ddof=1), rel=1e-5)
  assert float(summary['sgd']['nll_ci_low']) >= sgd.min()
  assert float(summary['sgd']['nll_ci_high']) <= sgd.max()
  assert (summary['sgd']['n_seeds'], summary['sgd']['n_diverged']) == ('3', '0')
  assert (summary['adam']['n_seeds'], summary['adam']['n_diverged']) == ('3', '1')
  assert float(summary['adam']['nll_mean']) == pytest.approx(90.625)  # the two finished seeds

  table = open(os.path.join(out, 'table.md')).read()
  assert '| sgd | 101.17 ± 2.25 |' in table
  assert '3 (1)' in table  # adam: three seeds, one diverged
  text = open(readme).read()
  assert 'stale table' not in text and table in text
  assert text.startswith('# Study\n\nText before.') and text.endswith('\n\nAfter.\n')
  for figure in ('summary.png', 'curves.png'):
    assert os.path.getsize(os.path.join(out, figure)) > 5_000


def test_report_without_manifest_finds_the_swept_keys(tmp_path):
  root = str(tmp_path / 'root')
  for k in (1, 5):
    for seed in (0, 1):
      make_run(root, f'k{k}s{seed}', {'seed': seed, 'method': {'k': k, 'name': 'iwae'},
                                      'data': {'source_dir': f'/d{seed}'}},
               {'step': 10, 'nll': 100.0 - k - seed})
  rows, settings, metrics = report.collect(root)
  assert settings == ['method.k']
  assert 'nll' in metrics and 'step' not in metrics
  summary = report.summarize(rows, settings, metrics)
  assert [(s['method.k'], s['n_seeds'], s['nll_mean']) for s in summary] == [
      (1, 2, 98.5), (5, 2, 94.5)]


def test_report_of_an_empty_root_is_one_error(tmp_path):
  with pytest.raises(report.ReportError, match='holds no runs'):
    report.collect(str(tmp_path))


def test_copied_runs_regenerate_the_same_report_with_a_line_plot(tmp_path):
  root = str(tmp_path / 'root')
  runs = []
  for name in ('vae', 'iwae'):
    for k in (1, 5, 50):
      for seed in (0, 1, 2):
        run = f'name={name},k={k},seed={seed}'
        make_run(root, run, {'seed': seed, 'method': {'k': k, 'name': name}},
                 {'step': 10, 'nll': 100.0 - (name == 'iwae') * k / 10 + seed, 'k_copy': k},
                 [{'step': 10, 'steps_per_sec': 2.0}])
        os.makedirs(os.path.join(root, run, 'checkpoints', '10'))
        os.makedirs(os.path.join(root, run, 'evals_2000'))
        with open(os.path.join(root, run, 'evals_2000', 'step_00000010.json'), 'w') as f:
          json.dump({'step': 10, 'num_samples': 2000}, f)
        runs.append({'name': run, 'setting': {'method.name': name, 'method.k': k}, 'seed': seed})
  with open(os.path.join(root, 'sweep.json'), 'w') as f:
    json.dump({'swept_keys': ['method.name', 'method.k'],
               'columns': {'method.name': 'method', 'method.k': 'k'}, 'metrics': ['nll', 'k_copy'],
               'plot': {'x': 'method.k', 'hue': 'method.name', 'logx': True},
               'differences': {'nll_minus_k': ['nll', 'k_copy']},
               'references': {'paper': [[{'method.name': 'iwae', 'method.k': 50}, 84.78]]},
               'runs': runs}, f)
  first = str(tmp_path / 'first')
  report.write_report(root, first)
  copy = str(tmp_path / 'copy')
  report.copy_runs(root, os.path.join(copy, 'runs'))
  assert not os.path.exists(os.path.join(copy, 'runs', 'name=vae,k=1,seed=0', 'checkpoints'))
  with open(os.path.join(copy, 'runs', 'name=vae,k=1,seed=0', 'evals_2000',
                         'step_00000010.json')) as f:
    assert json.load(f) == {'step': 10, 'num_samples': 2000}  # the curves' evaluations travel
  report.write_report(os.path.join(copy, 'runs'), copy)
  for name in ('results.csv', 'summary.csv', 'table.md'):
    assert open(os.path.join(first, name)).read() == open(os.path.join(copy, name)).read()
  summary = {(s['method'], s['k']): s for s in read_csv(os.path.join(copy, 'summary.csv'))}
  assert float(summary[('iwae', '50')]['nll_mean']) == pytest.approx(96.0)
  assert float(summary[('iwae', '50')]['nll_minus_k_mean']) == pytest.approx(46.0)
  assert summary[('iwae', '50')]['paper'] == '84.78' and summary[('vae', '50')]['paper'] == ''
  assert '| iwae | 50 | 96.00 ± 1.00 | 50.00 ± 0.00 | 46.00 ± 1.00 | 5 ± 0 | 84.78 | 3 |' in open(
      os.path.join(copy, 'table.md')).read()
  assert os.path.getsize(os.path.join(copy, 'summary.png')) > 5_000


def test_quality_against_cost_uses_each_runs_flops_and_steps(tmp_path):
  root = str(tmp_path / 'root')
  flops = {'gan': 3.0e8, 'vae': 2.0e6}  # per step, as XLA's cost analysis writes cost.json
  steps = {'gan': 400, 'vae': 20000}
  runs = []
  for method in flops:
    for seed in (0, 1, 2):
      name = f'method.name={method},seed={seed}'
      make_run(root, name, {'seed': seed, 'method': {'name': method}},
               {'step': steps[method], 'fid': 30.0 + seed + (method == 'vae') * 20},
               [{'step': steps[method], 'steps_per_sec': 4.0}])
      with open(os.path.join(root, name, 'cost.json'), 'w') as f:
        json.dump({'flops_per_step': flops[method]}, f)
      runs.append({'name': name, 'setting': {'method.name': method}, 'seed': seed})
  with open(os.path.join(root, 'sweep.json'), 'w') as f:
    json.dump({'swept_keys': ['method.name'], 'columns': {'method.name': 'method'},
               'metrics': ['fid'], 'plot': {'cost': ['fid', 'not_a_metric'], 'label': 'method'},
               'runs': runs}, f)
  out = str(tmp_path / 'out')
  written = report.write_report(root, out)
  assert os.path.join(out, 'cost_quality.png') in written
  assert os.path.getsize(os.path.join(out, 'cost_quality.png')) > 5_000
  cost = read_csv(os.path.join(out, 'cost.csv'))
  assert len(cost) == 6
  for r in cost:
    assert float(r['train_flops']) == pytest.approx(flops[r['method']] * steps[r['method']])
    assert float(r['train_seconds']) == pytest.approx(steps[r['method']] / 4.0)


def test_no_cost_figure_unless_the_sweep_asks(sweep_root, tmp_path):
  root, _ = sweep_root
  out = str(tmp_path / 'out')
  report.write_report(root, out)
  assert not os.path.exists(os.path.join(out, 'cost_quality.png'))
  assert not os.path.exists(os.path.join(out, 'cost.csv'))


def test_a_run_evaluated_before_its_last_step_says_so(tmp_path):
  """A run stopped at a checkpoint and scored there (a long CPU run, evaluated at its half) is
  not reported as finished: its status names it, and `step` keeps the step it was scored at."""
  root = str(tmp_path / 'root')
  for name, step in (('halfway', 500), ('finished', 1000)):
    make_run(root, name, {'seed': 0, 'method': {'name': name}, 'train': {'num_steps': 1000}},
             {'step': step, 'fid': 10.0}, [{'step': step, 'steps_per_sec': 5.0}])
  rows, _, _ = report.collect(root)
  status = {r['run']: (r['status'], r['step']) for r in rows}
  assert status == {'halfway': ('evaluated before its last step', 500),
                    'finished': ('evaluated', 1000)}
