"""The scale of the MNIST sample-quality metrics: real against real, in the MNIST classifier's
feature space (genjax/metrics/sample_quality.py). Writes results/evaluation/real_data_distances.json.

  sudo apt-get install dataset-fashion-mnist   # Debian: the four original Fashion-MNIST files
  python results/evaluation/real_data_distances.py --mnist_dir=../shared/data/mnist \
    --fashion_dir=/usr/share/datasets/fashion-mnist

Pairs (10,000 images each): MNIST train (first 10k) vs MNIST test — the floor a perfect
generator would reach at this sample count; MNIST test vs Fashion-MNIST test — a large, known
distance.
"""
import json
import os
import sys
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

FLAGS = flags.FLAGS
flags.DEFINE_string('mnist_dir', None, 'Directory of the original MNIST files.')
flags.DEFINE_string('fashion_dir', None, 'Directory of the original Fashion-MNIST files.')
flags.DEFINE_integer('num', 10000, 'Images per side.')
flags.DEFINE_string('out', os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        'real_data_distances.json'), 'Where the JSON goes.')
flags.mark_flags_as_required(['mnist_dir', 'fashion_dir'])


def main(argv):
  del argv
  import numpy as np

  from genjax.data import raw
  from genjax.metrics import sample_quality
  n = FLAGS.num
  unit = lambda a: np.asarray(a[:n], np.float32)[..., None] / 255.0
  mnist_train = unit(raw.read_mnist(FLAGS.mnist_dir, 'train')[0])
  mnist_test = unit(raw.read_mnist(FLAGS.mnist_dir, 'test')[0])
  fashion_test = unit(raw.read_idx(os.path.join(FLAGS.fashion_dir, 't10k-images-idx3-ubyte.gz')))
  pairs = {'mnist_train_vs_mnist_test': (mnist_train, mnist_test),
           'fashion_test_vs_mnist_test': (fashion_test, mnist_test)}
  out = {'feature_space': 'mnist_classifier', 'images_per_side': n,
         'command': 'python results/evaluation/real_data_distances.py '
                    '--mnist_dir=../shared/data/mnist '
                    '--fashion_dir=/usr/share/datasets/fashion-mnist'}
  for name, (samples, real) in pairs.items():
    t0 = time.time()
    out[name] = sample_quality.mnist_metrics(samples, real)
    out[name]['seconds'] = round(time.time() - t0, 1)
    print(name, {k: v for k, v in out[name].items() if 'mnist_classifier' in k})
  with open(FLAGS.out, 'w') as f:
    json.dump(out, f, indent=2)


if __name__ == '__main__':
  app.run(main)
