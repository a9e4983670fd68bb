"""What the runs of the committed config say about the mean accuracy, and whether a label-free
statistic picks out the failed runs.

  python results/infogan_mnist/summarize.py   # reads results.csv and runs/*/eval.json

Prints the mean/median over every run in results.csv, a bootstrap 95% interval of the mean
(10,000 resamples of the runs, seed 0), and, for the runs whose eval.json is committed, accuracy
beside H[c|x], sorted by H[c|x]: a label-free statistic once taken for a sign of a failed split,
which seed 6 refuted (README.md).
"""
import os

import numpy as np

from genjax import results

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = 0.95


def bootstrap_interval(values, resamples=10_000, seed=0):
  values = np.asarray(values)
  rng = np.random.default_rng(seed)
  means = values[rng.integers(0, len(values), (resamples, len(values)))].mean(axis=1)
  return np.quantile(means, [0.025, 0.975]), float(np.mean(means >= TARGET))


def main():
  rows = results.read_table(os.path.join(HERE, 'results.csv'))
  accuracy = np.array([r['categorical_accuracy'] for r in rows])
  (low, high), share_at_target = bootstrap_interval(accuracy)
  failed = accuracy < 0.9
  print(f'{len(accuracy)} runs of the committed config: mean {accuracy.mean():.4f}, median '
        f'{np.median(accuracy):.4f}, {int((accuracy >= TARGET).sum())} reach {TARGET}')
  print(f'bootstrap 95% interval of the mean: [{low:.4f}, {high:.4f}]; '
        f'{share_at_target:.1%} of resampled means reach {TARGET}')
  print(f'runs below 0.90: {int(failed.sum())} of {len(accuracy)}; mean of the others '
        f'{accuracy[~failed].mean():.4f}')

  table = []
  for name in sorted(os.listdir(os.path.join(HERE, 'runs'))):
    if not name.startswith('infogan_cpu_s'):
      continue
    run = results.load_run(os.path.join(HERE, 'runs', name))
    committed_config = run.config['train']['num_steps'] == 6000
    if run.eval and committed_config and 'code_conditional_entropy' in run.eval:
      table.append((run.eval['code_conditional_entropy'], run.eval['categorical_accuracy'], name))
  print('\nH[c|x] (nats)  accuracy  run   (sorted by H[c|x], a label-free statistic)')
  for entropy, acc, name in sorted(table):
    print(f'{entropy:13.3f}  {acc:8.4f}  {name}')


if __name__ == '__main__':
  main()
