"""Generator and discriminator/critic networks of the adversarial family, apart from objectives.

Images are NHWC in [-1, 1]. `train` switches BatchNorm between batch statistics (training) and
its running averages (sampling/eval); the mode is always explicit.
  MLPGenerator / MLPDiscriminator  Goodfellow et al. 2014 on MNIST (LeakyReLU in place of maxout)
  DCGANGenerator / DCGANDiscriminator  Radford et al. 2015, for 28x28x1 and 32x32x3
    (`norm='none'` or 'layer' gives the WGAN-GP critic: no BatchNorm in a gradient-penalized critic)
  ResNetGenerator / ResNetCritic  Gulrajani et al. 2017's CIFAR-10 networks
Discriminators return (logits_B, features_BF): InfoGAN's Q head reads the shared trunk's features.
Every network takes `dtype`, the compute dtype of its activations, matrix products and convolutions
(None: the input's, float32; jnp.bfloat16 for train.compute_dtype=bfloat16); its parameters and
BatchNorm statistics stay float32, and its outputs come out in the compute dtype (the methods cast
them to float32 before any loss: genjax/methods/adversarial.py).
"""
import math
from typing import Any, Sequence, Tuple

import flax.linen as nn
import jax.numpy as jnp

from genjax.models import layers
from genjax.models.layers import SubPixelConvTranspose

DCGAN_INIT = nn.initializers.normal(0.02)  # Radford et al.: N(0, 0.02) weights


def _norm(kind, train, dtype=None, name=None):
  """BatchNorm / LayerNorm / identity; flax computes the statistics in float32 for any dtype."""
  if kind == 'batch':
    return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, dtype=dtype,
                        name=name)
  if kind == 'layer':
    return nn.LayerNorm(dtype=dtype, name=name)
  return lambda x: x


class MLPGenerator(nn.Module):
  image_shape: Tuple[int, int, int] = (28, 28, 1)
  hidden: Sequence[int] = (1200, 1200)
  dtype: Any = None

  @nn.compact
  def __call__(self, z_BZ, train=True):
    del train
    h = z_BZ
    for width in self.hidden:
      h = nn.relu(nn.Dense(width, dtype=self.dtype)(h))
    x = jnp.tanh(nn.Dense(math.prod(self.image_shape), dtype=self.dtype)(h))
    return x.reshape((-1,) + tuple(self.image_shape))


class MLPDiscriminator(nn.Module):
  hidden: Sequence[int] = (240, 240)
  dtype: Any = None

  @nn.compact
  def __call__(self, x_BHWC, train=True):
    del train
    h = x_BHWC.reshape(len(x_BHWC), -1)
    for width in self.hidden:
      h = nn.leaky_relu(nn.Dense(width, dtype=self.dtype)(h), 0.2)
    return nn.Dense(1, dtype=self.dtype)(h)[:, 0], h


class DCGANGenerator(nn.Module):
  """z -> Dense to (s, s, C0) -> stride-2 transposed convs doubling the size -> tanh image."""
  image_shape: Tuple[int, int, int] = (28, 28, 1)
  base_features: int = 64
  norm: str = 'batch'
  dtype: Any = None

  @nn.compact
  def __call__(self, z_BZ, train=True):
    size, _, channels = self.image_shape
    ups = 2 if size == 28 else 3  # 7 -> 14 -> 28, or 4 -> 8 -> 16 -> 32
    start = size // 2 ** ups
    features = [self.base_features * 2 ** i for i in reversed(range(ups))]
    h = nn.Dense(start * start * features[0] * 2, kernel_init=DCGAN_INIT, dtype=self.dtype)(z_BZ)
    h = h.reshape(len(z_BZ), start, start, features[0] * 2)
    h = nn.relu(_norm(self.norm, train, self.dtype)(h))
    for f in features[1:] + [None]:
      last = f is None
      # = nn.ConvTranspose(k=4, s=2, 'SAME'), ~25x faster on XLA CPU (models/layers.py)
      h = SubPixelConvTranspose(channels if last else f, kernel_init=DCGAN_INIT,
                                dtype=self.dtype)(h)
      if not last:
        h = nn.relu(_norm(self.norm, train, self.dtype)(h))
    return jnp.tanh(h)


class DCGANDiscriminator(nn.Module):
  """Stride-2 convs halving the size, LeakyReLU(0.2), no norm on the first layer.
  `conv_impl`: 'xla' or 'im2col' (layers.Im2colConv: same math, a much faster gradient penalty
  on CPU)."""
  base_features: int = 64
  norm: str = 'batch'
  conv_impl: str = 'xla'
  dtype: Any = None

  @nn.compact
  def __call__(self, x_BHWC, train=True):
    num_layers = 2 if x_BHWC.shape[1] == 28 else 3
    h = x_BHWC
    for i in range(num_layers):
      h = layers.conv(self.conv_impl, self.base_features * 2 ** i, (4, 4), (2, 2), DCGAN_INIT,
                      name=f'Conv_{i}', dtype=self.dtype)(h)
      if i:
        h = _norm(self.norm, train, self.dtype)(h)
      h = nn.leaky_relu(h, 0.2)
    features = h.reshape(len(h), -1)
    return nn.Dense(1, kernel_init=DCGAN_INIT, dtype=self.dtype)(features)[:, 0], features


