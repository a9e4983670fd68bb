"""Inception Score (Salimans et al. 2016) from classifier logits or probabilities.

IS = exp(E_x KL(p(y|x) || p(y))) within each of `splits` consecutive chunks, p(y) being the
chunk's mean of p(y|x); mean and std (ddof=0) over chunks. As torch-fidelity, rows are first
shuffled with a numpy RandomState(2020) permutation and chunk i is rows [i N // splits,
(i + 1) N // splits), in float64; the original code differs only in dropping N % splits rows.

A feature network without logits has no IS: `eval_entries` then reports why, so eval.json holds
`inception_score: null` with `inception_score_unavailable: "<reason>"` instead of a number.
"""
import numpy as np
from scipy import special

from genjax.errors import ConfigError

SPLITS = 10
SEED = 2020


def _log_probabilities(logits, probs):
  if (logits is None) == (probs is None):
    raise ValueError('Pass exactly one of logits= or probs=.')
  if logits is not None:
    logits = np.asarray(logits, np.float64)
    return logits - special.logsumexp(logits, axis=1, keepdims=True)
  probs = np.asarray(probs, np.float64)
  if probs.ndim == 2 and (np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1, atol=1e-4)):
    raise ValueError('probs= rows must be non-negative and sum to 1; pass logits= for raw scores.')
  with np.errstate(divide='ignore'):
    return np.log(probs)  # log 0 = -inf is fine: those terms are weighted by p = 0 below


def inception_score(logits=None, *, probs=None, splits=SPLITS, shuffle=True, seed=SEED):
  """(mean, std) of the Inception Score over `splits` chunks of an (N, classes) array."""
  log_p = _log_probabilities(logits, probs)
  if log_p.ndim != 2:
    raise ValueError(f'Expected (num_samples, num_classes) scores, got shape {log_p.shape}.')
  n = log_p.shape[0]
  if n < splits:
    raise ConfigError(f'The Inception Score over {splits} splits needs at least {splits} samples, '
                      f'got {n}: evaluate more samples.')
  if shuffle:
    log_p = log_p[np.random.RandomState(seed).permutation(n)]
  p = np.exp(log_p)
  scores = []
  for i in range(splits):
    rows = slice(i * n // splits, (i + 1) * n // splits)
    p_chunk, log_p_chunk = p[rows], log_p[rows]
    # p * (log p - log p(y)), 0 where p = 0 (where the marginal is 0, p is 0 too): the nan of
    # 0 * (-inf) is discarded by the where.
    with np.errstate(divide='ignore', invalid='ignore'):
      log_marginal = np.log(p_chunk.mean(axis=0, keepdims=True))
      kl_terms = np.where(p_chunk > 0, p_chunk * (log_p_chunk - log_marginal), 0.0)
    scores.append(np.exp(kl_terms.sum(axis=1).mean()))
  return float(np.mean(scores)), float(np.std(scores))


def no_logits_reason(feature_network):
  """The reason eval.json gives when `feature_network` only yields features."""
  return (f'the feature network {feature_network!r} has no classifier logits, and the Inception '
          'Score needs class probabilities p(y|x)')


def eval_entries(logits=None, *, probs=None, unavailable_reason=None, splits=SPLITS):
  """eval.json entries: the score and its std, or null and the reason it is unavailable."""
  if logits is None and probs is None:
    if not unavailable_reason:
      raise ValueError('Without logits or probs, say why: pass unavailable_reason=.')
    return {'inception_score': None, 'inception_score_std': None,
            'inception_score_unavailable': unavailable_reason}
  mean, std = inception_score(logits, probs=probs, splits=splits)
  return {'inception_score': mean, 'inception_score_std': std}
