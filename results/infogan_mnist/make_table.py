"""Collects InfoGAN workdirs (evaluated by launch/evaluate.py) into results.csv.

  python results/infogan_mnist/make_table.py WORKDIR [WORKDIR ...]
"""
import csv
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'iwae_mnist'))
from make_table import hardware  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
COLUMNS = ['method', 'seed', 'steps', 'epochs', 'batch_size', 'categorical_accuracy',
           'paper_categorical_accuracy', 'num_test_examples', 'hardware']


def row(workdir):
  with open(os.path.join(workdir, 'config.json')) as f:
    config = json.load(f)
  with open(os.path.join(workdir, 'eval.json')) as f:
    ev = json.load(f)
  batch = config['train']['batch_size']
  return {'method': 'infogan', 'seed': config['seed'], 'steps': ev['step'],
          'epochs': round(ev['step'] * batch / 60000, 2), 'batch_size': batch,
          'categorical_accuracy': round(ev['categorical_accuracy'], 4),
          'paper_categorical_accuracy': 0.95, 'num_test_examples': ev['num_test_examples'],
          'hardware': hardware()}


if __name__ == '__main__':
  rows = sorted((row(w) for w in sys.argv[1:]), key=lambda r: r['seed'])
  with open(os.path.join(HERE, 'results.csv'), 'w', newline='') as f:
    writer = csv.DictWriter(f, COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
  for r in rows:
    print(r)
