"""Whole splits of MNIST / CIFAR-10 as numpy arrays, through TFDS, online or from local files.

`data.source_dir` (or $GENJAX_DATA_DIR) set: the offline builders in `tfds_local` prepare the
dataset from the original files in that directory. Unset: TFDS's standard builders download it.
Either way the arrays are verified against the known facts of the dataset before they are used.
"""
import contextlib
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


def _builder(name, source_dir, tfds_data_dir):
  import tensorflow_datasets as tfds
  from genjax.data import tfds_local
  if source_dir:
    if not os.path.isdir(source_dir):
      how_to = raw.MNIST_HOW_TO if name == 'mnist' else raw.CIFAR_HOW_TO
      raise DataError(f'Data source directory {source_dir!r} does not exist. {how_to}')
    builder = tfds_local.BUILDERS[name](data_dir=tfds_data_dir)
    config = tfds.download.DownloadConfig(manual_dir=source_dir)
  else:
    builder = tfds.builder(name, data_dir=tfds_data_dir)
    config = None
  try:
    builder.download_and_prepare(download_config=config)
  except DataError:
    raise
  except Exception as e:  # noqa: BLE001 -- network or TFDS failures become one clear message
    raise DataError(
        f'TFDS could not prepare {name!r} ({type(e).__name__}: {str(e)[:300]}). Offline, pass the '
        f'directory of the original files as --config.data.source_dir=DIR or set '
        f'{SOURCE_DIR_ENV}.') from None
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
