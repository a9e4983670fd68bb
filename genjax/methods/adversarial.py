"""One jitted step for GAN, DCGAN, WGAN, WGAN-GP and InfoGAN.

A step is n_critic discriminator/critic updates (on n_critic real batches) then one
generator update; each player has its own optimizer state and BatchNorm statistics, and the
generator's EMA weights (for sampling) live in the state too. Keys: the run's train key, folded
with the step, split per critic iteration and per use (noise, codes, interpolation). Augmentation
(genjax/data/augment.py) draws from fold_in(that loss's key, AUGMENT_FOLD), so the splits above,
and every number of a run without augmentation, are what they were before augmentation existed.
Losses: genjax/methods/adversarial_losses.py; notation: docs/methods.md.
"""
import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct

from genjax.data import augment as aug
from genjax.methods import adversarial_losses as L
from genjax.models.layers import as_float32

METHODS = ('gan', 'dcgan', 'wgan', 'wgan_gp', 'infogan')
# 'translation': only the real images D sees are shifted (classic data augmentation);
# 'diffaugment': DiffAugment's T on D's real and fake inputs, in D's and G's losses.
AUGMENTS = ('none', 'translation', 'diffaugment')
INFO_AUGMENTS = ('none', 'affine')  # InfoGAN: Q's info loss on affinely warped G(z, c)
AUGMENT_FOLD = 0x61756720  # 'aug ': the augmentation keys are fold_in(key, AUGMENT_FOLD)


@struct.dataclass
class Player:
  params: Any
  batch_stats: Any
  opt_state: Any


@struct.dataclass
class AdversarialState:
  step: jnp.ndarray
  g: Player
  d: Player
  ema_params: Any  # exponential moving average of g.params; equals them when ema_decay = 0


@dataclasses.dataclass(frozen=True)
class Spec:
  """Everything static about a method: networks, optimizers and the hyper-parameters of its loss."""
  method: str
  generator: nn.Module
  discriminator: nn.Module
  g_tx: optax.GradientTransformation
  d_tx: optax.GradientTransformation
  z_dim: int = 100
  n_critic: int = 1
  generator_loss: str = 'non_saturating'  # GAN family only
  clip: float = 0.01  # WGAN
  gp_lambda: float = 10.0  # WGAN-GP
  ema_decay: float = 0.0
  num_categories: int = 10  # InfoGAN codes
  num_continuous: int = 2
  lambda_cat: float = 1.0
  lambda_cont: float = 0.1
  fixed_continuous_std: bool = False  # Q's Gaussian over c_cont with std 1 (the paper's code)
  info_updates_trunk: bool = True  # False: the D step trains only the Q head on the MI term
  z_prior: str = 'normal'  # or 'uniform' on [-1, 1] (the InfoGAN paper's code)
  augment: str = 'none'  # one of AUGMENTS
  augment_max_shift: int = 2  # pixels, for augment='translation'
  info_augment: str = 'none'  # one of INFO_AUGMENTS
  info_affine_rotate: float = 15.0  # the warps' ranges: degrees,
  info_affine_shear: float = 0.2  # horizontal shear (slant),
  info_affine_scale: float = 0.1  # relative scale,
  info_affine_shift: float = 2.0  # pixels
  info_consistency: float = 0.0  # weight of Q's agreement on two warps of each real image

  def __post_init__(self):
    if self.method not in METHODS:
      raise ValueError(f'method must be one of {METHODS}, got {self.method!r}')
    if self.z_prior not in ('normal', 'uniform'):
      raise ValueError(f"z_prior must be 'normal' or 'uniform', got {self.z_prior!r}")
    if self.augment not in AUGMENTS:
      raise ValueError(f'augment must be one of {AUGMENTS}, got {self.augment!r}')
    if self.info_augment not in INFO_AUGMENTS:
      raise ValueError(f'info_augment must be one of {INFO_AUGMENTS}, got {self.info_augment!r}')
    if not self.is_infogan and (self.info_augment != 'none' or self.info_consistency):
      raise ValueError('info_augment and info_consistency act on InfoGAN\'s Q head; '
                       f'method is {self.method!r}')

  @property
  def is_infogan(self):
    return self.method == 'infogan'

  @property
  def is_wasserstein(self):
    return self.method in ('wgan', 'wgan_gp')


