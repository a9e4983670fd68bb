"""The tables results/*/README.md show, made from the committed files beside them.

  python -m genjax.readme_tables           # rewrites every table below in its README
  python -m genjax.readme_tables --check   # exit 1 naming each table its files no longer give

A table sits between `<!-- table:NAME -->` and `<!-- /table:NAME -->` in its README and nothing
between the markers is typed: it is made from results.csv / *.json / runs/*/ files by the function
NAME names in TABLES. tests/test_readme_tables.py checks each committed table equals what its files
give. (The study's tables in results/ablations come from genjax.report.)
"""
import argparse
import csv
import json
import os
import statistics
import sys

from genjax import report, results

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(REPO, 'results')


def markers(name):
  return f'<!-- table:{name} -->', f'<!-- /table:{name} -->'


def _md(header, rows):
  lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
  lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
  return '\n'.join(lines) + '\n'


def _csv(*parts):
  with open(os.path.join(RESULTS, *parts), newline='') as f:
    return list(csv.DictReader(f))


def _json(*parts):
  with open(os.path.join(RESULTS, *parts)) as f:
    return json.load(f)


def _num(value):
  """A CSV number as it reads best: 20.0 -> 20, 0.5486 -> 0.5486."""
  value = float(value)
  return str(int(value)) if value.is_integer() else repr(value)


# ---- results/iwae_mnist ------------------------------------------------------------------------

def iwae_mnist():
  rows = [[r['method'].upper(), r['k'], _num(r['epochs']), f"{float(r['nll']):.2f}",
           r['paper_nll_3280_epochs'], r['active_units'], f"{float(r['elbo']):.2f}",
           f"{float(r['iwae_bound']):.2f}", r['train_minutes']]
          for r in _csv('iwae_mnist', 'results.csv')]
  return _md(['method', 'k', 'epochs', 'test NLL (k=5000)', 'paper NLL (3280 epochs)',
              'active units', 'test ELBO', 'test L_k', 'train min'], rows)


# ---- results/adversarial -----------------------------------------------------------------------

def _adversarial(dataset):
  table = _csv('adversarial', dataset, 'results.csv')
  rows = [[r['run'], r['method'], f"{int(r['generator_steps']):,}", f"{int(r['critic_steps']):,}",
           _num(r['epochs']), r['batch_size'], r['train_minutes'], r['test_metric'],
           f"{_num(r['first_test_value'])} → {_num(r['last_test_value'])}"] for r in table]
  hardware = sorted({r['hardware'] for r in table})
  return _md(['run', 'method', 'generator steps', 'critic steps', 'epochs', 'batch', 'train min',
              'held-out metric (first eval → last)', 'value'], rows) + (
                  f'\nHardware (results.csv): {"; ".join(hardware)}.\n')


def adversarial_mnist():
  return _adversarial('mnist')


def adversarial_cifar10():
  return _adversarial('cifar10')


# ---- results/evaluation ------------------------------------------------------------------------

PAIRS = {'mnist_train_vs_mnist_test': 'MNIST train vs MNIST test',
         'fashion_test_vs_mnist_test': 'Fashion-MNIST test vs MNIST test'}
DISTANCES = ('fid', 'kid', 'precision', 'recall', 'density', 'coverage')


def _distances(result, space):
  fid, kid, *rest = (result[f'{m}_{space}'] for m in DISTANCES)
  return [f'{fid:.3g}', f'{kid:.4f}', *(f'{v:.3f}' for v in rest)]


def real_data_distances():
  result = _json('evaluation', 'real_data_distances.json')
  rows = [[label, *_distances(result[pair], 'mnist_classifier')] for pair, label in PAIRS.items()]
  return _md(['pair', 'FID', 'KID', 'precision', 'recall', 'density', 'coverage'], rows) + (
      f"\n{result['images_per_side']:,} images per side; hardware (JSON): {result['hardware']}.\n")


def real_data_distances_n1000():
  spaces = [('Inception', 'inception', _json('evaluation', 'real_data_distances_inception.json')),
            ('MNIST classifier', 'mnist_classifier',
             _json('evaluation', 'real_data_distances_n1000.json'))]
  rows = [[label, name, *_distances(result[pair], space)]
          for pair, label in PAIRS.items() for name, space, result in spaces]
  return _md(['pair', 'space', 'FID', 'KID', 'precision', 'recall', 'density', 'coverage'], rows)


def _vae_label(run):
  method, k = run.split('_')[:2]
  return f'{method.upper()} k={k[1:]}'


