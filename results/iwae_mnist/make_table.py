"""Collects VAE/IWAE workdirs into results/iwae_mnist/results.csv and results.md.

  python results/iwae_mnist/make_table.py WORKDIR [WORKDIR ...]
"""
import csv
import os
import platform
import sys

from genjax import results

HERE = os.path.dirname(os.path.abspath(__file__))
# Burda et al. 2015, Table 1: test NLL, MNIST, one stochastic layer, 3280 epochs.
PAPER_NLL = {('vae', 1): 86.76, ('vae', 5): 86.47, ('vae', 50): 86.35,
             ('iwae', 1): 86.76, ('iwae', 5): 85.54, ('iwae', 50): 84.78}
COLUMNS = ['method', 'k', 'layers', 'epochs', 'seed', 'nll', 'active_units', 'elbo', 'iwae_bound',
           'batch_size', 'steps', 'train_minutes', 'nll_num_samples', 'paper_nll_3280_epochs',
           'hardware']


def hardware(workdir=None):
  """The run's own hardware.txt (runs made elsewhere, e.g. results/gpu), else this machine."""
  if workdir and os.path.exists(os.path.join(workdir, 'hardware.txt')):
    with open(os.path.join(workdir, 'hardware.txt')) as f:
      return f.read().strip()
  cpus = os.cpu_count()
  model = ''
  try:
    with open('/proc/cpuinfo') as f:
      model = next(l.split(':', 1)[1].strip() for l in f if l.startswith('model name'))
  except (OSError, StopIteration):
    model = platform.processor()
  return f'{cpus}-core CPU ({model})'


def row(workdir):
  run = results.load_run(workdir)
  config, ev = run.config, run.eval
  steps_per_epoch = 60000 // config['train']['batch_size']
  method, k = config['method']['name'], config['method']['k']
  return {
      'method': method, 'k': k, 'layers': config['model']['stochastic_layers'],
      'epochs': round(ev['step'] / steps_per_epoch, 2), 'seed': config['seed'],
      'nll': round(ev['nll'], 2), 'active_units': ev['active_units'],
      'elbo': round(ev['elbo'], 2), 'iwae_bound': round(ev['iwae_bound'], 2),
      'batch_size': config['train']['batch_size'], 'steps': ev['step'],
      'train_minutes': run.train_minutes(), 'nll_num_samples': ev['nll_num_samples'],
      'paper_nll_3280_epochs': PAPER_NLL.get((method, k), ''), 'hardware': hardware(workdir),
  }


def main(workdirs):
  rows = sorted((row(w) for w in workdirs if os.path.exists(os.path.join(w, 'eval.json'))),
                key=lambda r: (r['layers'], r['k'], r['method'] != 'vae', r['seed']))
  with open(os.path.join(HERE, 'results.csv'), 'w', newline='') as f:
    writer = csv.DictWriter(f, COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
  lines = ['| method | k | epochs | test NLL (k=5000) | paper NLL (3280 epochs) | active units | '
           'test ELBO | test L_k | train min |', '|---|---|---|---|---|---|---|---|---|']
  for r in rows:
    lines.append(f"| {r['method'].upper()} | {r['k']} | {r['epochs']} | {r['nll']:.2f} | "
                 f"{r['paper_nll_3280_epochs']} | {r['active_units']} | {r['elbo']:.2f} | "
                 f"{r['iwae_bound']:.2f} | {r['train_minutes']} |")
  with open(os.path.join(HERE, 'table.md'), 'w') as f:
    f.write('\n'.join(lines) + '\n')
  print('\n'.join(lines))


if __name__ == '__main__':
  main(sys.argv[1:])
