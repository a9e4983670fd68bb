"""Sample quality of the committed VAE/IWAE runs (results/iwae_mnist) in the MNIST classifier's
feature space, beside their test NLL. Writes results/evaluation/vae_iwae_sample_quality.csv.

  python results/evaluation/vae_iwae_sample_quality.py --runs_dir=/tmp/genjax_runs/iwae_mnist \
    --mnist_dir=../shared/data/mnist

Samples: 10,000 ancestral samples per run, shown as pixel means of p(x | h) (as in the sample
grids), against the first 10,000 grey-level MNIST test images. Needs the runs' checkpoints
(`bash results/iwae_mnist/run.sh` makes them).
"""
import csv
import json
import os
import sys

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

FLAGS = flags.FLAGS
flags.DEFINE_string('runs_dir', None, 'Directory holding the runs of results/iwae_mnist.')
flags.DEFINE_string('mnist_dir', None, 'Directory of the original MNIST files.')
flags.DEFINE_integer('num_samples', 10000, 'Samples per run.')
flags.mark_flags_as_required(['runs_dir', 'mnist_dir'])
RUNS = [f'{m}_k{k}_l1_e20_s0' for k in (1, 5, 50) for m in ('vae', 'iwae')]
KEYS = ['fid_mnist_classifier', 'kid_mnist_classifier', 'precision_mnist_classifier',
        'recall_mnist_classifier', 'density_mnist_classifier', 'coverage_mnist_classifier',
        'classifier_score']


def main(argv):
  del argv
  import jax
  import numpy as np

  from genjax import evaluate
  from genjax.data import raw
  from genjax.metrics import sample_quality
  test, _ = raw.read_mnist(FLAGS.mnist_dir, 'test')
  n = FLAGS.num_samples
  real = np.asarray(test[:n], np.float32)[..., None] / 255.0
  rows = []
  for name in RUNS:
    workdir = os.path.join(FLAGS.runs_dir, name)
    experiment, state = evaluate.restore_run(workdir, FLAGS.mnist_dir)
    key = jax.random.fold_in(experiment.keys['eval'], 3)
    means = experiment.model.apply({'params': state.params}, key, n, method='sample')
    result = sample_quality.mnist_metrics(np.asarray(means).reshape(n, 28, 28, 1), real)
    with open(os.path.join(ROOT, 'results', 'iwae_mnist', 'runs', name, 'eval.json')) as f:
      nll = json.load(f)['nll']
    rows.append({'run': name, 'step': int(state.step), 'nll': round(nll, 2),
                 **{k: round(result[k], 4) for k in KEYS},
                 'class_histogram': result['class_histogram'], 'num_samples': n})
    print(rows[-1])
  path = os.path.join(ROOT, 'results', 'evaluation', 'vae_iwae_sample_quality.csv')
  with open(path, 'w', newline='') as f:
    writer = csv.DictWriter(f, list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)


if __name__ == '__main__':
  app.run(main)