class QHead(nn.Module):
  """InfoGAN's Q(c | x) on the discriminator trunk's features: categorical logits, and the mean
  and log-std of a factored Gaussian for the continuous codes."""
  num_categories: int = 10
  num_continuous: int = 2
  dtype: Any = None  # the compute dtype (None: the features'); parameters stay float32

  @nn.compact
  def __call__(self, features_BF, train=True):
    h = nn.Dense(128, dtype=self.dtype)(features_BF)
    h = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(h)
    h = nn.leaky_relu(h, 0.2)
    out = nn.Dense(self.num_categories + 2 * self.num_continuous, dtype=self.dtype)(h)
    k, c = self.num_categories, self.num_continuous
    return out[:, :k], out[:, k:k + c], jnp.clip(out[:, k + c:], -5.0, 2.0)


class WithQHead(nn.Module):
  """A discriminator whose trunk is shared by D's logit and InfoGAN's Q head."""
  trunk: nn.Module
  q_head: QHead

  def __call__(self, x, train=True):
    logits, features = self.trunk(x, train)
    return logits, self.q_head(features, train)


def _variables(player, params=None):
  v = {'params': player.params if params is None else params}
  if player.batch_stats:
    v['batch_stats'] = player.batch_stats
  return v


def _apply(module, player, x, train, params=None):
  """(output, new batch_stats): statistics update only in training mode and if there are any.
  The output is float32 whatever the networks' compute dtype (train.compute_dtype), so every loss,
  metric and sample below is computed in float32."""
  variables = _variables(player, params)
  if train and player.batch_stats:
    out, updates = module.apply(variables, x, train=True, mutable=['batch_stats'])
    return as_float32(out), updates['batch_stats']
  return as_float32(module.apply(variables, x, train=train)), player.batch_stats


def sample_noise(spec, key, batch):
  if spec.z_prior == 'uniform':
    return jax.random.uniform(key, (batch, spec.z_dim), minval=-1.0, maxval=1.0)
  return jax.random.normal(key, (batch, spec.z_dim))


def sample_latents(spec, key, batch, shard=None):
  """Generator input: z from spec.z_prior, with InfoGAN's codes appended. Returns (input, codes).

  `shard` (make_train_step's, on several devices) splits them along the batch like the real
  images. Nothing else tells XLA to, and without it G ran on every device for the whole batch (a
  2-device DCGAN-CIFAR step did 0.89 of one device's FLOPs on each device, not 0.5). The values
  do not depend on it (JAX's random bits are the same however the output is split)."""
  k_z, k_c = jax.random.split(key)
  z = sample_noise(spec, k_z, batch)
  if not spec.is_infogan:
    return (shard(z) if shard else z), None
  cat, cont = L.sample_codes(k_c, batch, spec.num_categories, spec.num_continuous)
  latents = jnp.concatenate([z, jax.nn.one_hot(cat, spec.num_categories), cont], axis=1)
  if shard:
    latents, cat, cont = shard(latents), shard(cat), shard(cont)
  return latents, (cat, cont)


def generator_input_dim(spec):
  return spec.z_dim + (spec.num_categories + spec.num_continuous if spec.is_infogan else 0)


def init_state(spec, key, image_shape):
  k_g, k_d = jax.random.split(key)
  z = jnp.zeros((2, generator_input_dim(spec)))
  g_vars = spec.generator.init(k_g, z, train=False)
  d_vars = spec.discriminator.init(k_d, jnp.zeros((2,) + tuple(image_shape)), train=False)
  g = Player(g_vars['params'], g_vars.get('batch_stats', {}), spec.g_tx.init(g_vars['params']))
  d = Player(d_vars['params'], d_vars.get('batch_stats', {}), spec.d_tx.init(d_vars['params']))
  # A copy: the step donates its state, and one buffer cannot be donated twice.
  return AdversarialState(step=jnp.zeros((), jnp.int32), g=g, d=d,
                          ema_params=jax.tree.map(jnp.copy, g.params))


def _split_d_out(spec, out):
  """(logits, Q outputs or None): plain discriminators return (logits, trunk features)."""
  return out[0], (out[1] if spec.is_infogan else None)


def _info(spec, codes, q):
  cat_logits, cont_mean, cont_log_std = q
  if spec.fixed_continuous_std:
    cont_log_std = jnp.zeros_like(cont_log_std)
  return L.info_loss(*codes, cat_logits, cont_mean, cont_log_std, spec.lambda_cat,
                     spec.lambda_cont)


def _augment_keys(key):
  """(real, fake, info warp, consistency) keys of one loss: from fold_in(key, AUGMENT_FOLD), so
  the loss's own splits of `key` are untouched."""
  return jax.random.split(jax.random.fold_in(key, AUGMENT_FOLD), 4)


