"""Collects evaluated InfoGAN workdirs into a CSV and a markdown table.

  python results/infogan_mnist/make_table.py results.csv WORKDIR [WORKDIR ...]
  python results/infogan_mnist/make_table.py ablation.csv WORKDIR [WORKDIR ...]
"""
import csv
import os
import sys

from genjax import results

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'iwae_mnist'))
from make_table import hardware  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
COLUMNS = ['method', 'seed', 'z_prior', 'lambda_cont', 'info_updates_trunk', 'steps', 'epochs',
           'batch_size', 'categorical_accuracy', 'paper_categorical_accuracy',
           'num_test_examples', 'hardware']


def row(workdir):
  run = results.load_run(workdir)
  config, ev = run.config, run.eval
  batch, method = config['train']['batch_size'], config['method']
  return {'method': 'infogan', 'seed': config['seed'],
          'z_prior': config['model'].get('z_prior', 'normal'),
          'lambda_cont': method['lambda_cont'],
          'info_updates_trunk': method.get('info_updates_trunk', True), 'steps': ev['step'],
          'epochs': round(ev['step'] * batch / 60000, 2), 'batch_size': batch,
          'categorical_accuracy': round(ev['categorical_accuracy'], 4),
          # Chen et al. 2016, section 7.1: 5% error classifying MNIST with the categorical code
          'paper_categorical_accuracy': 0.95, 'num_test_examples': ev['num_test_examples'],
          'hardware': hardware(workdir)}


def main(out_name, workdirs):
  rows = sorted((row(w) for w in workdirs),
                key=lambda r: (r['z_prior'], r['lambda_cont'], r['info_updates_trunk'],
                               r['hardware'], r['seed']))
  with open(os.path.join(HERE, out_name), 'w', newline='') as f:
    writer = csv.DictWriter(f, COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
  with open(os.path.join(HERE, out_name.replace('.csv', '.md')), 'w') as f:
    f.write('| ' + ' | '.join(COLUMNS) + ' |\n|' + '---|' * len(COLUMNS) + '\n')
    for r in rows:
      f.write('| ' + ' | '.join(str(r[c]) for c in COLUMNS) + ' |\n')
  for r in rows:
    print(r)


if __name__ == '__main__':
  main(sys.argv[1], sys.argv[2:])
