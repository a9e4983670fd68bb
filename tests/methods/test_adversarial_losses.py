"""Adversarial objectives against independent computations (numpy, finite differences)."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.methods import adversarial_losses as L



def _sigmoid(t):
  return 1 / (1 + np.exp(-t))


def test_gan_losses_against_probabilities():
  real, fake = np.array([2.0, -1.0, 0.3]), np.array([-3.0, 0.5, 1.5])
  d_real, d_fake = _sigmoid(real), _sigmoid(fake)
  np.testing.assert_allclose(L.gan_discriminator_loss(real, fake),
                             -np.mean(np.log(d_real)) - np.mean(np.log(1 - d_fake)), rtol=1e-6)
  np.testing.assert_allclose(L.gan_generator_loss(fake, 'minimax'), np.mean(np.log(1 - d_fake)),
                             rtol=1e-6)
  np.testing.assert_allclose(L.gan_generator_loss(fake, 'non_saturating'),
                             -np.mean(np.log(d_fake)), rtol=1e-6)
  with pytest.raises(ValueError):
    L.gan_generator_loss(fake, 'wrong')


def test_wgan_signs_and_clipping():
  real, fake = jnp.array([1.0, 2.0]), jnp.array([-1.0, 0.0])
  assert float(L.wasserstein_estimate(real, fake)) == 2.0
  assert float(L.wgan_critic_loss(real, fake)) == -2.0
  clipped = L.clip_weights({'a': jnp.array([-0.5, 0.005, 0.3])}, 0.01)
  np.testing.assert_allclose(clipped['a'], [-0.01, 0.005, 0.01])


def test_alpha_is_one_per_example():
  key = jax.random.key(0)
  real = jax.random.normal(jax.random.key(1), (5, 4, 4, 3))
  fake = jax.random.normal(jax.random.key(2), (5, 4, 4, 3))
  x_hat, alpha = L.interpolates(key, real, fake)
  assert alpha.shape == (5, 1, 1, 1)
  ratio = (x_hat - fake) / (real - fake)  # the mixing weight seen at every pixel
  np.testing.assert_allclose(ratio, np.broadcast_to(alpha, ratio.shape), rtol=1e-4, atol=1e-5)
  assert np.ptp(np.asarray(alpha)) > 0.1  # examples do get different alphas


class _Critic(nn.Module):
  @nn.compact
  def __call__(self, x):
    h = nn.Conv(4, (2, 2))(x)
    return nn.Dense(1)(jnp.tanh(h).reshape(len(x), -1))[:, 0]


def test_gradient_penalty_against_finite_differences():
  critic = _Critic()
  x = np.random.RandomState(0).randn(3, 3, 3, 2).astype(np.float32)
  params = critic.init(jax.random.key(0), x)
  f = lambda t: critic.apply(params, t)
  got = float(L.gradient_penalty(f, jnp.asarray(x)))
  # Independent: central differences of each example's own value, one input at a time.
  eps = 1e-2
  norms = []
  for b in range(3):
    g = np.zeros(x[b].size)
    for i in range(x[b].size):
      d = np.zeros(x[b].size, np.float32)
      d[i] = eps
      plus = x.copy(); plus[b] += d.reshape(x[b].shape)
      minus = x.copy(); minus[b] -= d.reshape(x[b].shape)
      g[i] = (float(f(plus)[b]) - float(f(minus)[b])) / (2 * eps)
    norms.append(np.linalg.norm(g))
  expected = np.mean((np.array(norms) - 1) ** 2)
  np.testing.assert_allclose(got, expected, rtol=2e-3)
  # The wrong axis (a norm over the batch for each pixel) gives another number.
  grads = np.asarray(jax.grad(lambda t: jnp.sum(f(t)))(jnp.asarray(x)))
  wrong = np.mean((np.sqrt(np.sum(grads ** 2, axis=0)) - 1) ** 2)
  assert abs(wrong - got) > 1e-3


def test_info_loss_by_hand():
  cat = jnp.array([0, 2])
  cont = jnp.array([[0.5, -0.5], [0.0, 1.0]])
  logits = jnp.array([[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
  mean = jnp.array([[0.4, -0.5], [0.2, 0.0]])
  log_std = jnp.array([[0.0, -1.0], [0.5, 0.0]])
  lp = np.log(np.exp(np.asarray(logits)) / np.exp(np.asarray(logits)).sum(1, keepdims=True))
  nll_cat = -np.mean([lp[0, 0], lp[1, 2]])
  std = np.exp(np.asarray(log_std))
  dens = np.exp(-0.5 * ((np.asarray(cont) - np.asarray(mean)) / std) ** 2) / (std * np.sqrt(2 * np.pi))
  nll_cont = -np.mean(np.sum(np.log(dens), 1))
  got = L.info_loss(cat, cont, logits, mean, log_std, lambda_cat=1.0, lambda_cont=0.1)
  np.testing.assert_allclose(float(got), nll_cat + 0.1 * nll_cont, rtol=1e-5)