def augment_real(spec, key, real):
  """The real images as D sees them: shifted ('translation') or through T ('diffaugment')."""
  if spec.augment == 'translation':
    return aug.translate(key, real, spec.augment_max_shift)
  if spec.augment == 'diffaugment':
    return aug.diffaugment(key, real)
  return real


def augment_fake(spec, key, fake):
  """The generated images as D sees them: through T under 'diffaugment' (G's gradient flows
  through T), untouched otherwise. Real and fake batches draw T's parameters independently."""
  return aug.diffaugment(key, fake) if spec.augment == 'diffaugment' else fake


def info_warp(spec, key, x):
  """InfoGAN: one random small affine warp per image (spec.info_affine_* ranges)."""
  return aug.random_affine(key, x, spec.info_affine_rotate, spec.info_affine_shear,
                           spec.info_affine_scale, spec.info_affine_shift)


def _q(spec, d, params, x):
  """Q's outputs on an extra batch x; the BatchNorm statistics of this pass are dropped (the
  running averages follow only the batches D judges)."""
  (_, q), _ = _apply(spec.discriminator, d, x, train=True, params=params)
  return q


def critic_loss(spec, d_params, d, g, real, key, shard=None):
  """The discriminator's (critic's) loss on one real batch; G is held fixed."""
  k_z, k_gp = jax.random.split(key)
  k_real, k_fake, k_info, k_consistency = _augment_keys(key)
  latents, codes = sample_latents(spec, k_z, real.shape[0], shard)
  fake, _ = _apply(spec.generator, g, latents, train=True)  # G's statistics are its own step's
  fake = jax.lax.stop_gradient(fake)
  real_in, fake_in = augment_real(spec, k_real, real), augment_fake(spec, k_fake, fake)
  real_out, stats = _apply(spec.discriminator, d, real_in, train=True, params=d_params)
  fake_out, stats = _apply(spec.discriminator, d.replace(batch_stats=stats), fake_in, train=True,
                           params=d_params)
  (real_logits, _), (fake_logits, q) = _split_d_out(spec, real_out), _split_d_out(spec, fake_out)
  metrics = {}
  if spec.is_wasserstein:
    loss = L.wgan_critic_loss(real_logits, fake_logits)
    metrics['wasserstein_estimate'] = L.wasserstein_estimate(real_logits, fake_logits)
    if spec.method == 'wgan_gp':
      # The penalty stays on interpolates of the un-augmented real and generated images: it asks
      # for a 1-Lipschitz critic on the data's neighbourhood, whatever D is shown.
      x_hat, _ = L.interpolates(k_gp, real, fake)
      critic = lambda x: _apply(spec.discriminator, d, x, train=True, params=d_params)[0][0]
      gp = L.gradient_penalty(critic, x_hat)
      loss = loss + spec.gp_lambda * gp
      metrics['gradient_penalty'] = gp
  else:
    loss = L.gan_discriminator_loss(real_logits, fake_logits)
    metrics['d_real'] = jnp.mean(jax.nn.sigmoid(real_logits))
    metrics['d_fake'] = jnp.mean(jax.nn.sigmoid(fake_logits))
  if spec.is_infogan:
    q_params = d_params
    if not spec.info_updates_trunk:
      # Q reads the trunk's features but its loss moves only Q's own layers here.
      q_params = {**d_params, 'trunk': jax.lax.stop_gradient(d_params['trunk'])}
    if spec.info_augment == 'affine':
      # Q must name c from a warped G(z, c); D's own loss above stays on the un-warped images.
      q = _q(spec, d, q_params, info_warp(spec, k_info, fake))
    elif not spec.info_updates_trunk:
      q = _q(spec, d, q_params, fake_in)
    info = _info(spec, codes, q)
    loss = loss + info
    metrics['d_info_loss'] = info
    if spec.info_consistency:
      # Label-free: Q's categorical posterior agrees on two independent warps of each real image.
      k1, k2 = jax.random.split(k_consistency)
      logits_1 = _q(spec, d, q_params, info_warp(spec, k1, real))[0]
      logits_2 = _q(spec, d, q_params, info_warp(spec, k2, real))[0]
      consistency = L.symmetric_kl(logits_1, logits_2)
      loss = loss + spec.info_consistency * consistency
      metrics['d_consistency'] = consistency
  metrics['d_loss'] = loss
  return loss, (stats, metrics)


