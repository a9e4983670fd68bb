"""Sample quality at every checkpoint of the gan_hparams_long runs: over_training.csv (one row
per run and checkpoint, from each run's evals/step_N.json, written by
`launch/evaluate.py --all_checkpoints`) and over_training.png from it.

  python results/ablations/gan_hparams_long/over_training.py --root=runs/gan_hparams_long
  python results/ablations/gan_hparams_long/over_training.py     # the figure from the csv only
"""
import argparse
import csv
import glob
import json
import os

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
COLUMNS = ('fid_mnist_classifier', 'kid_mnist_classifier', 'precision_mnist_classifier',
           'recall_mnist_classifier', 'coverage_mnist_classifier', 'classes_covered')


def collect(root):
  rows = []
  for run in sorted(glob.glob(os.path.join(root, '*', 'evals'))):
    workdir = os.path.dirname(run)
    with open(os.path.join(workdir, 'config.json')) as f:
      config = json.load(f)
    for path in sorted(glob.glob(os.path.join(run, 'step_*.json'))):
      with open(path) as f:
        result = json.load(f)
      rows.append({'run': os.path.basename(workdir),
                   'learning_rate': config['optim']['g']['learning_rate'],
                   'seed': config['seed'], 'step': result['step'],
                   **{c: result.get(c) for c in COLUMNS}})
  return rows


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--root', default=None, help='The sweep root; without it, the csv only.')
  parser.add_argument('--out', default=HERE)
  args = parser.parse_args()
  os.makedirs(args.out, exist_ok=True)
  path = os.path.join(args.out, 'over_training.csv')
  if args.root:
    rows = collect(args.root)
    if not rows:
      raise SystemExit(f'error: no evals/step_N.json under {args.root}/*/: run launch/evaluate.py '
                       '--all_checkpoints on each run first (the command is in this file).')
    with open(path, 'w', newline='') as f:
      writer = csv.DictWriter(f, list(rows[0]))
      writer.writeheader()
      writer.writerows(rows)
  with open(path) as f:
    rows = list(csv.DictReader(f))
  fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
  for i, lr in enumerate(sorted({r['learning_rate'] for r in rows}, key=float, reverse=True)):
    mine = sorted((r for r in rows if r['learning_rate'] == lr), key=lambda r: int(r['step']))
    steps = [int(r['step']) for r in mine]
    for ax, key, label in zip(axes, ('fid_mnist_classifier', 'recall_mnist_classifier',
                                     'classes_covered'), ('FID (MNIST classifier)', 'recall',
                                                          'classes covered')):
      ax.plot(steps, [float(r[key]) for r in mine], marker='o', color=f'C{i}',
              label=f'learning rate {float(lr):g}')
      ax.set(xlabel='generator step', ylabel=label)
      ax.grid(alpha=0.3)
  axes[0].legend()
  fig.suptitle('DCGAN on MNIST, batch 128, seed 0: 5,000 samples at every checkpoint', fontsize=9)
  fig.tight_layout()
  fig.savefig(os.path.join(args.out, 'over_training.png'), dpi=110)
  print(f'wrote {path} and over_training.png')


if __name__ == '__main__':
  main()
