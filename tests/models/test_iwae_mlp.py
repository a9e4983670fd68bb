"""The IWAE-paper networks: shapes, and log-weights against a numpy computation."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.models.iwae_mlp import IWAEModel


def _np_mlp(p, h, heads):
  n_hidden = len(p) - heads
  for i in range(n_hidden):
    h = np.tanh(h @ p[f'Dense_{i}']['kernel'] + p[f'Dense_{i}']['bias'])
  return [h @ p[f'Dense_{n_hidden + j}']['kernel'] + p[f'Dense_{n_hidden + j}']['bias']
          for j in range(heads)]


def _np_normal_logpdf(x, mean, std):
  return np.sum(-0.5 * ((x - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi), -1)


def _np_log_weights(params, x, samples):
  """log p(x, h) - log q(h | x) written out from the paper's definitions, in float64."""
  p = jax.tree.map(lambda a: np.asarray(a, np.float64), params)
  samples = [np.asarray(h, np.float64) for h in samples]
  below = [x] + samples[:-1]
  log_q = sum(_np_normal_logpdf(h, *(lambda m, s: (m, np.exp(s)))(*_np_mlp(p[f'encoders_{l}'],
                                                                              b, 2)))
              for l, (h, b) in enumerate(zip(samples, below)))
  log_p = _np_normal_logpdf(samples[-1], 0.0, 1.0)
  for j, (above, target) in enumerate(zip(samples[::-1], samples[-2::-1])):
    m, s = _np_mlp(p[f'latent_decoders_{j}'], above, 2)
    log_p = log_p + _np_normal_logpdf(target, m, np.exp(s))
  (logits,) = _np_mlp(p['pixel_decoder'], samples[0], 1)
  prob = 1 / (1 + np.exp(-logits))
  log_p = log_p + np.sum(x * np.log(prob) + (1 - x) * np.log1p(-prob), -1)
  return log_p - log_q


# two stochastic layers (6 s of CPU) in the full suite only
@pytest.mark.parametrize('layers', [1, pytest.param(2, marks=pytest.mark.slow)])
def test_log_weights_match_numpy(layers):
  model = IWAEModel(stochastic_layers=layers)
  x = (np.random.RandomState(0).rand(3, 784) > 0.7).astype(np.float32)
  params = model.init(jax.random.key(0), x, jax.random.key(1), 1)['params']
  key = jax.random.key(2)
  log_w = model.apply({'params': params}, x, key, 4)
  chex.assert_shape(log_w, (4, 3))
  chex.assert_tree_all_finite(log_w)
  samples, _ = model.apply({'params': params}, x, key, 4, method='encode')
  chex.assert_shape(samples[-1], (4, 3, 50))
  np.testing.assert_allclose(np.asarray(log_w), _np_log_weights(params, x, samples), rtol=2e-5,
                             atol=2e-3)


@pytest.mark.slow  # 6 s
def test_paper_architecture_sizes():
  params = IWAEModel(2).init(jax.random.key(0), jnp.zeros((1, 784)), jax.random.key(1), 1)
  shapes = jax.tree.map(jnp.shape, params['params'])
  assert shapes['encoders_0']['Dense_0']['kernel'] == (784, 200)
  assert shapes['encoders_0']['Dense_2']['kernel'] == (200, 100)
  assert shapes['encoders_1']['Dense_2']['kernel'] == (100, 50)
  assert shapes['latent_decoders_0']['Dense_0']['kernel'] == (50, 100)
  assert shapes['pixel_decoder']['Dense_2']['kernel'] == (200, 784)


def test_samples_and_reconstructions_are_probabilities():
  model = IWAEModel(1)
  params = model.init(jax.random.key(0), jnp.zeros((1, 784)), jax.random.key(1), 1)
  s = model.apply(params, jax.random.key(3), 7, method='sample')
  r = model.apply(params, jnp.ones((5, 784)), method='reconstruct')
  chex.assert_shape([s, r], [(7, 784), (5, 784)])
  assert float(jnp.min(s)) >= 0 and float(jnp.max(s)) <= 1
