"""Inception Score against scipy.stats.entropy's KL per split, and its two known extremes."""
import json

import numpy as np
import pytest
from scipy import special, stats

from genjax.errors import ConfigError
from genjax.metrics import inception_score as isc


def _direct_inception_score(probs, splits):
  """exp of the mean over rows of KL(p(y|x) || p(y)) per consecutive split; mean, std."""
  scores = []
  for part in np.array_split(probs, splits):
    marginal = part.mean(axis=0)
    scores.append(np.exp(np.mean([stats.entropy(row, marginal) for row in part])))
  return np.mean(scores), np.std(scores)


def _logits(seed, n=200, classes=7):
  return np.random.RandomState(seed).randn(n, classes) * 2


def test_inception_score_equals_the_direct_formula():
  logits = _logits(0)
  probs = special.softmax(logits.astype(np.float64), axis=1)
  expected = _direct_inception_score(probs, 10)
  got = isc.inception_score(logits, shuffle=False)
  np.testing.assert_allclose(got, expected, rtol=1e-10)
  np.testing.assert_allclose(isc.inception_score(probs=probs, shuffle=False), expected, rtol=1e-10)


def test_shuffling_is_torch_fidelitys_permutation():
  logits = _logits(1, n=205)  # not a multiple of 10: split sizes are 20 and 21
  probs = special.softmax(logits, axis=1)[np.random.RandomState(2020).permutation(205)]
  # torch-fidelity's split i is rows [i N // 10, (i + 1) N // 10), which np.array_split is not.
  parts = [probs[i * 205 // 10:(i + 1) * 205 // 10] for i in range(10)]
  scores = [np.exp(np.mean([stats.entropy(r, p.mean(0)) for r in p])) for p in parts]
  np.testing.assert_allclose(isc.inception_score(logits), (np.mean(scores), np.std(scores)),
                             rtol=1e-10)


def test_identical_predictions_score_one():
  logits = np.tile(_logits(3, n=1), (100, 1))
  mean, std = isc.inception_score(logits)
  assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_confident_predictions_spread_over_all_classes_score_the_class_count():
  classes = 12
  one_hot = np.tile(np.eye(classes), (10, 1))  # every split holds each class once
  mean, std = isc.inception_score(probs=one_hot, shuffle=False)  # zeros: 0 log 0 = 0
  assert mean == pytest.approx(classes, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_eval_entries_without_logits_are_null_with_the_reason():
  entries = isc.eval_entries(unavailable_reason=isc.no_logits_reason('dinov2'))
  assert json.loads(json.dumps(entries))['inception_score'] is None
  assert 'dinov2' in entries['inception_score_unavailable']
  with pytest.raises(ValueError, match='unavailable_reason'):
    isc.eval_entries()
  entries = isc.eval_entries(_logits(4))
  assert entries['inception_score'] > 1 and 'inception_score_unavailable' not in entries


def test_fewer_samples_than_splits_is_an_error():
  with pytest.raises(ConfigError, match='at least 10 samples'):
    isc.inception_score(_logits(5, n=9))
