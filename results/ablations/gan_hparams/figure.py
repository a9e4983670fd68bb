"""hparams.png: one panel per family, each against its own swept value, from results.csv and
the runs' logs (critic.py). The report's summary.png puts all 18 settings on one axis; this
figure reads them as the question asks.

  python results/ablations/gan_hparams/critic.py
  python results/ablations/gan_hparams/figure.py      # writes hparams.png beside this file

Grey: each seed; coloured: the mean over seeds, bars one standard deviation.
"""
import argparse
import csv
import os
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import critic  # noqa: E402

FID = 'fid_mnist_classifier'


def read(path):
  with open(path) as f:
    return list(csv.DictReader(f))


def series(ax, rows, x_key, group_key, groups, y_of, label_of):
  for i, group in enumerate(groups):
    mine = [r for r in rows if r[group_key] == group]
    xs = sorted({float(r[x_key]) for r in mine})
    means, stds = [], []
    for x in xs:
      ys = np.array([y_of(r) for r in mine if float(r[x_key]) == x], np.float64)
      ax.scatter(np.full(len(ys), x), ys, color='0.6', s=12, zorder=1)
      means.append(ys.mean())
      stds.append(ys.std(ddof=1) if len(ys) > 1 else 0.0)
    ax.errorbar(xs, means, yerr=stds, marker='o', capsize=3, color=f'C{i}', zorder=2,
                label=label_of(group))
  ax.set_xscale('log')
  ax.grid(alpha=0.3)


def penalties(runs_dir):
  """(gp_lambda, n_critic, steps) -> final unweighted penalty of each seed."""
  return [{'gp_lambda': config['method']['gp_lambda'],
           'n_critic': str(config['method']['n_critic']),
           'steps': str(config['train']['num_steps']), 'penalty': values['gradient_penalty']}
          for config, values in critic.critic_runs(runs_dir, methods=('wgan_gp',))]


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--dir', default=HERE, help='Holds results.csv and runs/.')
  parser.add_argument('--out', default=os.path.join(HERE, 'hparams.png'))
  args = parser.parse_args()
  rows = read(os.path.join(args.dir, 'results.csv'))
  fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))

  gp = [r for r in rows if r['method'] == 'wgan_gp']
  short = [r for r in gp if r['steps'] == '300']
  ax = axes[0]
  series(ax, short, 'gp_lambda', 'n_critic', ['5', '1'], lambda r: float(r[FID]),
         lambda n: f'n_critic {n}, 300 generator steps')
  equal = [float(r[FID]) for r in gp if r['steps'] != '300']
  if equal:
    steps = next(r['steps'] for r in gp if r['steps'] != '300')
    ax.errorbar([10.0], [np.mean(equal)], yerr=[np.std(equal, ddof=1) if len(equal) > 1 else 0],
                marker='s', color='C2', capsize=3, linestyle='none',
                label=f'n_critic 1, {steps} steps (equal FLOPs)')
    ax.scatter(np.full(len(equal), 10.0), equal, color='0.6', s=12)
  ax.set(xlabel='gradient-penalty weight λ', ylabel='FID (MNIST classifier)',
         title='WGAN-GP: FID')
  ax.legend(fontsize=7)

  ax = axes[1]
  pens = [p for p in penalties(os.path.join(args.dir, 'runs')) if p['steps'] == '300']
  series(ax, pens, 'gp_lambda', 'n_critic', ['5', '1'], lambda r: r['penalty'],
         lambda n: f'n_critic {n}')
  ax.set_yscale('log')
  ax.set(xlabel='gradient-penalty weight λ', ylabel='E[(‖∇f(x̂)‖ − 1)²] at the end',
         title='WGAN-GP: distance from 1-Lipschitz')
  ax.legend(fontsize=7)

  ax = axes[2]
  series(ax, [r for r in rows if r['method'] == 'wgan'], 'clip', 'method', ['wgan'],
         lambda r: float(r[FID]), lambda _: 'WGAN, 300 generator steps')
  ax.set(xlabel='weight-clipping bound c', ylabel='FID (MNIST classifier)', title='WGAN: FID')
  ax.legend(fontsize=7)

  ax = axes[3]
  series(ax, [r for r in rows if r['method'] == 'dcgan'], 'learning_rate', 'batch_size',
         ['128', '64'], lambda r: float(r[FID]), lambda b: f'batch {b}, 500 steps')
  ax.set(xlabel='learning rate (both players)', ylabel='FID (MNIST classifier)',
         title='DCGAN: FID')
  ax.legend(fontsize=7)
  fig.suptitle('MNIST, 3 seeds per setting; grey: each seed, bars: mean ± std over seeds',
               fontsize=9)
  fig.tight_layout()
  fig.savefig(args.out, dpi=110)
  print(f'wrote {args.out}')


if __name__ == '__main__':
  main()
