"""One table of MNIST sample quality for every generative model that has runs: the GAN family
(eval.json written by launch/evaluate.py) and VAE/IWAE (vae_iwae_sample_quality.csv), all in the
MNIST classifier's feature space, 10k samples against the 10k test digits.

  bash results/evaluation/run_gan_family_mnist.sh 0 ../shared/data/mnist /tmp/genjax_runs/gan_family_mnist
  for r in /tmp/genjax_runs/gan_family_mnist/*; do python launch/evaluate.py --workdir=$r; done
  python results/evaluation/make_sample_quality_table.py --gan_runs=/tmp/genjax_runs/gan_family_mnist

A GAN run missing from --gan_runs keeps its committed row (re-run one model, keep the others).

Writes results/evaluation/mnist_sample_quality.csv and .md.
"""
import argparse
import csv
import json
import os
import types

from genjax import report

HERE = os.path.dirname(os.path.abspath(__file__))
METRICS = ['fid', 'kid', 'precision', 'recall', 'density', 'coverage']
GAN_RUNS = ['gan_mnist_s0', 'dcgan_mnist_s0', 'wgan_mnist_s0', 'wgan_gp_mnist_s0']


def committed_rows():
  path = os.path.join(HERE, 'mnist_sample_quality.csv')
  if not os.path.exists(path):
    return {}
  with open(path, newline='') as f:
    return {r['run']: r for r in csv.DictReader(f)}


def run_hardware(workdir):
  """The run's own record of its machine: hardware.txt, else hardware.json (what training writes)."""
  if os.path.exists(os.path.join(workdir, 'hardware.txt')):
    with open(os.path.join(workdir, 'hardware.txt')) as f:
      return f.read().strip()
  return report.hardware_label(types.SimpleNamespace(workdir=workdir))


def iwae_hardware():
  """{run: hardware} from results/iwae_mnist/results.csv, the table of the VAE/IWAE runs."""
  with open(os.path.join(HERE, '..', 'iwae_mnist', 'results.csv'), newline='') as f:
    return {f"{r['method']}_k{r['k']}_l{r['layers']}_e20_s{r['seed']}": r['hardware']
            for r in csv.DictReader(f)}


def gan_rows(runs_dir):
  """A row per GAN run from its workdir in runs_dir; a run not there (not re-run) keeps its
  committed row."""
  rows, committed = [], committed_rows()
  for run in GAN_RUNS:
    if not os.path.exists(os.path.join(runs_dir, run, 'eval.json')):
      if run not in committed:
        raise SystemExit(f'{run}: no {runs_dir}/{run}/eval.json and no committed row')
      print(f'{run}: not in {runs_dir}, keeping its committed row')
      rows.append(committed[run])
      continue
    with open(os.path.join(runs_dir, run, 'eval.json')) as f:
      result = json.load(f)
    with open(os.path.join(runs_dir, run, 'config.json')) as f:
      config = json.load(f)
    assert result['step'] == config['train']['num_steps'], f'{run}: evaluate the last checkpoint'
    assert result['num_samples'] == 10000 and result['eval_protocol'] == 'test', run
    row = {'model': config['method']['name'], 'run': run, 'budget': (
        f"{result['step']} generator steps, batch {config['train']['batch_size']}, "
        f"n_critic {config['method']['n_critic']}"), 'seed': config['seed'],
        'test_nll': '', 'hardware': run_hardware(os.path.join(runs_dir, run))}
    row.update({m: round(result[f'{m}_mnist_classifier'], 4) for m in METRICS})
    row['classifier_score'] = round(result['classifier_score'], 3)
    row['class_histogram_min'] = min(result['class_histogram'])
    row['num_samples'] = result['num_samples']
    rows.append(row)
  return rows


def vae_rows():
  rows, hardware = [], iwae_hardware()
  with open(os.path.join(HERE, 'vae_iwae_sample_quality.csv')) as f:
    for r in csv.DictReader(f):
      method, k = r['run'].split('_')[:2]
      row = {'model': f'{method} {k.replace("k", "k=")}', 'run': r['run'],
             'budget': '20 epochs (60000 steps, batch 20)', 'seed': 0, 'test_nll': r['nll'],
             'hardware': hardware[r['run']]}
      row.update({m: round(float(r[f'{m}_mnist_classifier']), 4) for m in METRICS})
      row['classifier_score'] = round(float(r['classifier_score']), 3)
      row['class_histogram_min'] = min(json.loads(r['class_histogram']))
      row['num_samples'] = int(r['num_samples'])
      rows.append(row)
  return rows


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument('--gan_runs', required=True)
  args = parser.parse_args()
  rows = gan_rows(args.gan_runs) + vae_rows()
  fields = ['model', 'run', 'budget', 'seed', 'test_nll', *METRICS, 'classifier_score',
            'class_histogram_min', 'num_samples', 'hardware']
  with open(os.path.join(HERE, 'mnist_sample_quality.csv'), 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
  shown = ['model', 'budget', 'test_nll', *METRICS, 'classifier_score', 'class_histogram_min']
  lines = ['| ' + ' | '.join(shown) + ' |', '|' + '---|' * len(shown)]
  lines += ['| ' + ' | '.join(str(r[c]) for c in shown) + ' |' for r in rows]
  with open(os.path.join(HERE, 'mnist_sample_quality.md'), 'w') as f:
    f.write('\n'.join(lines) + '\n')
  print('\n'.join(lines))


if __name__ == '__main__':
  main()
