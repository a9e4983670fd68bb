"""Whole splits of MNIST / CIFAR-10 as numpy arrays, through TFDS, online or from local files.

`data.source_dir` (or $GENJAX_DATA_DIR) set: the offline builders in `tfds_local` prepare the
dataset from the original files in that directory. Unset: TFDS's standard builders download it,
after a probe of the download hosts of a few seconds, so that offline the one-line error comes at
once rather than after TFDS's minutes of retries.
Where TensorFlow Datasets cannot be imported (a GPU image with JAX alone), the split is read
straight from the original files with the verified readers of `raw`, in the order the TFDS path
gives, so both paths return identical arrays.
Either way the arrays are verified against the known facts of the dataset before they are used.
"""
import contextlib
import hashlib
import json
import logging
import os
import socket
import threading
import time
import urllib.parse

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


def _cannot_prepare(name, source_dir, cause):
  detail = ' '.join(cause.split())
  if len(detail) > 300:
    detail = detail[:300].rsplit(' ', 1)[0] + ' ...'
  how = ('check that directory\'s files' if source_dir else
         'offline, pass the directory of the original files as --config.data.source_dir=DIR '
         f'or set {SOURCE_DIR_ENV}')
  return DataError(f'TFDS could not prepare {name!r} ({detail}); {how}.')


# TFDS retries each download ten times with exponential back-off (3.7 minutes in all on a machine
# without network). The probe below gives up after this many seconds instead: a working network
# answers in well under one (a TCP handshake), and a blip shorter than this is waited out.
PROBE_SECONDS = 3.0
# TFDS first tries its own mirror of the downloads on Google Cloud Storage.
_TFDS_MIRROR_HOST = 'storage.googleapis.com'


def _endpoint(url):
  """(host, port) a download of `url` connects to: the proxy's where one applies, as `requests`
  (TFDS's HTTP client) picks it from the environment."""
  import requests
  proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
  parts = urllib.parse.urlsplit(proxy if proxy and '://' in proxy else
                                f'http://{proxy}' if proxy else url)
  default = {'https': 443, 'http': 80}.get(parts.scheme, 1080)  # socks proxies: 1080
  return parts.hostname, parts.port or default


def unreachable(endpoints, seconds=PROBE_SECONDS):
  """None if a TCP connection to any of `endpoints` opens within `seconds`, else why not.

  Every endpoint is tried again every half second until one connects or the time is up, so a
  blip of the network does not fail a machine that has one. A DNS lookup that never answers is
  cut short too (each endpoint is tried in its own daemon thread).
  """
  connected, errors = threading.Event(), {}
  deadline = time.monotonic() + seconds

  def attempt(host, port):
    while not connected.is_set():
      left = deadline - time.monotonic()
      if left <= 0:
        return
      try:
        with socket.create_connection((host, port), timeout=min(left, 3.0)):
          connected.set()
          return
      except OSError as e:
        errors[f'{host}:{port}'] = e.strerror or str(e) or type(e).__name__
      time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

  for host, port in sorted(set(endpoints)):
    threading.Thread(target=attempt, args=(host, port), daemon=True).start()
  if connected.wait(seconds + 0.5):
    return None
  tried = ', '.join(f'{e}: {errors.get(e, "no answer")}' for e in sorted(
      f'{h}:{p}' for h, p in set(endpoints)))
  return f'no network: none of its download hosts answered within {seconds:g} s ({tried})'


def _probe_downloads(name, builder):
  """One clear error in seconds where TFDS would retry its downloads for minutes."""
  urls = list(getattr(builder, 'url_infos', None) or ())
  if not urls:  # nothing known to probe: TFDS's own behaviour
    return
  endpoints = {_endpoint(u) for u in urls + [f'https://{_TFDS_MIRROR_HOST}/']}
  why = unreachable(endpoints)
  if why:
    raise _cannot_prepare(name, None, why)


@contextlib.contextmanager
def _preparing(builder):
  """Holds an exclusive lock while this process prepares `builder`'s copy.

  Two runs started together on a fresh machine would otherwise both prepare the copy, and the
  second one's final rename fails (FileExistsError). With the lock, the second waits for the
  first (seconds) and then finds the copy prepared. The lock is an advisory `flock` beside the
  copy, released by the kernel when its holder exits, so a killed preparation never blocks
  the next one; where that directory cannot be written, preparation goes ahead unlocked (and
  fails as TFDS would).
  """
  import fcntl
  path = os.path.join(os.path.dirname(builder.data_dir.rstrip('/')), '.genjax-prepare.lock')
  try:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  except OSError:
    fd = None
  if fd is None:
    yield
    return
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      logging.getLogger(__name__).warning(
          'Another process is preparing %s; waiting for it.', builder.data_dir)
      fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:  # a file system without locks (some NFS): unlocked, as TFDS alone would be
      pass
    yield
  finally:
    os.close(fd)  # releases the lock


