"""The table of results/analysis/README.md, from the numbers launch/plot.py wrote beside each
figure (OUT/<run>/<figure>.json) and each run's config.json and hardware.json:

  python results/analysis/summarize.py RUNS_DIR results/analysis

Writes OUT/table.md and puts it between the README's report markers.
"""
import json
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from genjax import report  # noqa: E402

RUNS = ('vae', 'vae_2d', 'iwae_k50', 'gan', 'dcgan', 'wgan', 'wgan_gp', 'infogan',
        'dcgan_slow_discriminator', 'dcgan_then_slow_discriminator')
COLUMNS = ('run', 'method', 'latent', 'steps', 't-SNE kNN-10 (labels)', 'PCA kNN-10 (labels)',
           '2-D latent kNN-10', 't-SNE kNN-10 real vs generated', 'classes reached',
           'largest class share', 'class entropy (nats)', 'NN distance samples/test',
           'hardware')


def _load(path):
  if not os.path.isfile(path):
    return {}
  with open(path) as f:
    return json.load(f)


def _fmt(value, digits=3):
  if value is None or value == '':
    return ''
  if isinstance(value, float):
    return f'{value:.{digits}f}'
  return str(value)


def row(runs_dir, out, name):
  figures = os.path.join(out, name)
  config = _load(os.path.join(runs_dir, name, 'config.json'))
  tsne, pca = _load(os.path.join(figures, 'tsne.json')), _load(os.path.join(figures, 'pca.json'))
  manifold = _load(os.path.join(figures, 'manifold.json'))
  neighbors = _load(os.path.join(figures, 'neighbors.json'))
  method = config.get('method', {}).get('name', '')
  if method in ('vae', 'iwae'):
    latent = config['model'].get('latent_dim') or 50
    method = f"{method} k={config['method']['k']}"
  else:
    latent = config.get('model', {}).get('z_dim', '')
  return {
      'run': name, 'method': method, 'latent': latent,
      'steps': tsne.get('step', config.get('train', {}).get('num_steps', '')),
      't-SNE kNN-10 (labels)': tsne.get('knn10_accuracy'),
      'PCA kNN-10 (labels)': pca.get('knn10_accuracy'),
      '2-D latent kNN-10': manifold.get('knn10_accuracy_latent'),
      't-SNE kNN-10 real vs generated': tsne.get('knn10_real_vs_generated'),
      'classes reached': tsne.get('classes_covered'),
      'largest class share': tsne.get('max_class_share'),
      'class entropy (nats)': tsne.get('class_entropy'),
      'NN distance samples/test': neighbors.get('nn_distance_ratio_samples_over_test'),
      'hardware': report.hardware_label(types.SimpleNamespace(
          workdir=os.path.join(runs_dir, name))),
  }


def main(runs_dir, out):
  rows = [row(runs_dir, out, name) for name in RUNS if os.path.isdir(os.path.join(out, name))]
  lines = ['| ' + ' | '.join(COLUMNS) + ' |', '|' + '---|' * len(COLUMNS)]
  for r in rows:
    lines.append('| ' + ' | '.join(_fmt(r[c]) for c in COLUMNS) + ' |')
  table = '\n'.join(lines) + '\n'
  with open(os.path.join(out, 'table.md'), 'w') as f:
    f.write(table)
  report.update_readme(os.path.join(out, 'README.md'), table)
  print(table)


if __name__ == '__main__':
  main(*sys.argv[1:3])
