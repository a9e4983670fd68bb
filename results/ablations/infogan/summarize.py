"""The InfoGAN ablation's tables: the paper's version (the committed config's runs in
results/infogan_mnist/results.csv) beside the label-free variants of configs/sweeps/infogan.py.

  python launch/sweep.py --sweep=configs/sweeps/infogan.py --root=runs/infogan --parallel=2
  python results/ablations/infogan/summarize.py --copy_from=runs/infogan
  python results/ablations/infogan/summarize.py     # again, from the committed copied_runs/

(--copy_from first copies each run's small files, no checkpoints, to copied_runs/; not runs/,
which tests/test_committed_reports.py would take for a launch/report.py report.)

Writes results.csv (variant, seed, categorical_accuracy, ..., hardware: one row per run),
summary.csv (per variant: n_seeds, runs reaching 0.95, their share, mean, std and 95% bootstrap
interval of the accuracy) and puts the table between README.md's report markers. No label is
used to train or choose a run: categorical_accuracy (Hungarian-matched on the test set) is
measured after training, for every run.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from genjax import report, results  # noqa: E402

TARGET = 0.95
PAPER_RUNS = os.path.join(ROOT, 'results', 'infogan_mnist', 'results.csv')
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
  os.makedirs(args.out, exist_ok=True)
  report._write_csv(os.path.join(args.out, 'results.csv'), rows,
                    ['variant', 'seed'] + list(METRICS) + ['hardware', 'source'])
  report._write_csv(os.path.join(args.out, 'summary.csv'), summary, list(summary[0]))
  text = table(summary)
  report.update_readme(os.path.join(args.out, 'README.md'), text)
  print(text, end='')


if __name__ == '__main__':
  main()