def vae_iwae_sample_quality():
  rows = [[_vae_label(r['run']), f"{float(r['nll']):.2f}",
           f"{float(r['fid_mnist_classifier']):.2f}",
           *(f"{float(r[f'{m}_mnist_classifier']):.3f}"
             for m in ('kid', 'precision', 'recall', 'coverage')),
           f"{float(r['classifier_score']):.2f}"]
          for r in _csv('evaluation', 'vae_iwae_sample_quality.csv')]
  return _md(['run', 'test NLL', 'FID', 'KID', 'precision', 'recall', 'coverage',
              'classifier score'], rows)


def mnist_sample_quality():
  rows = [[r['model'], r['budget'], f"{float(r['test_nll']):.2f}" if r['test_nll'] else '–',
           f"{float(r['fid']):.2f}",
           *(f"{float(r[m]):.3f}" for m in ('kid', 'precision', 'recall', 'density', 'coverage')),
           f"{float(r['classifier_score']):.2f}", r['class_histogram_min']]
          for r in _csv('evaluation', 'mnist_sample_quality.csv')]
  return _md(['model', 'budget', 'test NLL', 'FID', 'KID', 'precision', 'recall', 'density',
              'coverage', 'classifier score', 'smallest class share'], rows)


# ---- results/infogan_mnist ---------------------------------------------------------------------

def _infogan_runs():
  """The committed config's runs: (label, Run), the lent GPU's seeds first, then the CPU's."""
  runs_dir = os.path.join(RESULTS, 'infogan_mnist', 'runs')
  out = []
  for prefix, machine in (('infogan_s', 'H200'), ('infogan_cpu_s', 'CPU')):
    names = [n for n in os.listdir(runs_dir) if n.startswith(prefix) and n[len(prefix):].isdigit()]
    for name in sorted(names, key=lambda n: int(n[len(prefix):])):
      run = results.load_run(os.path.join(runs_dir, name))
      out.append((f'{machine} seed {run.config["seed"]}', run))
  return out


def infogan_runs():
  runs = _infogan_runs()
  rows = []
  for label, run in runs:
    ev = run.eval
    stats = [f"{ev[k]:.3f}" if k in ev else '' for k in ('code_conditional_entropy',
                                                         'code_mutual_information')]
    with open(os.path.join(run.workdir, 'hardware.txt')) as f:
      rows.append([label, f"{ev['categorical_accuracy']:.4f}", *stats, f.read().strip()])
  accuracy = [run.eval['categorical_accuracy'] for _, run in runs]
  paper = sorted({r['paper_categorical_accuracy'] for r in _csv('infogan_mnist', 'results.csv')})
  rows.append([f'all {len(runs)}', f'mean {statistics.mean(accuracy):.4f}, median '
               f'{statistics.median(accuracy):.4f}', '', '',
               f'paper (Chen et al. 2016, §7.1, results.csv): {", ".join(paper)}'])
  return _md(['run', 'categorical accuracy', 'H[c\\|x] (nats)', 'I(x; c) (nats)',
              'hardware (the run\'s hardware.txt)'], rows)


def _accuracy_at(run, steps):
  curve = dict(zip(*(a.tolist() for a in run.curve('test/categorical_accuracy'))))
  return [f'{curve[s]:.3f}' for s in steps]


def infogan_curves():
  steps = range(1000, 6001, 1000)
  rows = [[label, *_accuracy_at(run, steps)] for label, run in _infogan_runs()]
  return _md(['run', *(f'{s // 1000}k' for s in steps)], rows)


def infogan_longer():
  run = results.load_run(os.path.join(RESULTS, 'infogan_mnist', 'runs',
                                      'infogan_cpu_s1_12000_steps'))
  steps = range(7000, 12001, 1000)
  return _md([f'{s // 1000}k' for s in steps], [_accuracy_at(run, steps)])


def infogan_ablation():
  groups = {}
  for r in _csv('infogan_mnist', 'ablation.csv') + _csv('infogan_mnist', 'results.csv'):
    if r['steps'] == '6000' and r['hardware'].startswith('NVIDIA'):
      groups.setdefault((r['z_prior'], r['lambda_cont'], r['info_updates_trunk']), {})[
          int(r['seed'])] = float(r['categorical_accuracy'])
  rows = [[prior, lam, 'yes' if trunk == 'True' else 'no (Q head only)',
           ', '.join(str(s) for s in sorted(acc)), ', '.join(f'{acc[s]:.3f}' for s in sorted(acc))]
          for (prior, lam, trunk), acc in groups.items()]
  return _md(['z prior', 'λ_cont', 'MI updates D\'s trunk', 'seeds', 'categorical accuracy'], rows)


