"""VAE and IWAE: one code path, two ways of combining the k importance log-weights.

With log w_i = log p(x, h_i) - log q(h_i | x), h_i ~ q(h | x), i = 1..k:
  'iwae': L_k  = log (1/k) sum_i w_i          (Burda et al. 2015, eq. 8; tighter as k grows)
  'vae':  ELBO = (1/k) sum_i log w_i          (Kingma & Welling 2013 with k samples)
Both are maximized by reparameterized gradients; for k = 1 they are the same objective.
"""
import functools
import math

import jax
import jax.numpy as jnp
import optax
from flax.training import train_state

from genjax.models import layers
from genjax.models.iwae_mlp import IWAEModel

OBJECTIVES = ('vae', 'iwae')


def iwae_bound(log_w_KB):
  """log (1/K) sum_k exp(log w_k), per example."""
  return jax.nn.logsumexp(log_w_KB, axis=0) - math.log(log_w_KB.shape[0])


def elbo(log_w_KB):
  """The K-sample average ELBO, per example."""
  return jnp.mean(log_w_KB, axis=0)


def objective_fn(name):
  return {'vae': elbo, 'iwae': iwae_bound}[name]


OPTIMIZERS = ('adam', 'sgd', 'momentum', 'nesterov', 'rmsprop')


def build_model(model_config, compute_dtype='float32'):
  """The IWAE paper's networks; `compute_dtype` ('float32' or 'bfloat16', train.compute_dtype)
  is what their hidden layers compute in (parameters and log-probabilities stay float32)."""
  return IWAEModel(stochastic_layers=model_config.stochastic_layers,
                   latent_dim=model_config.get('latent_dim'),
                   dtype=layers.compute_dtype(compute_dtype))


def iwae_paper_schedule(steps_per_epoch, base_lr=1e-3):
  """lr = base * 10^(-i/7) for 3^i epochs, i = 0, 1, ... (Burda et al. 2015, section 5)."""
  boundaries, epochs = {}, 0
  for i in range(1, 8):  # the paper trains 8 stages, 3280 epochs
    epochs += 3 ** (i - 1)
    boundaries[epochs * steps_per_epoch] = 10 ** (-1 / 7)
  return optax.piecewise_constant_schedule(base_lr, boundaries)


def make_optimizer(optim_config, steps_per_epoch):
  """optim.name: 'adam' (the paper's: beta1 0.9, beta2 0.999, eps 1e-4), 'sgd' (plain),
  'momentum' (heavy ball, coefficient optim.momentum), 'nesterov' (Nesterov momentum, the same
  coefficient) or 'rmsprop' (squared-gradient average optim.rho, eps optim.eps); optim.schedule
  scales any of them."""
  if optim_config.schedule == 'iwae_paper':
    lr = iwae_paper_schedule(steps_per_epoch, optim_config.learning_rate)
  else:
    lr = optim_config.learning_rate
  name = optim_config.get('name', 'adam')
  if name == 'adam':
    return optax.adam(lr, b1=optim_config.b1, b2=optim_config.b2, eps=optim_config.eps)
  if name == 'sgd':
    return optax.sgd(lr)
  if name in ('momentum', 'nesterov'):
    return optax.sgd(lr, momentum=optim_config.get('momentum', 0.9), nesterov=name == 'nesterov')
  if name == 'rmsprop':
    return optax.rmsprop(lr, decay=optim_config.get('rho', 0.9), eps=optim_config.eps)
  raise ValueError(f'optim.name must be one of {OPTIMIZERS}, got {name!r}')


def create_train_state(key, model, tx, data_dim=784):
  # One compiled init: run eagerly, each of its ~100 ops is compiled on its own (~14 s on CPU).
  init = jax.jit(lambda k: model.init(k, jnp.zeros((1, data_dim)), jax.random.key(0), 1))
  params = init(key)['params']
  return train_state.TrainState.create(apply_fn=model.apply, params=params, tx=tx)


def loss_fn(params, model, objective, num_samples, x_BD, key):
  log_w_KB = model.apply({'params': params}, x_BD, key, num_samples)
  bound_B = objective_fn(objective)(log_w_KB)
  metrics = {'elbo': jnp.mean(elbo(log_w_KB)), 'iwae_bound': jnp.mean(iwae_bound(log_w_KB))}
  return -jnp.mean(bound_B), metrics


def make_train_step(model, objective, num_samples):
  """Returns the pure step `train_step(state, x_BD, key) -> (state, metrics)`.

  `key` is the run's training key; the step folds in `state.step`, so a resumed run draws the
  same noise as an uninterrupted one.
  """
  if objective not in OBJECTIVES:
    raise ValueError(f'objective must be one of {OBJECTIVES}, got {objective!r}')

  def train_step(state, x_BD, key):
    key = jax.random.fold_in(key, state.step)
    grad_fn = jax.value_and_grad(
        functools.partial(loss_fn, model=model, objective=objective, num_samples=num_samples),
        has_aux=True)
    (loss, metrics), grads = grad_fn(state.params, x_BD=x_BD, key=key)
    return state.apply_gradients(grads=grads), dict(metrics, loss=loss)

  return train_step
