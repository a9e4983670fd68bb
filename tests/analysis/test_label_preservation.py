"""The classifier-accuracy probe of augmentations, on real MNIST test digits."""
import jax
import numpy as np

from genjax.analysis import label_preservation as lp


def test_clean_digits_are_read_and_mirrored_ones_lose_their_meaning(mnist_raw):
  images, labels = mnist_raw['test']
  x = np.asarray(images[:1000], np.float32) / 127.5 - 1.0
  x = x.reshape(-1, 28, 28, 1)
  y = np.asarray(labels[:1000])
  result = lp.label_preservation(x, y, lp.transforms(), jax.random.key(0))
  assert result['none']['accuracy'] > 0.98
  # 0, 1 and 8 are nearly mirror-symmetric; 2, 3, 4, 7 are not
  flipped = result['horizontal flip']['per_class']
  assert min(flipped[c] for c in (0, 1, 8)) > max(flipped[c] for c in (2, 3, 4, 7))
  assert result['horizontal flip']['accuracy'] < result['none']['accuracy'] - 0.2
  # the per-class numbers are the overall one, weighted by the class counts
  counts = np.bincount(y, minlength=10)
  for r in result.values():
    assert abs(np.dot(r['per_class'], counts) / counts.sum() - r['accuracy']) < 1e-9
