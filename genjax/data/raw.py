"""Readers for the original distribution files of MNIST and CIFAR-10, with verification.

These are what the offline path prepares TFDS datasets from. Every failure names the file and
says how to supply a good one; nothing here ever falls back to other data.
"""
import gzip
import hashlib
import os
import pickle
import tarfile
import zlib

import numpy as np

from genjax.errors import DataError

MNIST_FILES = {
    'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
}
# Facts of the real MNIST (LeCun et al.), used to verify what was read.
MNIST_FACTS = {
    'train': dict(count=60000, mean_pixel=33.3184,
                  label_counts=(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)),
    'test': dict(count=10000, mean_pixel=33.7912,
                 label_counts=(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)),
}
# CIFAR-10: 5000 / 1000 images per class; the per-channel train mean of the real set. A close
# copy (e.g. re-encoded pixels) is accepted within the tolerance below, wrong data is not.
CIFAR10_FACTS = {
    'train': dict(count=50000, label_counts=(5000,) * 10),
    'test': dict(count=10000, label_counts=(1000,) * 10),
}
CIFAR10_TRAIN_MEAN = (125.307, 122.950, 113.865)
CIFAR10_MEAN_TOLERANCE = 0.5
MNIST_MEAN_TOLERANCE = 1e-3

MNIST_NEEDS = ('the four original MNIST files (train-images-idx3-ubyte, train-labels-idx1-ubyte, '
               't10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; .gz or not)')
MNIST_HOW_TO = (f'Put {MNIST_NEEDS} in one directory and pass it as --config.data.source_dir=DIR '
                '(or set GENJAX_DATA_DIR).')
CIFAR_HOW_TO = ('Pass a directory holding the official CIFAR-10 archive (cifar-10-binary.tar.gz or '
                'cifar-10-python.tar.gz) or its extracted folder as --config.data.source_dir=DIR '
                '(or set GENJAX_DATA_DIR).')


def _check_dir(source_dir, how_to):
  if not source_dir:
    raise DataError(f'No data source directory was given. {how_to}')
  if not os.path.isdir(source_dir):
    raise DataError(f'Data source directory {source_dir!r} does not exist. {how_to}')


def _find(source_dir, name, how_to):
  for candidate in (name, name + '.gz'):
    path = os.path.join(source_dir, candidate)
    if os.path.isfile(path):
      return path
  if how_to is MNIST_HOW_TO:
    how_to = f'That directory must hold {MNIST_NEEDS}.'
  raise DataError(f'{name}(.gz) is missing from {source_dir!r}. {how_to}')


def source_files(name, source_dir):
  """The files of `source_dir` that the reader of dataset `name` reads (DataError if absent)."""
  if name == 'mnist':
    _check_dir(source_dir, MNIST_HOW_TO)
    return [_find(source_dir, f, MNIST_HOW_TO) for split in ('train', 'test')
            for f in MNIST_FILES[split]]
  _check_dir(source_dir, CIFAR_HOW_TO)
  for split_members in zip(_cifar_members('train'), _cifar_members('test')):
    folder = split_members[0][0]
    members = split_members[0][1] + split_members[1][1]
    for base in (os.path.join(source_dir, folder), source_dir):
      paths = [os.path.join(base, m) for m in members]
      if all(os.path.isfile(p) for p in paths):
        return paths
  for archive in ('cifar-10-binary.tar.gz', 'cifar-10-python.tar.gz'):
    if os.path.isfile(os.path.join(source_dir, archive)):
      return [os.path.join(source_dir, archive)]
  raise DataError(f'No CIFAR-10 files in {source_dir!r}. {CIFAR_HOW_TO}')


def fingerprint(name, source_dir):
  """{file name: (size, sha256)} of the source files of dataset `name` in `source_dir`."""
  out = {}
  for path in source_files(name, source_dir):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
      for block in iter(lambda: f.read(1 << 20), b''):
        h.update(block)
    out[os.path.relpath(path, source_dir)] = [os.path.getsize(path), h.hexdigest()]
  return out


def _read_bytes(path, how_to):
  try:
    if path.endswith('.gz'):
      with gzip.open(path, 'rb') as f:
        return f.read()
    with open(path, 'rb') as f:
      return f.read()
  except (OSError, EOFError, zlib.error) as e:
    raise DataError(f'{path} is corrupt or truncated ({e}). Replace it with the original file. '
                    f'{how_to}') from None


def read_idx(path, how_to=MNIST_HOW_TO):
  """Parses an IDX file (the MNIST format): a big-endian header, then uint8 data."""
  data = _read_bytes(path, how_to)
  if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
    raise DataError(f'{path} is not an IDX file of unsigned bytes (bad magic number). {how_to}')
  ndim = data[3]
  header = 4 + 4 * ndim
  if len(data) < header:
    raise DataError(f'{path} is truncated (header cut short). {how_to}')
  shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
  expected = header + int(np.prod(shape))
  if len(data) != expected:
    raise DataError(f'{path} holds {len(data)} bytes but its header {shape} needs {expected}: '
                    f'the file is truncated or corrupt. {how_to}')
  return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def verify_split(name, split, images, labels, facts, mean_pixel=None, mean_tol=0.0, origin=''):
  """Raises DataError unless count, label counts (and mean pixel) match the known facts."""
  where = f' (read from {origin})' if origin else ''
  if len(images) != facts['count'] or len(labels) != facts['count']:
    raise DataError(f'{name} {split}{where}: {len(images)} images and {len(labels)} labels, '
                    f'expected {facts["count"]} of each. The files are incomplete or of another '
                    'dataset.')
  counts = tuple(int(c) for c in np.bincount(labels.astype(np.int64), minlength=10))
  if counts != tuple(facts['label_counts']):
    raise DataError(f'{name} {split}{where}: label counts {counts} differ from the known '
                    f'{tuple(facts["label_counts"])}. The files are corrupt or of another dataset.')
  if mean_pixel is not None:
    got = np.asarray(images, np.float64).reshape(-1, np.shape(mean_pixel)[-1] if np.ndim(
        mean_pixel) else 1).mean(axis=0)
    if np.any(np.abs(got - np.asarray(mean_pixel)) > mean_tol):
      raise DataError(f'{name} {split}{where}: mean pixel {np.round(got, 4).tolist()} differs '
                      f'from the known {mean_pixel}. The files are corrupt or of another dataset.')


