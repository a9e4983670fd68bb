"""The VAE/IWAE objectives and the jitted train step."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ml_collections import ConfigDict

from genjax.methods import iwae


def test_bounds_against_numpy_logsumexp():
  log_w = np.random.RandomState(0).randn(50, 7).astype(np.float32) * 30 - 100
  m = log_w.max(0)
  expected = m + np.log(np.mean(np.exp(log_w - m), axis=0))
  np.testing.assert_allclose(np.asarray(iwae.iwae_bound(jnp.asarray(log_w))), expected, rtol=1e-6)
  np.testing.assert_allclose(np.asarray(iwae.elbo(jnp.asarray(log_w))), log_w.mean(0), rtol=1e-6)
  assert np.all(expected >= log_w.mean(0))  # Jensen


def test_paper_learning_rate_schedule():
  lr = iwae.iwae_paper_schedule(steps_per_epoch=10)
  # stage i lasts 3^i epochs at 1e-3 * 10^(-i/7)
  for epoch, stage in [(0, 0), (1, 1), (3, 1), (4, 2), (12, 2), (13, 3), (3279, 7), (5000, 7)]:
    np.testing.assert_allclose(float(lr(epoch * 10)), 1e-3 * 10 ** (-stage / 7), rtol=1e-5)


def _setup(objective, k, layers=1):
  model = iwae.build_model(ConfigDict(dict(stochastic_layers=layers)))
  tx = iwae.make_optimizer(ConfigDict(dict(schedule='constant', learning_rate=1e-3, b1=0.9,
                                           b2=0.999, eps=1e-4)), 100)
  state = iwae.create_train_state(jax.random.key(0), model, tx)
  return model, state, iwae.make_train_step(model, objective, k)


@pytest.mark.slow  # compiles IWAE train steps: 10-20 s of CPU
def test_k1_vae_and_iwae_are_the_same_step():
  x = (np.random.RandomState(0).rand(8, 784) > 0.5).astype(np.float32)
  _, state, vae_step = _setup('vae', 1)
  _, _, iwae_step = _setup('iwae', 1)
  a, ma = vae_step(state, x, jax.random.key(3))
  b, mb = iwae_step(state, x, jax.random.key(3))
  chex.assert_trees_all_close(a.params, b.params)
  np.testing.assert_allclose(ma['loss'], mb['loss'])


@pytest.mark.slow  # compiles IWAE train steps: 10-20 s of CPU
def test_iwae_and_vae_differ_for_k_above_1():
  x = (np.random.RandomState(0).rand(8, 784) > 0.5).astype(np.float32)
  _, state, vae_step = _setup('vae', 5)
  _, _, iwae_step = _setup('iwae', 5)
  _, ma = vae_step(state, x, jax.random.key(3))
  _, mb = iwae_step(state, x, jax.random.key(3))
  # same draws: the VAE loss is -ELBO, the IWAE loss is -L_5 <= -ELBO
  np.testing.assert_allclose(ma['loss'], -ma['elbo'], rtol=1e-6)
  np.testing.assert_allclose(mb['loss'], -mb['iwae_bound'], rtol=1e-6)
  assert float(mb['loss']) < float(ma['loss'])


# two stochastic layers: 15 s of CPU, in the full suite only
@pytest.mark.parametrize('layers', [1, pytest.param(2, marks=pytest.mark.slow)])
def test_train_step_compiles_once_and_learns(layers, mnist_raw):
  images, _ = mnist_raw['test']
  x = (images[:100].reshape(100, -1) > 127).astype(np.float32)
  _, state, step = _setup('iwae', 5, layers)
  chex.clear_trace_counter()  # the counter is per function name, across parametrizations
  step = jax.jit(chex.assert_max_traces(step, n=1))
  losses = []
  for _ in range(40):
    state, metrics = step(state, x, jax.random.key(1))
    losses.append(float(metrics['loss']))
  assert int(state.step) == 40
  assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 20


@pytest.mark.slow  # compiles IWAE train steps: 10-20 s of CPU
def test_noise_is_folded_with_the_step():
  """The step draws its noise from fold_in(key, state.step): the same state, batch and key at
  another step count give another loss, and the loss equals the one computed by hand from
  fold_in(key, step) (with fold_in removed from the step, these asserts fail)."""
  model, state, step = _setup('iwae', 5)
  x = (np.random.RandomState(0).rand(4, 784) > 0.5).astype(np.float32)
  key = jax.random.key(1)
  _, m0 = step(state, x, key)
  _, m7 = step(state.replace(step=7), x, key)
  assert not np.isclose(float(m0['loss']), float(m7['loss']))
  by_hand, _ = iwae.loss_fn(state.params, model=model, objective='iwae', num_samples=5, x_BD=x,
                            key=jax.random.fold_in(key, 7))
  np.testing.assert_allclose(float(m7['loss']), float(by_hand), rtol=1e-6)
  unfolded, _ = iwae.loss_fn(state.params, model=model, objective='iwae', num_samples=5, x_BD=x,
                             key=key)
  assert not np.isclose(float(m7['loss']), float(unfolded))
