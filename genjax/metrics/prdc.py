"""Improved precision and recall (Kynkäänniemi et al. 2019, k = 3) and density and coverage
(Naeem et al. 2020, k = 5) of generated features against real ones, computed like the `prdc`
package: Euclidean distances, each point's radius the distance to its k-th nearest neighbour in its
own set (itself excluded), strict `<` against those radii.

  precision  fraction of fakes inside some real ball (radius with k = 3)
  recall     fraction of reals inside some fake ball (k = 3)
  density    mean over fakes of (number of real balls holding it) / k (k = 5)
  coverage   fraction of reals whose ball holds at least one fake (k = 5)

Distances are computed `block_rows` rows at a time on the default JAX device (float32, full
precision matmuls, features centred first), so 10k x 10k never needs a full distance matrix:
memory is block_rows x max(N_real, N_fake) floats.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from genjax.errors import ConfigError

PRECISION_RECALL_K = 3
DENSITY_COVERAGE_K = 5
BLOCK_ROWS = 1000


def _squared_distances(x_BD, y_MD):
  # TF32 would shift distances by ~1e-3 relative on GPUs: ask for full float32 precision.
  cross = jnp.matmul(x_BD, y_MD.T, precision=jax.lax.Precision.HIGHEST)
  d2 = jnp.sum(x_BD**2, axis=1)[:, None] + jnp.sum(y_MD**2, axis=1)[None, :] - 2 * cross
  return jnp.maximum(d2, 0)


@functools.partial(jax.jit, static_argnames='max_k')
def _smallest_squared_distances(block_BD, all_ND, block_start, max_k):
  """Per row of the block, its max_k + 1 smallest squared distances to all_ND, ascending."""
  d2 = _squared_distances(block_BD, all_ND)
  rows = jnp.arange(block_BD.shape[0])
  d2 = d2.at[rows, block_start + rows].set(0, mode='drop')  # self is exactly 0, whatever rounding
  return -jax.lax.top_k(-d2, max_k + 1)[0]


@jax.jit
def _real_block_against_fakes(real_BD, fake_MD, real_r2_pr_B, real_r2_dc_B, fake_r2_pr_M):
  d2 = _squared_distances(real_BD, fake_MD)
  return (jnp.any(d2 < real_r2_pr_B[:, None], axis=0),  # fakes inside one of these real balls
          jnp.sum(d2 < real_r2_dc_B[:, None], axis=0),  # real balls holding each fake
          jnp.any(d2 < fake_r2_pr_M[None, :], axis=1),  # reals inside some fake ball
          jnp.min(d2, axis=1) < real_r2_dc_B)  # reals whose ball holds a fake


def _blocks(x_ND, block_rows, pad_value=0.0):
  """(start, rows padded to a fixed block size, number of real rows): one compile per shape."""
  size = min(block_rows, len(x_ND))
  for start in range(0, len(x_ND), size):
    block = x_ND[start:start + size]
    n = len(block)
    if n < size:
      padding = jnp.full((size - n,) + block.shape[1:], pad_value, block.dtype)
      block = jnp.concatenate([block, padding])
    yield start, block, n


def _squared_radii(x_ND, ks, block_rows):
  """{k: squared distance from each row to its k-th nearest other row}."""
  smallest = np.concatenate([
      np.asarray(_smallest_squared_distances(block, x_ND, start, max(ks)))[:n]
      for start, block, n in _blocks(x_ND, block_rows)])
  return {k: smallest[:, k] for k in ks}  # column 0 is the row itself


def nearest_neighbour_radii(features_ND, k, block_rows=BLOCK_ROWS):
  """Distance from each row to its k-th nearest neighbour among the other rows."""
  x = jnp.asarray(features_ND, jnp.float32)
  return np.sqrt(_squared_radii(x - x.mean(axis=0), (k,), block_rows)[k])


def prdc(real_features, fake_features, precision_recall_k=PRECISION_RECALL_K,
         density_coverage_k=DENSITY_COVERAGE_K, block_rows=BLOCK_ROWS):
  """{'precision', 'recall', 'density', 'coverage'} of fake_features against real_features."""
  real = np.asarray(real_features, np.float64)
  fake = np.asarray(fake_features, np.float64)
  if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
    raise ValueError(f'Expected two (num_samples, feature_dim) arrays of one width, got '
                     f'{real.shape} and {fake.shape}.')
  ks = (precision_recall_k, density_coverage_k)
  if min(len(real), len(fake)) <= max(ks):
    raise ConfigError(f'Precision/recall/density/coverage need more than k={max(ks)} samples in '
                      f'each set to find k-th neighbours, got {len(real)} real and {len(fake)} '
                      'generated: evaluate more samples.')
  # Distances do not change under a shift; centring keeps |x|^2 + |y|^2 - 2 x.y from cancelling.
  centre = real.mean(axis=0)
  real = jnp.asarray(real - centre, jnp.float32)
  fake = jnp.asarray(fake - centre, jnp.float32)
  real_r2 = _squared_radii(real, ks, block_rows)
  fake_r2_pr = jnp.asarray(_squared_radii(fake, ks[:1], block_rows)[ks[0]])

  fake_in_real = np.zeros(len(fake), bool)
  real_balls_per_fake = np.zeros(len(fake), np.int64)
  real_in_fake, real_covered = [], []
  r2_pr = jnp.asarray(real_r2[ks[0]], jnp.float32)
  r2_dc = jnp.asarray(real_r2[ks[1]], jnp.float32)
  # Padded rows get radius^2 = -1: no distance is below it, so they add nothing to the fakes' sums.
  padded_radii = zip(_blocks(r2_pr, block_rows, -1.0), _blocks(r2_dc, block_rows, -1.0))
  for (_, block, n), ((_, pr, _), (_, dc, _)) in zip(_blocks(real, block_rows), padded_radii):
    in_real, balls, in_fake, covered = map(
        np.asarray, _real_block_against_fakes(block, fake, pr, dc, fake_r2_pr))
    fake_in_real |= in_real
    real_balls_per_fake += balls
    real_in_fake.append(in_fake[:n])
    real_covered.append(covered[:n])
  return {'precision': float(fake_in_real.mean()),
          'recall': float(np.concatenate(real_in_fake).mean()),
          'density': float(real_balls_per_fake.mean() / density_coverage_k),
          'coverage': float(np.concatenate(real_covered).mean())}
