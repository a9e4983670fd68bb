"""The MLP latent-variable models of the IWAE paper (Burda et al. 2015, section 5).

One stochastic layer:  q(h1|x): 784-200-200-50,  p(x|h1): 50-200-200-784.
Two stochastic layers: q(h1|x): 784-200-200-100, q(h2|h1): 100-100-100-50,
                       p(h1|h2): 50-100-100-100, p(x|h1): 100-200-200-784.
tanh hidden units, diagonal Gaussians (std = exp(output)) for q and the latent conditionals, a
standard normal prior on the top layer, Bernoulli pixels. VAE and IWAE share these networks; only
the objective that combines the k log-weights differs (genjax/methods/iwae.py).

Shape suffixes: B batch, K importance samples, D pixels, Z latent units. `dtype` is the compute
dtype of the hidden layers' matrix products and tanh (None: float32; jnp.bfloat16 for
train.compute_dtype=bfloat16): the parameters stay float32, and every head's output (a mean, a
log-std, the pixel logits) comes out as float32, so the sampling and every log-probability are
computed in float32.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from genjax.models.layers import as_float32

LOG_2PI = jnp.log(2.0 * jnp.pi)

# (hidden units, latent units) of each stochastic layer, bottom (next to x) first.
ARCHITECTURES = {
    1: (((200, 200), 50),),
    2: (((200, 200), 100), ((100, 100), 50)),
}


def gaussian_log_prob(x, mean, log_std):
  """log N(x; mean, exp(log_std)^2), summed over the last axis."""
  z = (x - mean) * jnp.exp(-log_std)
  return jnp.sum(-0.5 * z * z - log_std - 0.5 * LOG_2PI, axis=-1)


def bernoulli_log_prob(x, logits):
  """log Bernoulli(x; sigmoid(logits)), summed over the last axis; x in {0, 1}."""
  return jnp.sum(x * logits - jax.nn.softplus(logits), axis=-1)


class MLP(nn.Module):
  """tanh hidden layers, then one linear head per entry of `out_sizes`."""
  hidden: Sequence[int]
  out_sizes: Sequence[int]
  dtype: Any = None

  @nn.compact
  def __call__(self, h):
    init = nn.initializers.glorot_uniform()  # the paper's Glorot & Bengio heuristic
    for width in self.hidden:
      h = jnp.tanh(nn.Dense(width, kernel_init=init, dtype=self.dtype)(h))
    return tuple(as_float32(nn.Dense(n, kernel_init=init, dtype=self.dtype)(h))
                 for n in self.out_sizes)


def architecture(stochastic_layers, latent_dim=None):
  """ARCHITECTURES[stochastic_layers], with the top layer's units set to latent_dim if given."""
  if stochastic_layers not in ARCHITECTURES:
    raise ValueError(f'stochastic_layers must be one of {sorted(ARCHITECTURES)}')
  arch = ARCHITECTURES[stochastic_layers]
  if latent_dim is None:
    return arch
  if latent_dim < 1:
    raise ValueError(f'latent_dim must be >= 1, got {latent_dim}')
  return arch[:-1] + ((arch[-1][0], latent_dim),)


