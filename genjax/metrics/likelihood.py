"""Likelihood metrics of latent-variable models: the k-sample bound, its k=5000 NLL estimate, the
ELBO, and active units (Burda et al. 2015, sections 5 and 6).

log p(x) ~= log (1/K) sum_k w_k is computed in chunks of samples with a running logsumexp, so
memory is bounded by (chunk x batch) whatever K is.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from genjax.errors import ConfigError


@functools.partial(jax.jit, static_argnames=('model', 'num_samples', 'chunk'))
def _bounds_of_batch(params, x_BD, key, model, num_samples, chunk):
  """Per example: (log (1/K) sum_k w_k, (1/K) sum_k log w_k) over K = num_samples draws."""

  def body(carry, chunk_key):
    lse_B, sum_B = carry
    log_w_CB = model.apply({'params': params}, x_BD, chunk_key, chunk)
    lse_B = jnp.logaddexp(lse_B, jax.nn.logsumexp(log_w_CB, axis=0))
    return (lse_B, sum_B + jnp.sum(log_w_CB, axis=0)), None

  init = (jnp.full(x_BD.shape[:1], -jnp.inf), jnp.zeros(x_BD.shape[:1]))
  keys = jax.random.split(key, num_samples // chunk)
  (lse_B, sum_B), _ = jax.lax.scan(body, init, keys)
  return lse_B - jnp.log(num_samples), sum_B / num_samples


def _batches(x, batch_size):
  """Yields (batch padded to batch_size, number of real rows)."""
  for start in range(0, len(x), batch_size):
    batch = x[start:start + batch_size]
    n = len(batch)
    if n < batch_size:
      batch = jnp.concatenate([batch, jnp.zeros((batch_size - n,) + batch.shape[1:], batch.dtype)])
    yield batch, n


def importance_bounds(model, params, x_ND, key, num_samples, chunk=500, batch_size=100,
                      progress=None):
  """Returns per-example numpy arrays (log p_hat(x) with K = num_samples, ELBO estimate).

  `progress(done, total)`, if given, is called after each batch of examples.
  """
  chunk = min(chunk, num_samples)
  if num_samples % chunk:
    raise ConfigError(f'The number of importance samples ({num_samples}) must be a multiple of '
                      f'the chunk size ({chunk}).')
  lses, elbos = [], []
  for i, (batch, n) in enumerate(_batches(x_ND, batch_size)):
    lse_B, elbo_B = _bounds_of_batch(params, batch, jax.random.fold_in(key, i), model,
                                     num_samples, chunk)
    lses.append(np.asarray(lse_B[:n], np.float64))
    elbos.append(np.asarray(elbo_B[:n], np.float64))
    if progress:
      progress(min((i + 1) * batch_size, len(x_ND)), len(x_ND))
  return np.concatenate(lses), np.concatenate(elbos)


@functools.partial(jax.jit, static_argnames=('model', 'num_samples'))
def _posterior_means_of_batch(params, x_BD, key, model, num_samples):
  return model.apply({'params': params}, x_BD, key, num_samples, method='posterior_means')


def active_units(model, params, x_ND, key, threshold=0.01, num_samples=100, batch_size=500):
  """Per stochastic layer, the units u with Cov_x(E_q[u | x]) > threshold."""
  per_layer = None
  for i, (batch, n) in enumerate(_batches(x_ND, batch_size)):
    means = _posterior_means_of_batch(params, batch, jax.random.fold_in(key, i), model,
                                      num_samples)
    means = [np.asarray(m[:n], np.float64) for m in means]
    per_layer = means if per_layer is None else [
        np.concatenate([a, m]) for a, m in zip(per_layer, means)]
  return [int(np.sum(np.var(m, axis=0) > threshold)) for m in per_layer]
