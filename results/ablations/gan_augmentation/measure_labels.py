"""Writes label_preservation.json and .md here: the MNIST classifier's accuracy on the 10,000
test digits under each augmentation of the ablation, and under flips (which it does not use).

  python results/ablations/gan_augmentation/measure_labels.py [MNIST_DIR]
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from genjax.analysis import label_preservation as lp  # noqa: E402
from genjax.data import raw  # noqa: E402


def main(mnist_dir):
  images, labels = raw.read_mnist(mnist_dir, 'test')
  x = (np.asarray(images, np.float32) / 127.5 - 1.0).reshape(-1, 28, 28, 1)
  result = lp.label_preservation(x, labels, lp.transforms(), jax.random.key(0))
  with open(os.path.join(HERE, 'label_preservation.json'), 'w') as f:
    json.dump(result, f, indent=2)
  lines = ['| transform | accuracy | ' + ' | '.join(str(c) for c in range(10)) + ' |',
           '|---|---|' + '---|' * 10]
  for name, r in result.items():
    lines.append(f'| {name} | {r["accuracy"]:.3f} | '
                 + ' | '.join(f'{a:.2f}' for a in r['per_class']) + ' |')
  with open(os.path.join(HERE, 'label_preservation.md'), 'w') as f:
    f.write('\n'.join(lines) + '\n')
  print('\n'.join(lines))


if __name__ == '__main__':
  main(sys.argv[1] if len(sys.argv) > 1 else '../shared/data/mnist')