class IWAEModel(nn.Module):
  """Encoder and decoder stacks; every method takes explicit PRNG keys. `latent_dim` sets the
  top stochastic layer's units (None: the paper's 50); `dtype` the compute dtype (module
  docstring)."""
  stochastic_layers: int = 1
  data_dim: int = 784
  latent_dim: int | None = None
  dtype: Any = None

  def setup(self):
    arch = architecture(self.stochastic_layers, self.latent_dim)
    dtype = self.dtype
    # q(h_l | h_{l-1}) for l = 1..L, with h_0 = x.
    self.encoders = [MLP(hidden, (z, z), dtype) for hidden, z in arch]
    # p(h_{l-1} | h_l) for l = L..2 (Gaussian), then p(x | h_1) (Bernoulli logits).
    self.latent_decoders = [MLP(tuple(reversed(hidden)), (z_below, z_below), dtype)
                            for (_, z_below), (hidden, _) in zip(arch[:-1], arch[1:])][::-1]
    self.pixel_decoder = MLP(tuple(reversed(arch[0][0])), (self.data_dim,), dtype)

  def __call__(self, x_BD, key, num_samples):
    return self.log_weights(x_BD, key, num_samples)

  def encode(self, x_BD, key, num_samples):
    """Samples h_1..h_L ~ q(h|x); returns ([h_l as KBZ], log q(h|x) as KB)."""
    h = x_BD  # q(h_1|x) is computed once per example, then sampled K times
    samples, log_q_KB = [], 0.0
    for encoder, layer_key in zip(self.encoders, jax.random.split(key, len(self.encoders))):
      mean, log_std = encoder(h)
      eps_KBZ = jax.random.normal(layer_key, (num_samples,) + mean.shape[-2:], mean.dtype)
      h = mean + jnp.exp(log_std) * eps_KBZ
      log_q_KB = log_q_KB + gaussian_log_prob(h, mean, log_std)
      samples.append(h)
    return samples, log_q_KB

  def log_joint(self, x_BD, samples):
    """log p(x, h_1..h_L) for latent samples shaped [..., Z_l]."""
    top = samples[-1]
    log_p = gaussian_log_prob(top, jnp.zeros_like(top), jnp.zeros_like(top))
    for decoder, h_above, h_below in zip(self.latent_decoders, samples[::-1], samples[-2::-1]):
      mean, log_std = decoder(h_above)
      log_p = log_p + gaussian_log_prob(h_below, mean, log_std)
    (logits,) = self.pixel_decoder(samples[0])
    return log_p + bernoulli_log_prob(x_BD, logits)

  def log_weights(self, x_BD, key, num_samples):
    """log w_KB = log p(x, h) - log q(h|x) for K samples h ~ q(h|x) per example."""
    samples, log_q_KB = self.encode(x_BD, key, num_samples)
    return self.log_joint(x_BD, samples) - log_q_KB

  def posterior_means(self, x_BD, key, num_samples):
    """E_q[h_l | x] per layer: exact for h_1, averaged over K samples of the layer below above it."""
    h_KBZ = x_BD[None]
    means = []
    for i, encoder in enumerate(self.encoders):
      mean_KBZ, log_std_KBZ = encoder(h_KBZ)
      means.append(jnp.mean(mean_KBZ, axis=0))
      eps = jax.random.normal(jax.random.fold_in(key, i), (num_samples,) + mean_KBZ.shape[1:])
      h_KBZ = mean_KBZ + jnp.exp(log_std_KBZ) * eps
    return means

  def decode_mean(self, h1):
    """Pixel probabilities of p(x | h_1)."""
    (logits,) = self.pixel_decoder(h1)
    return jax.nn.sigmoid(logits)

  def sample(self, key, num_samples):
    """Ancestral samples from p: returns pixel probabilities [N, D] (the usual grid shows these)."""
    keys = jax.random.split(key, len(self.encoders))
    h = jax.random.normal(keys[0], (num_samples, self.top_dim()))
    for decoder, layer_key in zip(self.latent_decoders, keys[1:]):
      mean, log_std = decoder(h)
      h = mean + jnp.exp(log_std) * jax.random.normal(layer_key, mean.shape, mean.dtype)
    return self.decode_mean(h)

  def top_dim(self):
    return architecture(self.stochastic_layers, self.latent_dim)[-1][1]

  def decode_top(self, h_top):
    """Pixel probabilities for given top-layer latents, each lower layer at its conditional
    mean: a deterministic decoder for interpolations and manifolds."""
    h = h_top
    for decoder in self.latent_decoders:
      h, _ = decoder(h)
    return self.decode_mean(h)

  def encode_mean(self, x_BD):
    """The top layer's code of x through the encoders' means (for one layer: E_q[h_1 | x])."""
    h = x_BD
    for encoder in self.encoders:
      h, _ = encoder(h)
    return h

  def reconstruct(self, x_BD):
    """Pixel probabilities of p(x | h_1) at h_1 = mean of q(h_1|x)."""
    mean, _ = self.encoders[0](x_BD)
    return self.decode_mean(mean)
