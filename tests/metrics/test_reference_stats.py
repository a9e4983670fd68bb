"""The reference statistics cache: hits load without computing, any changed key field or a
corrupt file recomputes, and the streamed summary equals numpy on the whole array."""
import os

import numpy as np
import pytest

from genjax.metrics import reference_stats as rs

FIELDS = {'dataset': 'cifar10', 'split': 'train', 'num_samples': 50, 'feature_network': 'toy',
          'feature_network_sha256': 'a' * 64, 'dataset_sha256': 'b' * 64}


class _Counting:
  def __init__(self):
    self.calls = 0

  def __call__(self):
    self.calls += 1
    return {'mu': np.arange(3.0) + self.calls, 'sigma': np.eye(3)}


def test_same_key_loads_instead_of_recomputing(tmp_path):
  compute = _Counting()
  first = rs.cached_reference(FIELDS, compute, str(tmp_path))
  second = rs.cached_reference(dict(reversed(FIELDS.items())), compute, str(tmp_path))
  assert compute.calls == 1
  np.testing.assert_array_equal(second['mu'], first['mu'])
  assert sorted(second) == ['mu', 'sigma']


@pytest.mark.parametrize('field, value', [
    ('dataset', 'mnist'), ('split', 'test'), ('num_samples', 51), ('feature_network', 'other'),
    ('feature_network_sha256', 'c' * 64), ('dataset_sha256', 'd' * 64), ('kept_features', 7)])
def test_any_changed_field_recomputes(tmp_path, field, value):
  compute = _Counting()
  rs.cached_reference(FIELDS, compute, str(tmp_path))
  changed = rs.cached_reference({**FIELDS, field: value}, compute, str(tmp_path))
  assert compute.calls == 2
  np.testing.assert_array_equal(changed['mu'], np.arange(3.0) + 2)
  assert len(os.listdir(tmp_path)) == 2


@pytest.mark.parametrize('damage', ['garbage', 'truncated', 'empty'])
def test_a_corrupt_file_is_recomputed_with_a_warning(tmp_path, damage):
  compute = _Counting()
  rs.cached_reference(FIELDS, compute, str(tmp_path))
  path = rs.cache_path(FIELDS, str(tmp_path))
  content = open(path, 'rb').read()
  damaged = {'garbage': b'not an npz at all', 'truncated': content[:len(content) // 2],
             'empty': b''}[damage]
  with open(path, 'wb') as f:
    f.write(damaged)
  with pytest.warns(RuntimeWarning, match='unreadable'):
    again = rs.cached_reference(FIELDS, compute, str(tmp_path))
  assert compute.calls == 2
  np.testing.assert_array_equal(again['mu'], np.arange(3.0) + 2)
  rs.cached_reference(FIELDS, compute, str(tmp_path))  # rewritten whole: a hit again
  assert compute.calls == 2


def test_cache_dir_comes_from_the_environment(tmp_path, monkeypatch):
  monkeypatch.setenv(rs.CACHE_DIR_ENV, str(tmp_path))
  rs.cached_reference(FIELDS, _Counting())
  assert os.listdir(tmp_path / 'reference_stats')[0].startswith('cifar10-train-toy-50-')


def test_a_key_without_a_required_field_is_refused(tmp_path):
  fields = dict(FIELDS)
  del fields['feature_network_sha256']
  with pytest.raises(ValueError, match='feature_network_sha256'):
    rs.cached_reference(fields, _Counting(), str(tmp_path))


def test_streamed_summary_equals_numpy_and_is_cached(tmp_path):
  x = np.random.RandomState(0).randn(50, 4).astype(np.float32)
  calls = []

  def batches():
    calls.append(1)
    return (x[i:i + 8] for i in range(0, 50, 8))

  got = rs.reference_statistics(FIELDS, batches, keep=20, cache_dir=str(tmp_path))
  again = rs.reference_statistics(FIELDS, batches, keep=20, cache_dir=str(tmp_path))
  assert len(calls) == 1
  x64 = x.astype(np.float64)
  np.testing.assert_allclose(got['mu'], x64.mean(0), rtol=1e-12)
  np.testing.assert_allclose(got['sigma'], np.cov(x64, rowvar=False), rtol=1e-10)
  kept = np.sort(np.random.RandomState(0).choice(50, 20, replace=False))
  np.testing.assert_array_equal(got['features'], x[kept])
  np.testing.assert_array_equal(again['features'], got['features'])


def test_content_hashes_see_every_byte_dtype_and_shape():
  images = np.zeros((4, 8, 8, 3), np.uint8)
  changed = images.copy()
  changed[3, 7, 7, 2] = 1
  digests = {rs.array_sha256(a) for a in
             (images, changed, images.astype(np.int8), images.reshape(8, 4, 8, 3))}
  assert len(digests) == 4
  params = {'conv': {'kernel': np.ones((3, 3)), 'bias': np.zeros(3)}}
  tweaked = {'conv': {'kernel': np.ones((3, 3)), 'bias': np.array([0.0, 0.0, 1e-7])}}
  assert rs.params_sha256(params) != rs.params_sha256(tweaked)
  assert rs.params_sha256(params) == rs.params_sha256({'conv': dict(params['conv'])})


def test_a_file_copied_under_another_key_is_not_trusted(tmp_path):
  compute = _Counting()
  rs.cached_reference(FIELDS, compute, str(tmp_path))
  other = {**FIELDS, 'split': 'test'}
  os.replace(rs.cache_path(FIELDS, str(tmp_path)), rs.cache_path(other, str(tmp_path)))
  with pytest.warns(RuntimeWarning, match='written for'):
    rs.cached_reference(other, compute, str(tmp_path))
  assert compute.calls == 2


def test_an_unwritable_cache_dir_warns_and_still_returns(tmp_path):
  blocker = tmp_path / 'file'
  blocker.write_text('a file where the cache dir should be')
  with pytest.warns(RuntimeWarning, match='Could not write'):
    got = rs.cached_reference(FIELDS, _Counting(), str(blocker / 'cache'))
  np.testing.assert_array_equal(got['mu'], np.arange(3.0) + 1)