def _builder(name, source_dir, tfds_data_dir):
  import tensorflow_datasets as tfds
  from genjax.data import tfds_local
  if source_dir:
    if not os.path.isdir(source_dir):
      raise DataError(f'Data source directory {source_dir!r} (--config.data.source_dir or '
                      f'{SOURCE_DIR_ENV}) does not exist: name the directory that holds the '
                      f'original files.')

    def make():
      return tfds_local.BUILDERS[name](data_dir=tfds_data_dir)
    config = tfds.download.DownloadConfig(manual_dir=source_dir)
  else:
    def make():
      return tfds.builder(name, data_dir=tfds_data_dir)
    config = None
  builder = make()
  if not _prepared(builder):
    with _preparing(builder):
      builder = make()  # another process may have prepared it while this one waited
      if not _prepared(builder):
        _prepare(name, source_dir, builder, config)
        return builder
  if source_dir:
    _check_source(name, source_dir, builder)
  return builder


def _prepare(name, source_dir, builder, config):
  if source_dir:
    current = raw.fingerprint(name, source_dir)  # an incomplete directory: one line, at once
  else:
    _probe_downloads(name, builder)
  try:
    builder.download_and_prepare(download_config=config)
  except DataError:
    raise
  except Exception as e:  # noqa: BLE001 -- network or TFDS failures become one clear message
    raise _cannot_prepare(name, source_dir, f'{type(e).__name__}: {e}') from None
  if source_dir:
    _write_record(builder, current)


def tfds_order(split, num_examples):
  """The order in which TFDS returns a split whose examples were generated with the keys 0, 1, ...
  (as `tfds_local` generates them): sorted by the MD5 hash of the split's name followed by the key
  in decimal. tensorflow_datasets/core/hashing.py documents this order as stable (changing it would
  take a new major version of every dataset); tests/data/test_loading.py checks it against TFDS."""
  salt = hashlib.md5(split.encode(), usedforsecurity=False)

  def digest(key):
    h = salt.copy()
    h.update(str(key).encode())
    return h.digest()  # big-endian bytes: their order is that of the 128-bit integers
  return np.array(sorted(range(num_examples), key=digest), dtype=np.int64)


def tfds_module():
  """tensorflow_datasets, or None where it (or TensorFlow) cannot be imported."""
  try:
    import tensorflow  # noqa: F401  (tensorflow_datasets imports it lazily, at first use)
    import tensorflow_datasets
  except ImportError:
    return None
  return tensorflow_datasets


def _no_tfds_error(name):
  return DataError(
      f'TensorFlow Datasets is not installed here, so {name!r} cannot be downloaded: pass the '
      f'directory of its original files as --config.data.source_dir=DIR (or set '
      f'{SOURCE_DIR_ENV}).')


def _from_original_files(name, split, source_dir):
  """Without TensorFlow: the split read from the original files, in the TFDS path's order."""
  if not source_dir:
    raise _no_tfds_error(name)
  images, labels = raw.READERS[name](source_dir, split)  # verified against the known facts
  logging.info('TensorFlow Datasets is not installed: %s %s read from the original files in %s.',
               name, split, source_dir)
  order = tfds_order(split, len(labels))
  return images[order], labels[order].astype(np.int32)


def check_obtainable(name, source_dir=None, tfds_data_dir=None):
  """In seconds, before JAX and TensorFlow load: the DataError `load_split` would raise after them
  where it would have to download `name` and cannot (no TensorFlow Datasets, or no network).
  Imports tensorflow_datasets without TensorFlow (about a second); a launcher calls it first."""
  if resolve_source_dir(source_dir) or name not in raw.READERS:
    return
  import importlib.util
  if any(importlib.util.find_spec(m) is None for m in ('tensorflow', 'tensorflow_datasets')):
    raise _no_tfds_error(name)
  with _quiet_tfds():
    import tensorflow_datasets as tfds
    builder = tfds.builder(name, data_dir=tfds_data_dir)
    if not _prepared(builder):
      _probe_downloads(name, builder)


def load_split(name, split, source_dir=None, tfds_data_dir=None):
  """Returns (images uint8 [N, H, W, C], labels int32 [N]) of a verified split."""
  if name not in raw.READERS:
    raise DataError(f'Unknown dataset {name!r}; choose one of {sorted(raw.READERS)}.')
  if split not in ('train', 'test'):
    raise DataError(f'Unknown split {split!r}; choose train or test.')
  source_dir = resolve_source_dir(source_dir)
  tfds = tfds_module()
  if tfds is None:
    return _from_original_files(name, split, source_dir)
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
