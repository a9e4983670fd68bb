"""The likelihood models' optimizers: one update of each against the textbook rule in numpy, and
the latent size option."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ml_collections import ConfigDict

from genjax.methods import iwae


def config(name, lr=0.1):
  return ConfigDict(dict(name=name, learning_rate=lr, schedule='constant', b1=0.9, b2=0.999,
                         eps=1e-4, momentum=0.8, rho=0.7))


def two_updates(name, grads):
  tx = iwae.make_optimizer(config(name), steps_per_epoch=10)
  params = {'w': jnp.zeros(3)}
  state = tx.init(params)
  out = []
  for g in grads:
    updates, state = tx.update({'w': jnp.asarray(g)}, state, params)
    out.append(np.asarray(updates['w']))
  return out


G1, G2 = np.array([1.0, -2.0, 0.5]), np.array([0.5, 1.0, -1.0])


def test_sgd():
  u1, u2 = two_updates('sgd', [G1, G2])
  np.testing.assert_allclose(u1, -0.1 * G1, rtol=1e-6)
  np.testing.assert_allclose(u2, -0.1 * G2, rtol=1e-6)


def test_heavy_ball_momentum():
  u1, u2 = two_updates('momentum', [G1, G2])
  velocity = G1
  np.testing.assert_allclose(u1, -0.1 * velocity, rtol=1e-6)
  velocity = G2 + 0.8 * velocity
  np.testing.assert_allclose(u2, -0.1 * velocity, rtol=1e-6)


def test_nesterov_momentum():
  u1, u2 = two_updates('nesterov', [G1, G2])
  # Sutskever et al.'s form: v = g + mu v; step = -lr (g + mu v)
  v1 = G1
  np.testing.assert_allclose(u1, -0.1 * (G1 + 0.8 * v1), rtol=1e-6)
  v2 = G2 + 0.8 * v1
  np.testing.assert_allclose(u2, -0.1 * (G2 + 0.8 * v2), rtol=1e-6)


def test_rmsprop():
  u1, u2 = two_updates('rmsprop', [G1, G2])
  # optax's RMSProp puts eps inside the root: g / sqrt(nu + eps), nu starting at 0.
  nu = 0.3 * G1**2
  np.testing.assert_allclose(u1, -0.1 * G1 / np.sqrt(nu + 1e-4), rtol=1e-5)
  nu = 0.7 * nu + 0.3 * G2**2
  np.testing.assert_allclose(u2, -0.1 * G2 / np.sqrt(nu + 1e-4), rtol=1e-5)


def test_adam_keeps_the_papers_settings():
  u1, _ = two_updates('adam', [G1, G2])
  # Bias-corrected first step: m/(sqrt(v)+eps) = g/(|g|+eps).
  np.testing.assert_allclose(u1, -0.1 * G1 / (np.abs(G1) + 1e-4), rtol=1e-5)


def test_unknown_optimizer_is_refused():
  with pytest.raises(ValueError, match='optim.name'):
    iwae.make_optimizer(config('adagrad'), steps_per_epoch=10)


@pytest.mark.slow  # compiles IWAE train steps: 10-20 s of CPU
@pytest.mark.parametrize('layers', [1, 2])
def test_latent_dim_sets_the_top_layer(layers):
  model = iwae.build_model(ConfigDict(dict(stochastic_layers=layers, latent_dim=3)))
  x = jnp.zeros((4, 784))
  params = model.init(jax.random.key(0), x, jax.random.key(1), 2)['params']
  samples, _ = model.apply({'params': params}, x, jax.random.key(2), 5, method='encode')
  assert samples[-1].shape == (5, 4, 3)
  if layers == 2:
    assert samples[0].shape == (5, 4, 100)  # the lower layer keeps the paper's size
  images = model.apply({'params': params}, jax.random.key(3), 6, method='sample')
  assert images.shape == (6, 784)
  default = iwae.build_model(ConfigDict(dict(stochastic_layers=layers)))
  samples, _ = default.apply(
      {'params': default.init(jax.random.key(0), x, jax.random.key(1), 2)['params']}, x,
      jax.random.key(2), 1, method='encode')
  assert samples[-1].shape[-1] == 50
