"""The readers of the original files: real data verified, broken files rejected by name."""
import gzip
import io
import os
import pickle
import shutil
import tarfile

import numpy as np
import pytest

from genjax.data import raw
from genjax.errors import DataError


def test_real_mnist_matches_published_facts(mnist_dir):
  images, labels = raw.read_mnist(mnist_dir, 'test')
  assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
  assert np.bincount(labels).tolist() == list(raw.MNIST_FACTS['test']['label_counts'])
  assert abs(images.mean() - 33.7912) < 1e-3


def _copy_mnist(mnist_dir, dest):
  for name in os.listdir(mnist_dir):
    shutil.copy(os.path.join(mnist_dir, name), dest / name)


def test_missing_file_is_named(mnist_dir, tmp_path):
  _copy_mnist(mnist_dir, tmp_path)
  os.remove(tmp_path / 't10k-labels-idx1-ubyte.gz')
  with pytest.raises(DataError, match='t10k-labels-idx1-ubyte'):
    raw.read_mnist(str(tmp_path), 'test')


def test_truncated_gzip_is_named(mnist_dir, tmp_path):
  _copy_mnist(mnist_dir, tmp_path)
  path = tmp_path / 't10k-images-idx3-ubyte.gz'
  path.write_bytes(path.read_bytes()[:50000])
  with pytest.raises(DataError, match='t10k-images-idx3-ubyte.gz.*(corrupt|truncated)'):
    raw.read_mnist(str(tmp_path), 'test')


def test_truncated_uncompressed_idx_is_named(mnist_dir, tmp_path):
  _copy_mnist(mnist_dir, tmp_path)
  data = gzip.decompress((tmp_path / 't10k-images-idx3-ubyte.gz').read_bytes())
  os.remove(tmp_path / 't10k-images-idx3-ubyte.gz')
  (tmp_path / 't10k-images-idx3-ubyte').write_bytes(data[:-784])
  with pytest.raises(DataError, match='t10k-images-idx3-ubyte.*truncated'):
    raw.read_mnist(str(tmp_path), 'test')


def test_swapped_files_fail_verification(mnist_dir, tmp_path):
  """Train images under the test name: a well-formed file of the wrong content."""
  _copy_mnist(mnist_dir, tmp_path)
  shutil.copy(tmp_path / 'train-labels-idx1-ubyte.gz', tmp_path / 't10k-labels-idx1-ubyte.gz')
  with pytest.raises(DataError, match='expected 10000'):
    raw.read_mnist(str(tmp_path), 'test')


def test_flipped_pixels_fail_the_mean_check(mnist_dir, tmp_path):
  _copy_mnist(mnist_dir, tmp_path)
  path = tmp_path / 't10k-images-idx3-ubyte.gz'
  data = bytearray(gzip.decompress(path.read_bytes()))
  data[16:16 + 784 * 100] = bytes(255 - b for b in data[16:16 + 784 * 100])
  path.write_bytes(gzip.compress(bytes(data)))
  with pytest.raises(DataError, match='mean pixel'):
    raw.read_mnist(str(tmp_path), 'test')


def test_missing_directory_is_named(tmp_path):
  with pytest.raises(DataError, match='nowhere.*does not exist'):
    raw.read_mnist(str(tmp_path / 'nowhere'), 'train')


def test_cifar_binary_and_python_archives_agree(cifar_dir, tmp_path):
  images, labels = raw.read_cifar10(cifar_dir, 'test')
  assert images.shape == (10000, 32, 32, 3)
  assert np.bincount(labels).tolist() == [1000] * 10
  # The python-pickle distribution of the same test batch, written here from the binary one.
  blob = pickle.dumps({b'data': images.transpose(0, 3, 1, 2).reshape(10000, 3072),
                       b'labels': labels.tolist()})
  with tarfile.open(tmp_path / 'cifar-10-python.tar.gz', 'w:gz') as tar:
    info = tarfile.TarInfo('cifar-10-batches-py/test_batch')
    info.size = len(blob)
    tar.addfile(info, io.BytesIO(blob))
  images2, labels2 = raw.read_cifar10(str(tmp_path), 'test')
  np.testing.assert_array_equal(images, images2)
  np.testing.assert_array_equal(labels, labels2)


def test_cifar_truncated_archive_is_named(cifar_dir, tmp_path):
  src = os.path.join(cifar_dir, 'cifar-10-binary.tar.gz')
  with open(src, 'rb') as f:
    (tmp_path / 'cifar-10-binary.tar.gz').write_bytes(f.read(20_000_000))
  with pytest.raises(DataError, match='cifar-10-binary.tar.gz'):
    raw.read_cifar10(str(tmp_path), 'test')


def test_cifar_extracted_folder(cifar_dir, tmp_path):
  with tarfile.open(os.path.join(cifar_dir, 'cifar-10-binary.tar.gz')) as tar:
    member = tar.getmember('cifar-10-batches-bin/test_batch.bin')
    (tmp_path / 'cifar-10-batches-bin').mkdir()
    (tmp_path / 'cifar-10-batches-bin' / 'test_batch.bin').write_bytes(
        tar.extractfile(member).read())
  images, labels = raw.read_cifar10(str(tmp_path), 'test')
  assert images.shape == (10000, 32, 32, 3) and np.bincount(labels).tolist() == [1000] * 10
  # one record short: a clear error naming the file
  path = tmp_path / 'cifar-10-batches-bin' / 'test_batch.bin'
  path.write_bytes(path.read_bytes()[:-3073])
  with pytest.raises(DataError, match='expected 10000'):
    raw.read_cifar10(str(tmp_path), 'test')