class _ResBlock(nn.Module):
  features: int
  resample: str  # 'up', 'down' or 'none'
  norm: str
  first: bool = False  # the critic's first block: no activation before its first conv
  conv_impl: str = 'xla'
  dtype: Any = None

  @nn.compact
  def __call__(self, x, train=True):
    names = (f'Conv_{i}' for i in range(3))  # nn.Conv's own numbering: checkpoints match

    def conv(kernel_size, t):
      return layers.conv(self.conv_impl, self.features, kernel_size, name=next(names),
                         dtype=self.dtype)(t)

    def up(t):  # nearest-neighbour upsampling, as in the paper's code
      return jnp.repeat(jnp.repeat(t, 2, axis=1), 2, axis=2)

    def down(t):
      return nn.avg_pool(t, (2, 2), (2, 2))

    shortcut = x
    if self.resample == 'up':
      shortcut = up(shortcut)
    if self.resample != 'none' or x.shape[-1] != self.features:
      shortcut = conv((1, 1), shortcut)
    if self.resample == 'down':
      shortcut = down(shortcut)
    h = x
    if not self.first:
      h = nn.relu(_norm(self.norm, train, self.dtype)(h))
    if self.resample == 'up':
      h = up(h)
    h = conv((3, 3), h)
    h = nn.relu(_norm(self.norm, train, self.dtype)(h))
    h = conv((3, 3), h)
    if self.resample == 'down':
      h = down(h)
    return shortcut + h


class ResNetGenerator(nn.Module):
  """Gulrajani et al. 2017, CIFAR-10: z(128) -> 4x4x128 -> 3 up-blocks -> 32x32x3."""
  features: int = 128
  channels: int = 3
  dtype: Any = None

  @nn.compact
  def __call__(self, z_BZ, train=True):
    dtype = self.dtype
    h = nn.Dense(4 * 4 * self.features, dtype=dtype)(z_BZ).reshape(len(z_BZ), 4, 4, self.features)
    for _ in range(3):
      h = _ResBlock(self.features, 'up', 'batch', dtype=dtype)(h, train)
    h = nn.relu(_norm('batch', train, dtype)(h))
    return jnp.tanh(nn.Conv(self.channels, (3, 3), padding='SAME', dtype=dtype)(h))


class ResNetCritic(nn.Module):
  """Gulrajani et al. 2017, CIFAR-10: 2 down-blocks, 2 plain blocks, ReLU, mean pool, linear.
  No BatchNorm: the gradient penalty is per example."""
  features: int = 128
  conv_impl: str = 'xla'
  dtype: Any = None

  @nn.compact
  def __call__(self, x_BHWC, train=True):
    f, impl, dtype = self.features, self.conv_impl, self.dtype
    h = _ResBlock(f, 'down', 'none', first=True, conv_impl=impl, dtype=dtype)(x_BHWC, train)
    h = _ResBlock(f, 'down', 'none', conv_impl=impl, dtype=dtype)(h, train)
    h = _ResBlock(f, 'none', 'none', conv_impl=impl, dtype=dtype)(h, train)
    h = _ResBlock(f, 'none', 'none', conv_impl=impl, dtype=dtype)(h, train)
    features = jnp.mean(nn.relu(h), axis=(1, 2))
    return nn.Dense(1, dtype=dtype)(features)[:, 0], features


class InfoGANGenerator(nn.Module):
  """Chen et al. 2016, MNIST (appendix C.1): FC 1024 - FC 7x7x128 - upconv 64 - upconv 1, with
  BatchNorm and ReLU."""
  dtype: Any = None

  @nn.compact
  def __call__(self, z_BZ, train=True):
    dtype = self.dtype
    h = nn.relu(_norm('batch', train, dtype)(nn.Dense(1024, dtype=dtype)(z_BZ)))
    h = nn.relu(_norm('batch', train, dtype)(nn.Dense(7 * 7 * 128, dtype=dtype)(h)))
    h = h.reshape(len(z_BZ), 7, 7, 128)
    h = nn.relu(_norm('batch', train, dtype)(SubPixelConvTranspose(64, dtype=dtype)(h)))
    return jnp.tanh(SubPixelConvTranspose(1, dtype=dtype)(h))


class InfoGANDiscriminator(nn.Module):
  """Chen et al. 2016, MNIST: conv 64 - conv 128 (BN) - FC 1024 (BN), LeakyReLU 0.1; the FC
  features are shared by D's logit and the Q head."""
  conv_impl: str = 'xla'
  dtype: Any = None

  @nn.compact
  def __call__(self, x_BHWC, train=True):
    dtype = self.dtype
    h = layers.conv(self.conv_impl, 64, (4, 4), (2, 2), name='Conv_0', dtype=dtype)(x_BHWC)
    h = nn.leaky_relu(h, 0.1)
    h = layers.conv(self.conv_impl, 128, (4, 4), (2, 2), name='Conv_1', dtype=dtype)(h)
    h = nn.leaky_relu(_norm('batch', train, dtype)(h), 0.1)
    h = nn.Dense(1024, dtype=dtype)(h.reshape(len(h), -1))
    features = nn.leaky_relu(_norm('batch', train, dtype)(h), 0.1)
    return nn.Dense(1, dtype=dtype)(features)[:, 0], features
