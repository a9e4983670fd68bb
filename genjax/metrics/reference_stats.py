"""A disk cache of the reference side of FID / KID / precision-recall, keyed by what it came from.

What is stored (`ReferenceSummary`): mu and sigma (float64, over every reference row: FID needs
nothing else) and `features`, at most `keep` rows (default 10,000) drawn once without replacement
with a fixed seed, as float32. 10k rows are what KID (subsets of 1,000) and precision/recall/
density/coverage (Naeem et al. evaluate at 10k) use, at 80 MB for 2048-d features, where all 50k
would be 400 MB; KID then draws its subsets from these 10k rather than from all 50k.

The key is a sha256 over a JSON of the fields that determine the result: dataset, split, number of
samples, feature network id, the sha256 of the feature network's weights and of the dataset's
array, the number of features kept, and this file's FORMAT_VERSION. Any change to one of them gives
another file, so stale statistics are never read. Files live in `cache_dir`, else
$GENJAX_CACHE_DIR/reference_stats, else ~/.cache/genjax/reference_stats. A file that cannot be read
is recomputed with a warning.
"""
import hashlib
import json
import os
import re
import tempfile
import warnings

import numpy as np

from genjax.metrics.fid import FeatureMoments

CACHE_DIR_ENV = 'GENJAX_CACHE_DIR'
# Bump when what is stored or how it is computed changes: old files then stop matching.
FORMAT_VERSION = 1
REQUIRED_FIELDS = ('dataset', 'split', 'num_samples', 'feature_network', 'feature_network_sha256',
                   'dataset_sha256')
KEEP_FEATURES = 10_000
_SUBSAMPLE_SEED = 0
_KEY_ENTRY = '__key_fields__'


def array_sha256(array):
  """sha256 of an array's dtype, shape and bytes: the content hash of a dataset split."""
  array = np.ascontiguousarray(array)
  digest = hashlib.sha256(f'{array.dtype.str}{array.shape}'.encode())
  digest.update(memoryview(array).cast('B'))
  return digest.hexdigest()


def params_sha256(params):
  """sha256 over a parameter pytree's paths and arrays: the feature network's weights hash."""
  import jax  # only here: the rest of this module is numpy
  digest = hashlib.sha256()
  for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
    digest.update(jax.tree_util.keystr(path).encode())
    digest.update(array_sha256(np.asarray(leaf)).encode())
  return digest.hexdigest()


def default_cache_dir():
  root = os.environ.get(CACHE_DIR_ENV) or os.path.join(os.path.expanduser('~'), '.cache', 'genjax')
  return os.path.join(root, 'reference_stats')


def cache_key(key_fields):
  """sha256 hex over the canonical JSON of key_fields and FORMAT_VERSION."""
  missing = [f for f in REQUIRED_FIELDS if f not in key_fields]
  if missing:
    raise ValueError(f'Reference statistics keys need {missing}: without them a change there would '
                     'reuse stale statistics.')
  try:
    text = json.dumps({**key_fields, 'format_version': FORMAT_VERSION}, sort_keys=True,
                      separators=(',', ':'))
  except TypeError as e:
    raise ValueError(f'Reference statistics key fields must be JSON values: {e}') from None
  return hashlib.sha256(text.encode()).hexdigest()


def cache_path(key_fields, cache_dir=None):
  """The .npz for key_fields: readable names first, then the key that makes it unique."""
  readable = '-'.join(str(key_fields[f]) for f in ('dataset', 'split', 'feature_network',
                                                   'num_samples'))
  readable = re.sub(r'[^A-Za-z0-9_.-]+', '_', readable)
  return os.path.join(cache_dir or default_cache_dir(), f'{readable}-{cache_key(key_fields)}.npz')


def _load(path, key_fields):
  with np.load(path, allow_pickle=False) as f:
    stored_fields = json.loads(str(f[_KEY_ENTRY]))
    if stored_fields != json.loads(json.dumps(key_fields)):
      raise ValueError(f'it was written for {stored_fields}')
    return {name: f[name] for name in f.files if name != _KEY_ENTRY}


def _save(path, key_fields, arrays):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  # Written beside, then renamed: an interrupted write never leaves a half file under the name.
  fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix='.npz.tmp')
  try:
    with os.fdopen(fd, 'wb') as f:
      np.savez(f, **arrays, **{_KEY_ENTRY: np.array(json.dumps(key_fields, sort_keys=True))})
    os.replace(tmp, path)
  except BaseException:
    os.unlink(tmp)
    raise


def cached_reference(key_fields, compute_fn, cache_dir=None):
  """compute_fn()'s dict of arrays, from the cache when key_fields were seen before."""
  path = cache_path(key_fields, cache_dir)
  if os.path.exists(path):
    try:
      return _load(path, key_fields)
    except Exception as e:  # any unreadable file: a truncated zip, a bad header, a missing entry
      warnings.warn(f'Reference statistics cache {path} is unreadable ({type(e).__name__}: {e}); '
                    'recomputing it.', RuntimeWarning, stacklevel=2)
  arrays = {name: np.asarray(value) for name, value in compute_fn().items()}
  if _KEY_ENTRY in arrays:
    raise ValueError(f'compute_fn may not return an entry named {_KEY_ENTRY}.')
  try:
    _save(path, key_fields, arrays)
  except OSError as e:  # a read-only or full disk costs the next run a recompute, not this one
    warnings.warn(f'Could not write reference statistics cache {path}: {e}', RuntimeWarning,
                  stacklevel=2)
  return arrays


class ReferenceSummary:
  """Streams reference feature batches into what the cache stores: mu, sigma and kept features."""

  def __init__(self, num_rows, keep=KEEP_FEATURES):
    self.num_rows = num_rows
    keep = min(keep, num_rows)
    kept = np.random.RandomState(_SUBSAMPLE_SEED).choice(num_rows, keep, replace=False)
    self._kept_rows = np.sort(kept)
    self._moments = FeatureMoments()
    self._kept = []

  def update(self, features_BD):
    start = self._moments.count
    if start + len(features_BD) > self.num_rows:
      raise ValueError(f'More than the announced {self.num_rows} reference rows were streamed.')
    self._moments.update(features_BD)
    lo, hi = np.searchsorted(self._kept_rows, [start, start + len(features_BD)])
    self._kept.append(np.asarray(features_BD, np.float32)[self._kept_rows[lo:hi] - start])
    return self

  def result(self):
    if self._moments.count != self.num_rows:
      raise ValueError(f'{self._moments.count} reference rows were streamed, '
                       f'{self.num_rows} announced.')
    mu, sigma = self._moments.statistics()
    return {'mu': mu, 'sigma': sigma, 'features': np.concatenate(self._kept)}


def reference_statistics(key_fields, feature_batches, keep=KEEP_FEATURES, cache_dir=None):
  """{'mu', 'sigma', 'features'} of the reference set, cached under key_fields.

  `feature_batches()` yields (B, D) feature arrays of the key_fields['num_samples'] reference rows,
  in order; it is only called on a cache miss.
  """
  num_rows = key_fields['num_samples']

  def compute():
    summary = ReferenceSummary(num_rows, keep)
    for batch in feature_batches():
      summary.update(batch)
    return summary.result()

  fields = {**key_fields, 'kept_features': min(keep, num_rows)}
  return cached_reference(fields, compute, cache_dir)
