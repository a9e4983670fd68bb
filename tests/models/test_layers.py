"""SubPixelConvTranspose equals nn.ConvTranspose(k=4, s=2, SAME), forward and backward."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.models.layers import SubPixelConvTranspose


@pytest.mark.parametrize('shape', [(2, 7, 7, 5), (3, 4, 6, 2)])
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
