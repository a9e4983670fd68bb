"""The CPU-friendly layers equal the flax layers they replace: SubPixelConvTranspose is
nn.ConvTranspose(k=4, s=2, SAME), Im2colConv is nn.Conv(SAME), forward and backward."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.models import gan_nets
from genjax.models.layers import Im2colConv, SubPixelConvTranspose


# Eager convolutions and their second derivatives: 8-16 s of CPU a case. The fast tier keeps one
# case of each; the full suite runs them all.
SLOW = pytest.mark.slow


@pytest.mark.parametrize('shape', [(2, 7, 7, 5), pytest.param((3, 4, 6, 2), marks=SLOW)])
def test_same_outputs_and_gradients_as_conv_transpose(shape):
  x = jax.random.normal(jax.random.key(0), shape)
  reference = nn.ConvTranspose(3, (4, 4), strides=(2, 2), padding='SAME')
  params = reference.init(jax.random.key(1), x)
  params = jax.tree.map(lambda p: p + 0.1, params)  # a non-zero bias too
  ours = SubPixelConvTranspose(3)
  assert jax.tree.map(jnp.shape, ours.init(jax.random.key(1), x)) == jax.tree.map(jnp.shape,
                                                                                   params)
  np.testing.assert_allclose(ours.apply(params, x), reference.apply(params, x), atol=1e-5)
  loss = lambda m: (lambda p, x: jnp.sum(jnp.sin(m.apply(p, x))))
  g_ref = jax.grad(loss(reference), argnums=(0, 1))(params, x)
  g_ours = jax.grad(loss(ours), argnums=(0, 1))(params, x)
  for a, b in zip(jax.tree.leaves(g_ours), jax.tree.leaves(g_ref)):
    np.testing.assert_allclose(a, b, atol=1e-4)


@pytest.mark.parametrize('shape,kernel_size,strides', [
    pytest.param((2, 28, 28, 1), (4, 4), (2, 2), marks=SLOW),
    pytest.param((3, 7, 7, 4), (4, 4), (2, 2), marks=SLOW),  # odd size: SAME pads unevenly (1, 2)
    pytest.param((2, 8, 6, 3), (3, 3), (1, 1), marks=SLOW),
    ((2, 5, 5, 3), (1, 1), (1, 1)),
])
def test_im2col_conv_equals_conv_to_second_order(shape, kernel_size, strides):
  """Same parameters, outputs, gradients, and gradient of an input-gradient norm (WGAN-GP's
  double backward) as nn.Conv."""
  x = jax.random.normal(jax.random.key(0), shape)
  reference = nn.Conv(5, kernel_size, strides=strides, padding='SAME')
  params = reference.init(jax.random.key(1), x)
  params = jax.tree.map(lambda p: p + 0.1, params)
  ours = Im2colConv(5, kernel_size, strides)
  assert jax.tree.map(jnp.shape, ours.init(jax.random.key(1), x)) == jax.tree.map(jnp.shape,
                                                                                   params)
  np.testing.assert_allclose(ours.apply(params, x), reference.apply(params, x), atol=1e-5)

  def penalty(module):
    def f(p, x):
      g = jax.grad(lambda x: jnp.sum(jnp.tanh(module.apply(p, x))))(x)
      return jnp.sum((jnp.sqrt(jnp.sum(g ** 2, axis=(1, 2, 3))) - 1.0) ** 2)
    return f

  g_ref = jax.grad(penalty(reference), argnums=(0, 1))(params, x)
  g_ours = jax.grad(penalty(ours), argnums=(0, 1))(params, x)
  for a, b in zip(jax.tree.leaves(g_ours), jax.tree.leaves(g_ref)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('name', ['dcgan', pytest.param('infogan', marks=SLOW),
                                  pytest.param('resnet', marks=SLOW)])
def test_critics_share_parameters_across_conv_impls(name):
  """A checkpoint made with model.conv_impl=xla loads into im2col and gives the same outputs."""
  x = jax.random.normal(jax.random.key(0), (2, 28, 28, 1) if name != 'resnet' else (2, 32, 32, 3))
  make = {'dcgan': lambda impl: gan_nets.DCGANDiscriminator(8, 'none', impl),
          'infogan': lambda impl: gan_nets.InfoGANDiscriminator(impl),
          'resnet': lambda impl: gan_nets.ResNetCritic(8, impl)}[name]
  xla, im2col = make('xla'), make('im2col')
  params = xla.init(jax.random.key(1), x, train=False)
  assert jax.tree.structure(im2col.init(jax.random.key(1), x, train=False)) == \
      jax.tree.structure(params)
  for a, b in zip(xla.apply(params, x, train=False), im2col.apply(params, x, train=False)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
