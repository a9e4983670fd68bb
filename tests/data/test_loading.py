"""MNIST and CIFAR-10 through TFDS, prepared offline from the original files."""
import os

import numpy as np
import pytest

from genjax.data import load_split, loading
from genjax.errors import DataError


@pytest.mark.slow  # prepares MNIST through TFDS
def test_mnist_through_tfds_is_the_real_mnist(mnist_arrays):
  images, labels = mnist_arrays['train']
  assert images.shape == (60000, 28, 28, 1) and images.dtype == np.uint8
  assert abs(images.mean() - 33.3184) < 1e-3
  assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
                                          5949]


@pytest.mark.slow  # prepares MNIST through TFDS
def test_source_dir_from_environment(mnist_dir, tfds_dir, monkeypatch, mnist_arrays):
  monkeypatch.setenv(loading.SOURCE_DIR_ENV, mnist_dir)
  images, _ = load_split('mnist', 'test', None, tfds_dir)
  np.testing.assert_array_equal(images, mnist_arrays['test'][0])


def test_missing_source_dir_is_one_clear_error(tmp_path):
  with pytest.raises(DataError, match='nowhere'):
    load_split('mnist', 'train', str(tmp_path / 'nowhere'), str(tmp_path / 'tfds'))


def test_corrupt_file_is_named_before_tfds_writes_anything(mnist_dir, tmp_path):
  src = tmp_path / 'src'
  src.mkdir()
  for name in os.listdir(mnist_dir):
    (src / name).write_bytes((open(os.path.join(mnist_dir, name), 'rb').read()))
  bad = src / 'train-images-idx3-ubyte.gz'
  bad.write_bytes(bad.read_bytes()[:1000])
  with pytest.raises(DataError, match='train-images-idx3-ubyte.gz'):
    load_split('mnist', 'train', str(src), str(tmp_path / 'tfds'))
  assert not (tmp_path / 'tfds' / 'mnist_from_files' / '1.0.0').exists()


def test_unknown_dataset():
  with pytest.raises(DataError, match='Unknown dataset'):
    load_split('mnits', 'train')


@pytest.mark.slow
def test_cifar10_through_tfds(cifar_dir, tfds_dir):
  images, labels = load_split('cifar10', 'test', cifar_dir, tfds_dir)
  assert images.shape == (10000, 32, 32, 3) and images.dtype == np.uint8
  assert np.bincount(labels).tolist() == [1000] * 10
