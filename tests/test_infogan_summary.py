"""results/ablations/infogan/summarize.py: the committed paper runs and a sweep's variants in one
table, success rates and means checked against numpy."""
import importlib.util
import json
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_summarize():
  path = os.path.join(ROOT, 'results', 'ablations', 'infogan', 'summarize.py')
  spec = importlib.util.spec_from_file_location('infogan_summarize', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def make_sweep(root, accuracies):
  runs = []
  for (augment, consistency), values in accuracies.items():
    for seed, acc in enumerate(values):
      name = f'aug={augment},c={consistency},seed={seed}'
      d = os.path.join(root, name)
      os.makedirs(d)
      with open(os.path.join(d, 'config.json'), 'w') as f:
        json.dump({'seed': seed, 'method': {'info_augment': augment,
                                            'info_consistency': consistency}}, f)
      with open(os.path.join(d, 'metrics.jsonl'), 'w') as f:
        f.write(json.dumps({'step': 6000, 'steps_per_sec': 3.0}) + '\n')
      with open(os.path.join(d, 'eval.json'), 'w') as f:
        json.dump({'step': 6000, 'categorical_accuracy': acc, 'classes_covered': 10}, f)
      runs.append({'name': name, 'seed': seed, 'setting': {'method.info_augment': augment,
                                                           'method.info_consistency': consistency}})
  with open(os.path.join(root, 'sweep.json'), 'w') as f:
    json.dump({'swept_keys': ['method.info_augment', 'method.info_consistency'],
               'columns': {'method.info_augment': 'info_augment',
                           'method.info_consistency': 'info_consistency'},
               'metrics': ['categorical_accuracy', 'classes_covered'], 'runs': runs}, f)


def test_paper_runs_and_variants_in_one_summary(tmp_path):
  summarize = load_summarize()
  accuracies = {('affine', 0.0): [0.96, 0.97, 0.81], ('affine', 1.0): [0.955, 0.95, 0.949, 0.99]}
  root = str(tmp_path / 'runs')
  make_sweep(root, accuracies)
  rows = summarize.paper_rows() + summarize.sweep_rows(root)
  summary = {s['variant']: s for s in summarize.summarize(rows)}
  assert set(summary) == {'paper', 'affine', 'affine_consistency'}
  # The committed config's runs: 9 CPU seeds + 3 H200 seeds with lambda_cont 0.1 (README).
  paper = [r['categorical_accuracy'] for r in rows if r['variant'] == 'paper']
  assert summary['paper']['n_seeds'] == len(paper) == 12
  assert summary['paper']['runs_at_target'] == sum(a >= 0.95 for a in paper)
  for (augment, consistency), values in accuracies.items():
    s = summary[summarize.variant_name(augment, consistency)]
    assert s['n_seeds'] == len(values)
    assert s['runs_at_target'] == sum(v >= 0.95 for v in values)
    assert s['categorical_accuracy_mean'] == pytest.approx(np.mean(values))
    assert s['categorical_accuracy_std'] == pytest.approx(np.std(values, ddof=1))
    assert s['categorical_accuracy_min'] == min(values)
  assert summary['affine_consistency']['success_rate'] == 0.75
  table = summarize.table(list(summary.values()))
  assert '| affine_consistency | 4 | 3 | 75% |' in table


def test_variants_below_the_seed_bar_are_pilots_not_rates():
  summarize = load_summarize()
  rows = [{'variant': 'a', 'seed': s, 'categorical_accuracy': 0.96} for s in range(10)]
  rows += [{'variant': 'b', 'seed': s, 'categorical_accuracy': 0.9} for s in range(9)]
  rows += [{'variant': 'affine_consistency', 'seed': s, 'categorical_accuracy': 0.97}
           for s in range(3)]
  measured, pilots = summarize.split(summarize.summarize(rows))
  # The variant stays in the summary while short of its runs; others go to pilots.
  assert [s['variant'] for s in measured] == ['a', 'affine_consistency']
  assert [(s['variant'], s['n_seeds']) for s in pilots] == [('b', 9)]
  text = summarize.tables(summarize.summarize(rows))
  head, tail = text.split('Other variants, below 10 runs')
  assert '| a | 10 | 10 | 100% |' in head and '| b |' not in head
  assert 'affine_consistency: fewer than the 10 runs' in head
  assert '| b | 9 | 0 | 0% |' in tail


def test_the_committed_tables_regenerate(tmp_path, monkeypatch):
  summarize = load_summarize()
  here = os.path.join(ROOT, 'results', 'ablations', 'infogan')
  monkeypatch.setattr('sys.argv', ['summarize.py', '--root', os.path.join(here, 'copied_runs'),
                                   '--out', str(tmp_path)])
  summarize.main()
  for name in ('results.csv', 'summary.csv', 'pilot.csv'):
    assert os.path.exists(os.path.join(here, name)) == os.path.exists(tmp_path / name), name
    if not os.path.exists(tmp_path / name):
      continue
    with open(os.path.join(here, name)) as f, open(tmp_path / name) as g:
      assert f.read() == g.read(), f'infogan/{name} differs from what summarize.py writes'
  rows = summarize.paper_rows() + (summarize.sweep_rows(os.path.join(here, 'copied_runs'))
                                   if os.path.isdir(os.path.join(here, 'copied_runs')) else [])
  with open(os.path.join(here, 'README.md')) as f:
    assert summarize.tables(summarize.summarize(rows)) in f.read()


def test_curves_pick_exactly_the_committed_configs_runs():
  """The figure's paper curves come from run directories chosen by their config.json; their
  last logged accuracies must be the 12 accuracies results/infogan_mnist/results.csv records
  (written separately, when those runs were evaluated)."""
  summarize = load_summarize()
  here = os.path.join(ROOT, 'results', 'ablations', 'infogan', 'copied_runs')
  curves = summarize.curves(here)
  finals = sorted(curve[-1][1] for curve in curves['paper'])
  assert all(curve[-1][0] == 6000 for curve in curves['paper'])
  assert finals == sorted(r['categorical_accuracy'] for r in summarize.paper_rows())
  rows = summarize.sweep_rows(here)
  for variant, runs in curves.items():
    if variant != 'paper':
      assert sorted(c[-1][1] for c in runs) == sorted(
          r['categorical_accuracy'] for r in rows if r['variant'] == variant)


def test_significance_against_brute_force():
  """Fisher's p by enumerating the hypergeometric tables, the exact interval's lower end in
  closed form for k = n (alpha/2 = p^n) and by bisection of the binomial tail otherwise."""
  from math import comb
  s = load_summarize()
  rng = np.random.default_rng(0)
  paper = [0.96, 0.80, 0.95, 0.82, 0.97, 0.96, 0.90, 0.96, 0.955, 0.99, 0.93, 0.951]
  variant = list(0.95 + 0.03 * rng.random(10))
  rows = ([{'variant': 'paper', 'categorical_accuracy': a} for a in paper]
          + [{'variant': 'affine_consistency', 'categorical_accuracy': a} for a in variant])
  out = s.significance(rows)
  assert out['paper']['runs_at_target'] == 8 and out['affine_consistency']['runs_at_target'] == 10
  # Fisher two-sided: sum of the probabilities of every table with the same margins that is no
  # more likely than the observed one.
  k_total, n_a, n_b = 18, 12, 10
  prob = lambda x: comb(n_a, x) * comb(n_b, k_total - x) / comb(n_a + n_b, k_total)
  observed = prob(8)
  brute = sum(prob(x) for x in range(k_total - n_b, n_a + 1) if prob(x) <= observed * (1 + 1e-9))
  np.testing.assert_allclose(out['fisher_exact_p'], brute, rtol=1e-9)
  np.testing.assert_allclose(out['affine_consistency']['success_rate_ci95'],
                             [0.025 ** (1 / 10), 1.0], rtol=1e-9)
  # k = 8 of 12: the lower end solves P(X >= 8 | p) = 0.025.
  tail = lambda p: sum(comb(12, j) * p ** j * (1 - p) ** (12 - j) for j in range(8, 13))
  lo, hi = 0.0, 1.0
  for _ in range(60):
    mid = (lo + hi) / 2
    lo, hi = (mid, hi) if tail(mid) < 0.025 else (lo, mid)
  np.testing.assert_allclose(out['paper']['success_rate_ci95'][0], lo, rtol=1e-7)
  # Welch's t against its formula
  a, b = np.array(variant), np.array(paper)
  va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
  t = (a.mean() - b.mean()) / np.sqrt(va + vb)
  df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
  from scipy.special import stdtr
  np.testing.assert_allclose(out['welch_t_p'], 2 * stdtr(df, -abs(t)), rtol=1e-9)
  assert s.significance(rows[:12]) is None  # a variant without runs: no test