def generator_loss(spec, g_params, g, d, key, batch, shard=None):
  latents, codes = sample_latents(spec, key, batch, shard)
  _, k_fake, k_info, _ = _augment_keys(key)
  fake, g_stats = _apply(spec.generator, g, latents, train=True, params=g_params)
  # D's statistics: its own step's
  out, _ = _apply(spec.discriminator, d, augment_fake(spec, k_fake, fake), train=True)
  logits, q = _split_d_out(spec, out)
  if spec.is_wasserstein:
    loss = L.wgan_generator_loss(logits)
  else:
    loss = L.gan_generator_loss(logits, spec.generator_loss)
  metrics = {}
  if spec.is_infogan:
    if spec.info_augment == 'affine':
      # G must make c recognisable after any small warp, so c cannot be a slant or a width.
      q = _q(spec, d, d.params, info_warp(spec, k_info, fake))
    info = _info(spec, codes, q)
    loss = loss + info
    metrics['g_info_loss'] = info
  metrics['g_loss'] = loss
  return loss, (g_stats, metrics)


def _update(tx, player, grads, params_fn=None):
  updates, opt_state = tx.update(grads, player.opt_state, player.params)
  params = optax.apply_updates(player.params, updates)
  if params_fn is not None:
    params = params_fn(params)
  return player.replace(params=params, opt_state=opt_state)


def make_train_step(spec, mesh=None):
  """`train_step(state, real_NBHWC, key) -> (state, metrics)`, N = spec.n_critic real batches.
  With a `mesh` of several devices, the latents are split along its 'data' axis as the real
  batch is (genjax/parallel.py)."""
  shard = None
  if mesh is not None and mesh.devices.size > 1:
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec('data'))
    shard = lambda x: jax.lax.with_sharding_constraint(x, sharding)

  def critic_update(d, g, real, key):
    grads, (stats, metrics) = jax.grad(
        lambda p: critic_loss(spec, p, d, g, real, key, shard), has_aux=True)(d.params)
    clip = (lambda p: L.clip_weights(p, spec.clip)) if spec.method == 'wgan' else None
    d = _update(spec.d_tx, d.replace(batch_stats=stats), grads, clip)
    return d, metrics

  def train_step(state, real_NBHWC, key):
    key = jax.random.fold_in(key, state.step)
    k_d, k_g = jax.random.split(key)
    d_keys = jax.random.split(k_d, spec.n_critic)
    # A Python loop, not lax.scan: inside an XLA while loop (even one unrolled by scan) the CPU
    # backend ran these convolutions ~10x slower (measured: 2.2 s vs 0.2 s per DCGAN step).
    d, d_metrics = state.d, []
    for i in range(spec.n_critic):
      d, metrics = critic_update(d, state.g, real_NBHWC[i], d_keys[i])
      d_metrics.append(metrics)
    d_metrics = jax.tree.map(lambda *v: jnp.mean(jnp.stack(v)), *d_metrics)
    batch = real_NBHWC.shape[1]
    grads, (g_stats, g_metrics) = jax.grad(
        lambda p: generator_loss(spec, p, state.g, d, k_g, batch, shard),
        has_aux=True)(state.g.params)
    g = _update(spec.g_tx, state.g.replace(batch_stats=g_stats), grads)
    ema = optax.incremental_update(g.params, state.ema_params, 1.0 - spec.ema_decay)
    metrics = {**d_metrics, **g_metrics}
    return AdversarialState(step=state.step + 1, g=g, d=d, ema_params=ema), metrics

  return train_step


def generate(spec, state, latents, use_ema=True):
  """Samples in sampling mode: BatchNorm uses its running statistics."""
  params = state.ema_params if use_ema and spec.ema_decay > 0 else state.g.params
  return _apply(spec.generator, state.g, latents, train=False, params=params)[0]


def _discriminator_outputs(spec, state, x):
  """D's outputs with BatchNorm on the statistics of the batch x itself, running averages left
  untouched. In training D only ever normalizes pure batches (all real or all generated); its
  running averages mix the two kinds, so on held-out real images they shift every feature."""
  return _apply(spec.discriminator, state.d, x, train=bool(state.d.batch_stats))[0]


def discriminate(spec, state, x):
  """D's logits (or the critic's values) for a batch x (see _discriminator_outputs)."""
  return _discriminator_outputs(spec, state, x)[0]


def q_predictions(spec, state, x):
  """InfoGAN: Q's categorical logits for a batch of images x (see _discriminator_outputs)."""
  _, (cat_logits, _, _) = _discriminator_outputs(spec, state, x)
  return cat_logits
