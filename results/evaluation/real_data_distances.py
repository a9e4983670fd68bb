"""The scale of the MNIST sample-quality metrics: real against real, in the MNIST classifier's
or the FID Inception's feature space (genjax/metrics/sample_quality.py).

  sudo apt-get install dataset-fashion-mnist   # Debian: the four original Fashion-MNIST files
  python results/evaluation/real_data_distances.py --mnist_dir=../shared/data/mnist \
    --fashion_dir=/usr/share/datasets/fashion-mnist      # -> real_data_distances.json
  python results/evaluation/real_data_distances.py --mnist_dir=../shared/data/mnist \
    --fashion_dir=/usr/share/datasets/fashion-mnist --features=inception \
    --inception_weights=FILE --num=1000 --kid_subset_size=500
    # -> real_data_distances_inception.json; the same in the classifier's space at 1000 images:
    # --num=1000 --kid_subset_size=500 --out=results/evaluation/real_data_distances_n1000.json

Pairs (the first --num images of each set): MNIST train vs MNIST test — the floor a perfect
generator would reach at this sample count; Fashion-MNIST test vs MNIST test — a large, known
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
flags.DEFINE_enum('features', 'mnist_classifier', ['mnist_classifier', 'inception'],
                  'The feature network.')
flags.DEFINE_string('inception_weights', None, 'With --features=inception: the converted file.')
flags.DEFINE_integer('kid_subset_size', 1000, 'KID subset size (at most --num).')
flags.DEFINE_string('out', None, 'Where the JSON goes (default: beside this script).')
flags.mark_flags_as_required(['mnist_dir', 'fashion_dir'])


def main(argv):
  del argv
  import platform

  import numpy as np

  from genjax.data import raw
  from genjax.metrics import sample_quality
  n = FLAGS.num
  unit = lambda a: np.asarray(a[:n], np.float32).reshape(-1, 28, 28, 1) / 255.0
  sets = {'mnist_train': unit(raw.read_mnist(FLAGS.mnist_dir, 'train')[0]),
          'mnist_test': unit(raw.read_mnist(FLAGS.mnist_dir, 'test')[0]),
          'fashion_test': unit(raw.read_idx(os.path.join(FLAGS.fashion_dir,
                                                         't10k-images-idx3-ubyte.gz')))}
  if FLAGS.features == 'inception':
    network = sample_quality.inception_network(FLAGS.inception_weights, batch_size=50)
  else:
    network = sample_quality.mnist_classifier_network()
  summaries, seconds = {}, {}
  for name, images in sets.items():  # each set through the network once
    t0 = time.time()
    summaries[name] = sample_quality.summarize(network, [images], n, keep=n)
    seconds[name] = round(time.time() - t0, 1)
    print(f'{name}: {n} images, {seconds[name]} s ({n / seconds[name]:.1f} images/s)')
  suffix = '' if FLAGS.features == 'mnist_classifier' else '_' + FLAGS.features
  command = ('python results/evaluation/real_data_distances.py --mnist_dir=../shared/data/mnist '
             '--fashion_dir=/usr/share/datasets/fashion-mnist')
  if FLAGS.features != 'mnist_classifier':
    command += f' --features={FLAGS.features} --inception_weights=FILE'
  if n != 10000 or FLAGS.kid_subset_size != 1000:
    command += f' --num={n} --kid_subset_size={FLAGS.kid_subset_size}'
  if FLAGS.out:
    command += f' --out={os.path.relpath(FLAGS.out)}'

  out = {'feature_space': network.description, 'images_per_side': n, 'command': command,
         'feature_seconds': seconds,
         'hardware': f'{os.cpu_count()}-core {platform.machine()} CPU (this project\'s machine)'}
  for fake, real in (('mnist_train', 'mnist_test'), ('fashion_test', 'mnist_test')):
    name = f'{fake}_vs_{real}'
    out[name] = sample_quality.compare(network, summaries[real], summaries[fake],
                                       kid_subset_size=FLAGS.kid_subset_size)
    print(name, {k: v for k, v in out[name].items() if network.name in k})
  path = FLAGS.out or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   f'real_data_distances{suffix}.json')
  with open(path, 'w') as f:
    json.dump(out, f, indent=2)


if __name__ == '__main__':
  app.run(main)
