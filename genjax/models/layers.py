"""Layers that XLA on CPU runs much faster than their textbook form, with identical math; and
the compute dtype every network takes (`train.compute_dtype`)."""
from typing import Any, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

_DN = ('NHWC', 'HWIO', 'NHWC')
CONV_IMPLS = ('xla', 'im2col')  # the forms `conv` can build; model.conv_impl picks one
# train.compute_dtype: what activations, matrix products and convolutions run in. Parameters,
# BatchNorm statistics, losses and optimizer updates stay float32 whatever it is.
COMPUTE_DTYPES = ('float32', 'bfloat16')


def compute_dtype(name):
  """The flax `dtype` of the networks for train.compute_dtype `name`: None for 'float32' (flax's
  default, the inputs' dtype: exactly the float32 computation of before the option existed),
  jnp.bfloat16 for 'bfloat16'. Parameters keep flax's param_dtype, float32, either way."""
  if name not in COMPUTE_DTYPES:
    raise ValueError(f'compute dtype {name!r}: choose one of {COMPUTE_DTYPES}.')
  return None if name == 'float32' else jnp.bfloat16


def as_float32(tree):
  """Every floating leaf of `tree` as float32 (float32 leaves are returned as they are): network
  outputs pass through this before any loss, metric or sample leaves the network."""
  def cast(x):
    if jnp.issubdtype(x.dtype, jnp.floating) and x.dtype != jnp.float32:
      return x.astype(jnp.float32)
    return x
  return jax.tree.map(cast, tree)


class SubPixelConvTranspose(nn.Module):
  """`nn.ConvTranspose(features, (4, 4), strides=(2, 2), padding='SAME')`, computed as four 2x2
  convolutions, one per output phase, interleaved (a "sub-pixel" decomposition).

  A stride-2 transposed convolution is a convolution over an input dilated with zeros; 3/4 of
  the products are with those zeros, and XLA's CPU backend computes its kernel gradient very
  slowly (~10x here). Output pixel (2q + r) only ever meets kernel taps of one parity, so each
  phase is a dense 2x2 convolution of the undilated input. Same parameters (names, shapes,
  initialization) as nn.ConvTranspose, same outputs to float rounding
  (tests/models/test_layers.py).
  """
  features: int
  kernel_init: nn.initializers.Initializer = nn.linear.default_kernel_init
  use_bias: bool = True
  dtype: Any = None  # the compute dtype (None: the input's); the parameters stay float32

  @nn.compact
  def __call__(self, x_BHWC):
    kernel = self.param('kernel', self.kernel_init, (4, 4, x_BHWC.shape[-1], self.features))
    bias = (self.param('bias', nn.initializers.zeros_init(), (self.features,))
            if self.use_bias else None)
    x_BHWC, kernel, bias = nn.dtypes.promote_dtype(x_BHWC, kernel, bias, dtype=self.dtype)
    # lax.conv_transpose's 'SAME' padding for k=4, s=2 pads the dilated input by 2 on each side.
    # Phase r: taps k = r+1 (mod 2)... written out: r=0 uses x[q-1], x[q] with taps 0, 2;
    # r=1 uses x[q], x[q+1] with taps 1, 3.
    taps = {0: (slice(0, None, 2), (1, 0)), 1: (slice(1, None, 2), (0, 1))}
    rows = []
    for rh in (0, 1):
      cols = []
      for rw in (0, 1):
        (th, ph), (tw, pw) = taps[rh], taps[rw]
        cols.append(lax.conv_general_dilated(x_BHWC, kernel[th, tw], (1, 1), [ph, pw],
                                             dimension_numbers=_DN))
      rows.append(jnp.stack(cols, axis=3))  # B, H, W, rw, C
    y = jnp.stack(rows, axis=2)  # B, H, rh, W, rw, C
    b, h, _, w, _, c = y.shape
    y = y.reshape(b, 2 * h, 2 * w, c)
    if self.use_bias:
      y = y + bias
    return y


class Im2colConv(nn.Module):
  """`nn.Conv(features, kernel_size, strides, padding='SAME')` as one matrix product over the
  input's patches ("im2col").

  Same result and same parameters as nn.Conv; what changes is the gradient graph. The gradient
  penalty of WGAN-GP differentiates the critic's input gradient once more. For a stride-2
  convolution that input gradient is a convolution over a zero-dilated tensor, and under XLA CPU
  the penalty's gradient cost ~12x a plain critic gradient (results/benchmarks). In im2col
  form every derivative, of any order, is a matrix product plus strided slices and pads, which
  XLA runs at GEMM speed. On GPU/TPU the native convolution is the better
  choice; `model.conv_impl` selects.
  """
  features: int
  kernel_size: Tuple[int, int]
  strides: Tuple[int, int] = (1, 1)
  kernel_init: nn.initializers.Initializer = nn.linear.default_kernel_init
  use_bias: bool = True
  dtype: Any = None  # the compute dtype (None: the input's); the parameters stay float32

  @nn.compact
  def __call__(self, x_BHWC):
    (kh, kw), (sh, sw), c = self.kernel_size, self.strides, x_BHWC.shape[-1]
    kernel = self.param('kernel', self.kernel_init, (kh, kw, c, self.features))
    bias = (self.param('bias', nn.initializers.zeros_init(), (self.features,))
            if self.use_bias else None)
    x_BHWC, kernel, bias = nn.dtypes.promote_dtype(x_BHWC, kernel, bias, dtype=self.dtype)
    (ph, pw) = lax.padtype_to_pads(x_BHWC.shape[1:3], (kh, kw), (sh, sw), 'SAME')
    x = jnp.pad(x_BHWC, ((0, 0), ph, pw, (0, 0)))
    out_h = (x.shape[1] - kh) // sh + 1
    out_w = (x.shape[2] - kw) // sw + 1
    # Tap-major, channel-minor: the order of kernel.reshape(kh * kw * c, features) (HWIO).
    patches = jnp.concatenate(
        [x[:, i:i + sh * (out_h - 1) + 1:sh, j:j + sw * (out_w - 1) + 1:sw, :]
         for i in range(kh) for j in range(kw)], axis=-1)
    y = patches @ kernel.reshape(kh * kw * c, self.features)
    if self.use_bias:
      y = y + bias
    return y


def conv(impl, features, kernel_size, strides=(1, 1), kernel_init=nn.linear.default_kernel_init,
         name=None, dtype=None):
  """A 'SAME' convolution in the chosen form: 'xla' (nn.Conv) or 'im2col' (Im2colConv); both have
  the same parameter tree, so a checkpoint made with one loads into the other. `dtype`: the
  compute dtype (None: the input's)."""
  if impl == 'im2col':
    return Im2colConv(features, tuple(kernel_size), tuple(strides), kernel_init, dtype=dtype,
                      name=name)
  if impl == 'xla':
    return nn.Conv(features, kernel_size, strides=strides, padding='SAME',
                   kernel_init=kernel_init, dtype=dtype, name=name)
  raise ValueError(f'conv impl {impl!r}: choose one of {CONV_IMPLS}.')