def read_mnist(source_dir, split):
  """Returns (images uint8 [N, 28, 28, 1], labels uint8 [N]) of the verified MNIST split."""
  _check_dir(source_dir, MNIST_HOW_TO)
  image_file, label_file = (_find(source_dir, n, MNIST_HOW_TO) for n in MNIST_FILES[split])
  images, labels = read_idx(image_file), read_idx(label_file)
  if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1:
    raise DataError(f'{image_file} / {label_file}: shapes {images.shape} / {labels.shape} are not '
                    f'MNIST images [N, 28, 28] and labels [N]. {MNIST_HOW_TO}')
  facts = MNIST_FACTS[split]
  verify_split('MNIST', split, images, labels, facts, facts['mean_pixel'], MNIST_MEAN_TOLERANCE,
               origin=os.path.dirname(image_file))
  return images[..., None], labels


def _cifar_binary_batches(records, origin):
  if len(records) % 3073:
    raise DataError(f'{origin}: {len(records)} bytes is not a whole number of 3073-byte CIFAR-10 '
                    f'records; the file is truncated or corrupt. {CIFAR_HOW_TO}')
  rows = np.frombuffer(records, np.uint8).reshape(-1, 3073)
  images = rows[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
  return images, rows[:, 0].copy()


def _cifar_python_batch(blob, origin):
  try:
    batch = pickle.loads(blob, encoding='bytes')
    data, labels = batch[b'data'], batch[b'labels']
  except Exception as e:  # noqa: BLE001 -- any unpickling failure means a corrupt file
    raise DataError(f'{origin} is not a readable CIFAR-10 python batch ({e}). {CIFAR_HOW_TO}') \
        from None
  images = np.asarray(data, np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
  return images, np.asarray(labels, np.uint8)


def _cifar_members(split):
  binary = [f'data_batch_{i}.bin' for i in range(1, 6)] if split == 'train' else ['test_batch.bin']
  python = [f'data_batch_{i}' for i in range(1, 6)] if split == 'train' else ['test_batch']
  return (('cifar-10-batches-bin', binary, _cifar_binary_batches),
          ('cifar-10-batches-py', python, _cifar_python_batch))


def _read_cifar_from_tar(path, split):
  wanted = {}
  for folder, members, parse in _cifar_members(split):
    for m in members:
      wanted[f'{folder}/{m}'] = parse
  found = {}
  try:
    with tarfile.open(path, 'r:*') as tar:
      for member in tar:
        if member.name in wanted:
          found[member.name] = tar.extractfile(member).read()
  except (OSError, EOFError, tarfile.TarError, zlib.error) as e:
    raise DataError(f'{path} is corrupt or truncated ({e}). Replace it with the original '
                    f'archive. {CIFAR_HOW_TO}') from None
  for folder, members, parse in _cifar_members(split):
    names = [f'{folder}/{m}' for m in members]
    if all(n in found for n in names):
      parts = [parse(found[n], f'{path}:{n}') for n in names]
      return parts
  raise DataError(f'{path} lacks the CIFAR-10 {split} batches. {CIFAR_HOW_TO}')


def read_cifar10(source_dir, split):
  """Returns (images uint8 [N, 32, 32, 3], labels uint8 [N]) of the verified CIFAR-10 split."""
  _check_dir(source_dir, CIFAR_HOW_TO)
  parts = None
  for folder, members, parse in _cifar_members(split):
    for base in (os.path.join(source_dir, folder), source_dir):
      paths = [os.path.join(base, m) for m in members]
      if all(os.path.isfile(p) for p in paths):
        parts = [parse(_read_bytes(p, CIFAR_HOW_TO), p) for p in paths]
        origin = base
        break
    if parts:
      break
  if parts is None:
    for archive in ('cifar-10-binary.tar.gz', 'cifar-10-python.tar.gz'):
      path = os.path.join(source_dir, archive)
      if os.path.isfile(path):
        parts, origin = _read_cifar_from_tar(path, split), path
        break
  if parts is None:
    raise DataError(f'No CIFAR-10 files in {source_dir!r}. {CIFAR_HOW_TO}')
  images = np.concatenate([p[0] for p in parts])
  labels = np.concatenate([p[1] for p in parts])
  mean = CIFAR10_TRAIN_MEAN if split == 'train' else None
  verify_split('CIFAR-10', split, images, labels, CIFAR10_FACTS[split], mean,
               CIFAR10_MEAN_TOLERANCE, origin=origin)
  return images, labels


READERS = {'mnist': read_mnist, 'cifar10': read_cifar10}