# ---- results/cifar10 ---------------------------------------------------------------------------

CIFAR_METHODS = {'dcgan': 'DCGAN', 'wgan': 'WGAN (clipping)', 'wgan_gp': 'WGAN-GP'}


def cifar10_gan():
  """One row per method of configs/sweeps/cifar10.py: ours where evaluated (results.csv),
  StudioGAN's FID beside it (the sweep manifest's references), the floor (real_floor.json) below."""
  manifest = _json('cifar10', 'runs', 'sweep.json')
  studiogan = {setting['method.name']: value
               for setting, value in manifest['references']['studiogan_fid']}
  rows_by_method = {}
  for r in _csv('cifar10', 'results.csv'):
    if r['status'].startswith('evaluated'):  # finished, or scored at an earlier checkpoint
      rows_by_method.setdefault(r['method'], []).append(r)
  rows, hardware = [], set()
  for method, label in CIFAR_METHODS.items():
    for r in rows_by_method.get(method, []):
      hardware.add(r['hardware'])
      steps = f"{int(r['step']):,}" + ('' if int(r['step']) == int(r['generator_steps'])
                                       else f" of {int(r['generator_steps']):,}")
      rows.append([label, steps, r['seed'],
                   f"{int(float(r['num_samples'])):,}", f"{float(r['fid_inception']):.2f}",
                   f"{float(r['kid_inception']):.4f}",
                   *(f"{float(r[f'{m}_inception']):.3f}" for m in DISTANCES[2:]),
                   f"{float(r['train_seconds']) / 3600:.1f}", _num(studiogan[method])])
    if method not in rows_by_method:
      rows.append([label, 'not yet run', '', '', '', '', '', '', '', '', '',
                   _num(studiogan[method])])
  floor = _json('cifar10', 'real_floor.json')
  rows.append(['floor: real training images', '', '', f"{floor['num_samples']:,}",
               *_distances(floor, 'inception'), '', ''])
  return _md(['method', 'generator steps', 'seed', 'samples', 'FID', 'KID', 'precision', 'recall',
              'density', 'coverage', 'train h', 'StudioGAN FID'], rows) + (
                  f'\nHardware (results.csv): {"; ".join(sorted(hardware)) or "none yet"}; '
                  f'floor (real_floor.json): {report.machine_label(floor["hardware"])}.\n')


TABLES = {
    'iwae_mnist': ('iwae_mnist/README.md', iwae_mnist),
    'adversarial_mnist': ('adversarial/README.md', adversarial_mnist),
    'adversarial_cifar10': ('adversarial/README.md', adversarial_cifar10),
    'real_data_distances': ('evaluation/README.md', real_data_distances),
    'real_data_distances_n1000': ('evaluation/README.md', real_data_distances_n1000),
    'vae_iwae_sample_quality': ('evaluation/README.md', vae_iwae_sample_quality),
    'mnist_sample_quality': ('evaluation/README.md', mnist_sample_quality),
    'infogan_runs': ('infogan_mnist/README.md', infogan_runs),
    'infogan_curves': ('infogan_mnist/README.md', infogan_curves),
    'infogan_longer': ('infogan_mnist/README.md', infogan_longer),
    'infogan_ablation': ('infogan_mnist/README.md', infogan_ablation),
    'cifar10_gan': ('cifar10/README.md', cifar10_gan),
}


def committed(name):
  """The table NAME as its README shows it (between its markers)."""
  begin, end = markers(name)
  with open(os.path.join(RESULTS, TABLES[name][0])) as f:
    text = f.read()
  if begin not in text or end not in text:
    raise ValueError(f'results/{TABLES[name][0]} has no {begin} ... {end}')
  return text.split(begin, 1)[1].split(end, 1)[0].strip('\n') + '\n'


def write(name):
  path = os.path.join(RESULTS, TABLES[name][0])
  begin, end = markers(name)
  committed(name)  # the markers are there
  with open(path) as f:
    head, rest = f.read().split(begin, 1)
  tail = rest.split(end, 1)[1]
  with open(path, 'w') as f:
    f.write(f'{head}{begin}\n{TABLES[name][1]()}{end}{tail}')


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--check', action='store_true', help='only compare; exit 1 on a difference')
  args = parser.parse_args(argv)
  stale = [name for name in TABLES if committed(name) != TABLES[name][1]()]
  if args.check:
    for name in stale:
      print(f'results/{TABLES[name][0]}: table {name} differs from what its files give')
    return 1 if stale else 0
  for name in stale:
    write(name)
    print(f'rewrote {name} in results/{TABLES[name][0]}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
