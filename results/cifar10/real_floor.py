"""The floor of the CIFAR-10 table: the first --num training images of the approximate CIFAR-10
scored as if they were samples, against the test split, with the settings the GAN runs are
scored with (configs/sweeps/cifar10.py: Inception FID / KID / precision / recall / density /
coverage, 10,000 images against the 10,000 test images). A generator that reproduced the
training distribution exactly would score about this; no run can be expected below it.

  GENJAX_DATA_DIR=../shared/data/cifar10-approx python results/cifar10/real_floor.py
      # -> results/cifar10/real_floor.json; ~35 min of Inception features per 10,000 images on
      # this project's 2-core CPU, plus ~35 min for the test split's statistics unless cached

--num and --num_reference exist for a quick check of the path (e.g. --num=32 --num_reference=32).
"""
import json
import os
import sys
import tempfile
import time

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

FLAGS = flags.FLAGS
flags.DEFINE_string('cifar_dir', None, 'The CIFAR-10 files (default: $GENJAX_DATA_DIR).')
flags.DEFINE_integer('num', 10000, 'Training images scored (the first ones of the split).')
flags.DEFINE_integer('num_reference', None, 'Test images (default: the whole split).')
flags.DEFINE_integer('kid_subset_size', 1000, 'KID subset size.')
flags.DEFINE_string('out', os.path.join(ROOT, 'results', 'cifar10', 'real_floor.json'),
                    'Where the JSON goes.')


def main(argv):
  del argv
  import numpy as np

  from genjax import evaluate, train
  from genjax.data import loading
  from genjax.errors import GenjaxError
  try:
    images, _ = loading.load_split('cifar10', 'train', FLAGS.cifar_dir)
    if not 0 < FLAGS.num <= len(images):
      raise GenjaxError(f'--num={FLAGS.num}: choose 1 to {len(images)} training images.')
    overrides = {'num_reference': FLAGS.num_reference}
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
      path = os.path.join(tmp, 'train.npz')
      np.savez(path, images=images[:FLAGS.num])
      result = evaluate.evaluate_images(path, FLAGS.cifar_dir, None, dataset='cifar10',
                                        kid_subset_size=min(FLAGS.kid_subset_size, FLAGS.num),
                                        eval_overrides=overrides)
  except GenjaxError as e:
    sys.exit(f'error: {e}')
  result['images'] = f'the first {FLAGS.num} training images of the approximate CIFAR-10'
  result['seconds'] = time.time() - started
  result['hardware'] = train.hardware()
  os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
  with open(FLAGS.out, 'w') as f:
    json.dump(result, f, indent=1, default=float)
  print({k: v for k, v in result.items() if k.startswith(('fid', 'kid', 'precision', 'recall'))})


if __name__ == '__main__':
  app.run(main)
