"""Whole splits of MNIST / CIFAR-10 as numpy arrays, through TFDS, online or from local files.

`data.source_dir` (or $GENJAX_DATA_DIR) set: the offline builders in `tfds_local` prepare the
dataset from the original files in that directory. Unset: TFDS's standard builders download it.
Either way the arrays are verified against the known facts of the dataset before they are used.
"""
import contextlib
import json
import logging
import os

import numpy as np

from genjax.data import raw
from genjax.errors import DataError

SOURCE_DIR_ENV = 'GENJAX_DATA_DIR'
_FACTS = {'mnist': (raw.MNIST_FACTS, raw.MNIST_MEAN_TOLERANCE),
          'cifar10': (raw.CIFAR10_FACTS, raw.CIFAR10_MEAN_TOLERANCE)}


def resolve_source_dir(source_dir):
  return source_dir or os.environ.get(SOURCE_DIR_ENV) or None


@contextlib.contextmanager
def _quiet_tfds():
  """TFDS's progress bars and absl chatter drown the training log; keep warnings."""
  import tensorflow_datasets as tfds
  tfds.disable_progress_bar()
  level = logging.getLogger('absl').level
  logging.getLogger('absl').setLevel(logging.WARNING)
  try:
    yield
  finally:
    logging.getLogger('absl').setLevel(level)


SOURCE_RECORD = 'genjax_source.json'


def _prepared(builder):
  return os.path.exists(os.path.join(builder.data_dir, 'dataset_info.json'))


def _read_record(builder):
  try:
    with open(os.path.join(builder.data_dir, SOURCE_RECORD)) as f:
      return json.load(f)
  except (OSError, ValueError):
    return None


def _write_record(builder, record):
  path = os.path.join(builder.data_dir, SOURCE_RECORD)
  try:
    with open(f'{path}.{os.getpid()}.tmp', 'w') as f:
      json.dump(record, f, indent=2)
    os.replace(f'{path}.{os.getpid()}.tmp', path)
  except OSError:  # a read-only shared copy: it is still checked against the source each time
    pass


def _check_source(name, source_dir, builder):
  """The prepared copy must come from the files in `source_dir`: no silent substitution.

  A copy prepared here records the source files' sizes and SHA-256; later loads compare the named
  directory against that record (a few hundred ms) and refuse a mismatch. A copy prepared before
  the record existed is checked once by reading and verifying the source files in full.
  """
  current = raw.fingerprint(name, source_dir)  # DataError for an empty or incomplete directory
  record = _read_record(builder)
  if record is None:
    for split in ('train', 'test'):
      raw.READERS[name](source_dir, split)  # DataError for truncated or foreign files
    _write_record(builder, current)
    return
  if record != current:
    differ = sorted(f for f in set(record) | set(current) if record.get(f) != current.get(f))
    raise DataError(
        f'The files in {source_dir} ({", ".join(differ)}) differ from those the prepared TFDS '
        f'copy {builder.data_dir} was made from: restore the original files, or delete that copy '
        f'to prepare it again from {source_dir}.')


def _builder(name, source_dir, tfds_data_dir):
  import tensorflow_datasets as tfds
  from genjax.data import tfds_local
  if source_dir:
    if not os.path.isdir(source_dir):
      raise DataError(f'Data source directory {source_dir!r} (--config.data.source_dir or '
                      f'{SOURCE_DIR_ENV}) does not exist: name the directory that holds the '
                      f'original files.')
    builder = tfds_local.BUILDERS[name](data_dir=tfds_data_dir)
    config = tfds.download.DownloadConfig(manual_dir=source_dir)
    if _prepared(builder):
      _check_source(name, source_dir, builder)
      return builder
    current = raw.fingerprint(name, source_dir)  # an incomplete directory: one line, at once
  else:
    builder = tfds.builder(name, data_dir=tfds_data_dir)
    config = None
  try:
    builder.download_and_prepare(download_config=config)
  except DataError:
    raise
  except Exception as e:  # noqa: BLE001 -- network or TFDS failures become one clear message
    detail = ' '.join(str(e).split())
    if len(detail) > 300:
      detail = detail[:300].rsplit(' ', 1)[0] + ' ...'
    how = ('check that directory\'s files' if source_dir else
           'offline, pass the directory of the original files as --config.data.source_dir=DIR '
           f'or set {SOURCE_DIR_ENV}')
    raise DataError(f'TFDS could not prepare {name!r} ({type(e).__name__}: {detail}); {how}.') \
        from None
  if source_dir:
    _write_record(builder, current)
  return builder


def load_split(name, split, source_dir=None, tfds_data_dir=None):
  """Returns (images uint8 [N, H, W, C], labels int32 [N]) of a verified split."""
  if name not in raw.READERS:
    raise DataError(f'Unknown dataset {name!r}; choose one of {sorted(raw.READERS)}.')
  if split not in ('train', 'test'):
    raise DataError(f'Unknown split {split!r}; choose train or test.')
  import tensorflow_datasets as tfds
  source_dir = resolve_source_dir(source_dir)
  with _quiet_tfds():
    builder = _builder(name, source_dir, tfds_data_dir)
    arrays = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1))
  images, labels = arrays['image'], arrays['label'].astype(np.int32)
  facts, tol = _FACTS[name]
  mean = facts[split].get('mean_pixel') if name == 'mnist' else (
      raw.CIFAR10_TRAIN_MEAN if split == 'train' else None)
  # Checked again after TFDS: a stale or damaged prepared copy must not pass either.
  raw.verify_split(name, split, images, labels, facts[split], mean, tol,
                   origin=builder.data_dir)
  return images, labels
