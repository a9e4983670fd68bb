"""Training curves, sample grids and a table for GAN / DCGAN / WGAN / WGAN-GP workdirs.

  python results/adversarial/make_figures.py OUT_SUBDIR WORKDIR [WORKDIR ...]

For each workdir: `OUT_SUBDIR/<name>_curves.png` (losses; D(x) and D(G(z)), or the critic's
Wasserstein estimate on train batches and on held-out test images vs fresh samples),
`OUT_SUBDIR/<name>_samples.png` (the grids saved during training: first, middle, last), and one
row of `OUT_SUBDIR/results.csv` / `table.md`.
"""
import csv
import os
import shutil
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from genjax import results  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'iwae_mnist'))
from make_table import hardware  # noqa: E402

NUM_TRAIN = {'mnist': 60000, 'cifar10': 50000}
COLUMNS = ['run', 'method', 'dataset', 'seed', 'generator_steps', 'critic_steps', 'epochs',
           'batch_size', 'train_minutes', 'first_test_value', 'last_test_value', 'test_metric',
           'hardware']


def read_run(workdir):
  run = results.load_run(workdir)
  train = [r for r in run.metrics if 'steps_per_sec' in r]
  test = [r for r in run.metrics if any(k.startswith('test/') for k in r)]
  return run.config, train, test


def series(rows, key):
  pts = [(r['step'], r[key]) for r in rows if key in r]
  return [p[0] for p in pts], [p[1] for p in pts]


def plot_curves(path, name, config, train, test):
  wasserstein = config['method']['name'] in ('wgan', 'wgan_gp')
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
  for key in ('d_loss', 'g_loss'):
    axes[0].plot(*series(train, key), label=key)
  axes[0].set_title('losses (train batches)')
  if wasserstein:
    axes[1].plot(*series(train, 'wasserstein_estimate'), label='train batches (critic steps)')
    axes[1].plot(*series(test, 'test/wasserstein_estimate'), 'o-',
                 label='1000 test images vs 1000 samples')
    axes[1].set_title('critic: E f(x) - E f(G(z))')
  else:
    for key in ('test/d_real', 'test/d_fake'):
      axes[1].plot(*series(test, key), 'o-', label=key.replace('test/', '') + ' (test)')
    axes[1].set_title('mean D output')
  for ax in axes:
    ax.set_xlabel('generator step')
    ax.legend(fontsize=8)
  fig.suptitle(name)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)


def copy_grids(out_dir, name, workdir):
  grids = sorted(os.listdir(os.path.join(workdir, 'samples')))
  picks = sorted({grids[0], grids[len(grids) // 2], grids[-1]})
  for g in picks:
    shutil.copy(os.path.join(workdir, 'samples', g), os.path.join(out_dir, f'{name}_{g}'))
  return picks


def row(name, workdir, config, train, test):
  seconds, last = 0.0, 0
  for r in train:
    seconds += (r['step'] - last) / r['steps_per_sec']
    last = r['step']
  n_critic, batch = config['method']['n_critic'], config['train']['batch_size']
  metric = ('test/wasserstein_estimate' if config['method']['name'] in ('wgan', 'wgan_gp')
            else 'test/d_real')
  _, values = series(test, metric)
  return {'run': name, 'method': config['method']['name'], 'dataset': config['data']['name'],
          'seed': config['seed'], 'generator_steps': last, 'critic_steps': last * n_critic,
          'epochs': round(last * n_critic * batch / NUM_TRAIN[config['data']['name']], 2),
          'batch_size': batch, 'train_minutes': round(seconds / 60, 1),
          'first_test_value': round(values[0], 4) if values else '',
          'last_test_value': round(values[-1], 4) if values else '', 'test_metric': metric,
          'hardware': hardware(workdir)}


def main(out_subdir, workdirs):
  out_dir = os.path.join(HERE, out_subdir)
  os.makedirs(out_dir, exist_ok=True)
  rows = []
  for workdir in workdirs:
    name = os.path.basename(os.path.normpath(workdir))
    config, train, test = read_run(workdir)
    plot_curves(os.path.join(out_dir, f'{name}_curves.png'), name, config, train, test)
    copy_grids(out_dir, name, workdir)
    rows.append(row(name, workdir, config, train, test))
  with open(os.path.join(out_dir, 'results.csv'), 'w', newline='') as f:
    writer = csv.DictWriter(f, COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
  with open(os.path.join(out_dir, 'table.md'), 'w') as f:
    f.write('| ' + ' | '.join(COLUMNS[:-1]) + ' |\n|' + '---|' * (len(COLUMNS) - 1) + '\n')
    for r in rows:
      f.write('| ' + ' | '.join(str(r[c]) for c in COLUMNS[:-1]) + ' |\n')
    f.write(f'\nHardware: {rows[0]["hardware"] if rows else ""}\n')
  for r in rows:
    print(r)


if __name__ == '__main__':
  main(sys.argv[1], sys.argv[2:])
