"""The InfoGAN ablation's tables: the paper's version (the committed config's runs in
results/infogan_mnist/results.csv) beside the label-free variants of configs/sweeps/infogan.py.

  python launch/sweep.py --sweep=configs/sweeps/infogan.py --root=runs/infogan --parallel=2
  python results/ablations/infogan/summarize.py --copy_from=runs/infogan
  python results/ablations/infogan/summarize.py     # again, from the committed copied_runs/

(--copy_from first copies each run's small files, no checkpoints, to copied_runs/; not runs/,
which tests/test_committed_reports.py would take for a launch/report.py report.)

Writes results.csv (variant, seed, categorical_accuracy, ..., hardware: one row per run),
summary.csv (the paper's version, the issue's variant (MAIN) however many runs it has, and any
other variant with at least MIN_SEEDS runs: n_seeds, runs reaching 0.95, their share, mean, std
and 95% bootstrap interval of the accuracy), pilot.csv (the same columns for the other variants
with fewer runs so far: read as "k of n", not as a rate), summary.png (each run's final
accuracy by variant; test accuracy over training, from each run's metrics.jsonl),
significance.json (the MAIN comparison's tests: exact intervals of the success rates, Fisher,
Welch, Mann-Whitney) and puts both tables between README.md's report markers. No label is
used to train or choose a run: categorical_accuracy (Hungarian-matched on the test set) is
measured after training, for every run.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from genjax import report, results  # noqa: E402

TARGET = 0.95
MIN_SEEDS = 10  # issue #15: the variant and the paper's version, >= 10 seeds each
MAIN = ('paper', 'affine_consistency')  # the comparison: always in summary.csv
PAPER_RUNS = os.path.join(ROOT, 'results', 'infogan_mnist', 'results.csv')
PAPER_RUN_DIRS = os.path.join(ROOT, 'results', 'infogan_mnist', 'runs')
# The committed config (configs/infogan_mnist.py) as results/infogan_mnist's columns name it.
COMMITTED = {'z_prior': 'uniform', 'lambda_cont': 0.1, 'info_updates_trunk': 'True', 'steps': 6000}
METRICS = ('categorical_accuracy', 'code_mutual_information', 'code_conditional_entropy',
           'fid_mnist_classifier', 'classes_covered')


def variant_name(info_augment, info_consistency):
  if info_augment in (None, 'none'):
    return 'paper'
  return info_augment if not info_consistency else f'{info_augment}_consistency'


def paper_rows(path=PAPER_RUNS):
  """The committed config's runs (CPU and H200), as the paper's variant."""
  rows = []
  for r in results.read_table(path):
    if all(r.get(k) == v for k, v in COMMITTED.items()):
      rows.append({'variant': 'paper', 'seed': int(r['seed']),
                   'categorical_accuracy': r['categorical_accuracy'],
                   'hardware': r['hardware'], 'source': 'results/infogan_mnist/results.csv'})
  return rows


def is_committed_config(config):
  """A run's config.json is the committed config's (the paper's objective, 6,000 steps)."""
  method = config['method']
  return (config['train']['num_steps'] == COMMITTED['steps']
          and method.get('lambda_cont') == COMMITTED['lambda_cont']
          and bool(method.get('info_updates_trunk', True))
          and method.get('z_prior', 'uniform') in (None, 'uniform')
          and method.get('info_augment', 'none') in (None, 'none'))


def accuracy_curve(run):
  """[(step, test categorical accuracy)] logged during training."""
  return [(m['step'], m['test/categorical_accuracy']) for m in run.metrics
          if 'test/categorical_accuracy' in m]


def curves(root, run_dirs=PAPER_RUN_DIRS):
  """{variant: [curve per run]}: the committed config's runs in results/infogan_mnist/runs
  and the evaluated runs under `root`."""
  out = {}
  for name in sorted(os.listdir(run_dirs)) if os.path.isdir(run_dirs) else []:
    run = results.load_run(os.path.join(run_dirs, name))
    if is_committed_config(run.config) and run.eval:
      out.setdefault('paper', []).append(accuracy_curve(run))
  for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
    path = os.path.join(root, name)
    if not os.path.isfile(os.path.join(path, 'eval.json')):
      continue
    run = results.load_run(path)
    variant = variant_name(run.config['method'].get('info_augment'),
                           run.config['method'].get('info_consistency'))
    out.setdefault(variant, []).append(accuracy_curve(run))
  return out


def plot(path, rows, variant_curves):
  """Left: every run's final accuracy by variant; right: accuracy over training, per run."""
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  variants = list(dict.fromkeys(r['variant'] for r in rows))
  colors = {v: f'C{i}' for i, v in enumerate(variants)}
  fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
  jitter = np.random.default_rng(0)
  labels = []
  for i, v in enumerate(variants):
    acc = [r['categorical_accuracy'] for r in rows if r['variant'] == v]
    left.scatter(i + jitter.uniform(-0.15, 0.15, len(acc)), acc, color=colors[v], s=18)
    labels.append(f'{v}\n{sum(a >= TARGET for a in acc)} of {len(acc)} reach {TARGET}')
  left.axhline(TARGET, color='gray', ls='--', lw=0.8)
  left.set_xticks(range(len(variants)), labels, fontsize=8)
  left.set_ylabel('categorical accuracy (test, Hungarian-matched)')
  left.set_title('after 6,000 steps: one dot per run')
  for v in variants:
    for j, curve in enumerate(variant_curves.get(v, [])):
      steps, acc = zip(*curve) if curve else ((), ())
      right.plot(steps, acc, color=colors[v], lw=0.9, alpha=0.7, label=v if j == 0 else None)
  right.axhline(TARGET, color='gray', ls='--', lw=0.8)
  right.set_xlabel('generator step')
  right.set_ylabel('categorical accuracy (test)')
  right.set_title('during training: one line per run')
  right.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def sweep_rows(root):
  rows, _, _ = report.collect(root)
  out = []
  for r in rows:
    row = {'variant': variant_name(r.get('info_augment'), r.get('info_consistency')),
           'seed': r['seed'], 'hardware': r['hardware'], 'source': f'runs/{r["run"]}'}
    row.update({m: r.get(m) for m in METRICS})
    if row['categorical_accuracy'] is not None:  # evaluated runs only
      out.append(row)
  return out


def summarize(rows):
  summary = []
  for variant in dict.fromkeys(r['variant'] for r in rows):
    acc = np.array([r['categorical_accuracy'] for r in rows if r['variant'] == variant],
                   np.float64)
    low, high = report.bootstrap_interval(acc)
    summary.append({'variant': variant, 'n_seeds': len(acc),
                    'runs_at_target': int((acc >= TARGET).sum()),
                    'success_rate': float((acc >= TARGET).mean()),
                    'categorical_accuracy_mean': float(acc.mean()),
                    'categorical_accuracy_std': float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                    'categorical_accuracy_ci_low': low, 'categorical_accuracy_ci_high': high,
                    'categorical_accuracy_min': float(acc.min())})
  return summary


def significance(rows, main=MAIN):
  """How sure the comparison of the two MAIN variants is (scipy): the exact (Clopper-Pearson) 95%
  interval of each one's success rate, Fisher's exact test on runs reaching TARGET, and Welch's
  t-test and Mann-Whitney's U test on the accuracies (two-sided)."""
  from scipy import stats
  acc = {v: np.array([r['categorical_accuracy'] for r in rows if r['variant'] == v], np.float64)
         for v in main}
  if any(len(a) < 2 for a in acc.values()):
    return None
  out = {'variants': list(main), 'target': TARGET}
  for v, a in acc.items():
    k = int((a >= TARGET).sum())
    ci = stats.binomtest(k, len(a)).proportion_ci(0.95, method='exact')
    out[v] = {'runs': len(a), 'runs_at_target': k,
              'success_rate_ci95': [float(ci.low), float(ci.high)]}
  a, b = (acc[v] for v in main)
  table = [[int((x >= TARGET).sum()), int((x < TARGET).sum())] for x in (a, b)]
  out['fisher_exact_p'] = float(stats.fisher_exact(table).pvalue)
  out['welch_t_p'] = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
  out['mann_whitney_p'] = float(stats.mannwhitneyu(a, b).pvalue)
  return out


def split(summary, min_seeds=MIN_SEEDS, main=MAIN):
  """(the main variants and any other with >= min_seeds runs, the others: pilots so far).
  The main ones stay in the first part below min_seeds too, so that the summary shows when the
  issue's comparison is short of its runs."""
  measured = [s for s in summary if s['variant'] in main or s['n_seeds'] >= min_seeds]
  return measured, [s for s in summary if s not in measured]


def tables(summary, min_seeds=MIN_SEEDS):
  """The README's text: the measured variants' table, then the pilots' under their own heading."""
  measured, pilots = split(summary, min_seeds)
  text = table(measured)
  short = [s['variant'] for s in measured if s['n_seeds'] < min_seeds]
  if short:
    text += (f'\n{", ".join(short)}: fewer than the {min_seeds} runs the target is measured on; '
             f'read "reach 0.95" as k of n, not as a success rate.\n')
  if pilots:
    text += (f'\nOther variants, below {min_seeds} runs so far (pilot.csv): a share of so few '
             f'runs is no success rate; read "reach 0.95" as k of n.\n\n' + table(pilots))
  return text


def table(summary):
  lines = ['| variant | runs | reach 0.95 | success rate | accuracy mean ± std | 95% interval '
           'of the mean | worst run |', '|---|---|---|---|---|---|---|']
  for s in summary:
    lines.append(f"| {s['variant']} | {s['n_seeds']} | {s['runs_at_target']} | "
                 f"{s['success_rate']:.0%} | {s['categorical_accuracy_mean']:.4f} ± "
                 f"{s['categorical_accuracy_std']:.4f} | [{s['categorical_accuracy_ci_low']:.4f}, "
                 f"{s['categorical_accuracy_ci_high']:.4f}] | {s['categorical_accuracy_min']:.4f} |")
  return '\n'.join(lines) + '\n'


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--root', default=os.path.join(HERE, 'copied_runs'),
                      help='The sweep root of the variants (or their copied runs).')
  parser.add_argument('--copy_from', default=None,
                      help='A sweep root whose runs are first copied (small files) to --root.')
  parser.add_argument('--out', default=HERE)
  args = parser.parse_args()
  if args.copy_from:
    report.copy_runs(args.copy_from, args.root)
  rows = paper_rows()
  if os.path.isdir(args.root):
    rows += sweep_rows(args.root)
  else:
    print(f'{args.root} does not exist: the paper\'s runs only (train the variants first).')
  summary = summarize(rows)
  measured, pilots = split(summary)  # tables() below splits the same way for the README
  os.makedirs(args.out, exist_ok=True)
  report._write_csv(os.path.join(args.out, 'results.csv'), rows,
                    ['variant', 'seed'] + list(METRICS) + ['hardware', 'source'])
  for name, part in (('summary.csv', measured), ('pilot.csv', pilots)):
    path = os.path.join(args.out, name)
    if part:
      report._write_csv(path, part, list(summary[0]))
    elif os.path.exists(path):
      os.remove(path)  # no variant left in this part: no stale file
  tests = significance(rows)
  if tests:
    with open(os.path.join(args.out, 'significance.json'), 'w') as f:
      json.dump(tests, f, indent=1)
  plot(os.path.join(args.out, 'summary.png'), rows, curves(args.root))
  text = tables(summary)
  report.update_readme(os.path.join(args.out, 'README.md'), text)
  print(text, end='')


if __name__ == '__main__':
  main()
