"""Image augmentations on device, from explicit keys, differentiable in the images.

Every function takes NHWC float images in [-1, 1] (`x_BHWC`) and draws its own parameters per
image from `key`; for a fixed key each op is an affine function of the images, so gradients flow
through it (DiffAugment needs this: the generator is trained through the augmentation).
The fill of pixels that come from outside the image is `BACKGROUND` = -1, MNIST's background
after scaling to [-1, 1] (black on CIFAR-10).

- `translate`: integer shifts, the classic data augmentation.
- `diffaugment`: DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient
  GAN Training"), policies 'color', 'translation' and 'cutout', written from the paper's text.
- `random_affine`: small rotations, shears, scalings and sub-pixel shifts, bilinear.
"""
import math

import jax
import jax.numpy as jnp

BACKGROUND = -1.0
DIFFAUGMENT_POLICIES = ('color', 'translation', 'cutout')


def _pair(value):
  return (value, value) if isinstance(value, int) else tuple(value)


# --- translation -------------------------------------------------------------------------------
def shift_images(x_BHWC, shifts_B2, max_shift, fill=BACKGROUND):
  """Image b moved down by shifts_B2[b, 0] and right by shifts_B2[b, 1] pixels, fill where it
  uncovers; |shift| <= max_shift (static; an int, or (rows, cols))."""
  my, mx = _pair(max_shift)
  _, h, w, c = x_BHWC.shape
  padded = jnp.pad(x_BHWC, ((0, 0), (my, my), (mx, mx), (0, 0)), constant_values=fill)
  starts_B2 = jnp.array([my, mx]) - shifts_B2
  crop = lambda img, s: jax.lax.dynamic_slice(img, (s[0], s[1], 0), (h, w, c))
  return jax.vmap(crop)(padded, starts_B2)


def translate(key, x_BHWC, max_shift, fill=BACKGROUND):
  """Each image shifted by its own integer (dy, dx), uniform in [-max_shift, max_shift]^2."""
  my, mx = _pair(max_shift)
  if my == 0 and mx == 0:
    return x_BHWC
  shifts_B2 = jax.random.randint(key, (x_BHWC.shape[0], 2), jnp.array([-my, -mx]),
                                 jnp.array([my + 1, mx + 1]))
  return shift_images(x_BHWC, shifts_B2, (my, mx), fill)


# --- DiffAugment -------------------------------------------------------------------------------
def _per_image(key, x_BHWC, low, high):
  return jax.random.uniform(key, (x_BHWC.shape[0], 1, 1, 1), x_BHWC.dtype, low, high)


def brightness(key, x_BHWC):
  """x + b, one b ~ U[-0.5, 0.5] per image."""
  return x_BHWC + _per_image(key, x_BHWC, -0.5, 0.5)


def saturation(key, x_BHWC):
  """Each pixel's deviation from its mean over channels scaled by s ~ U[0, 2] per image.
  On one channel (MNIST) the deviation is 0: the identity."""
  mean = jnp.mean(x_BHWC, axis=-1, keepdims=True)
  return (x_BHWC - mean) * _per_image(key, x_BHWC, 0.0, 2.0) + mean


def contrast(key, x_BHWC):
  """The deviation from the image's mean (over pixels and channels) scaled by s ~ U[0.5, 1.5]."""
  mean = jnp.mean(x_BHWC, axis=(1, 2, 3), keepdims=True)
  return (x_BHWC - mean) * _per_image(key, x_BHWC, 0.5, 1.5) + mean


def color(key, x_BHWC):
  """Brightness, then saturation, then contrast, each with its own key."""
  k_b, k_s, k_c = jax.random.split(key, 3)
  return contrast(k_c, saturation(k_s, brightness(k_b, x_BHWC)))


def translation(key, x_BHWC, ratio=0.125, fill=BACKGROUND):
  """Integer shifts of up to `ratio` of the image's height / width (1/8: 4 px on 28 or 32)."""
  _, h, w, _ = x_BHWC.shape
  return translate(key, x_BHWC, (int(h * ratio + 0.5), int(w * ratio + 0.5)), fill)


def cutout(key, x_BHWC, ratio=0.5, fill=BACKGROUND):
  """A rectangle of `ratio` of the image's height and width (a square of half the size on square
  images) set to `fill`; its centre is uniform over the image, so it may be partly outside."""
  b, h, w, _ = x_BHWC.shape
  sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
  k_y, k_x = jax.random.split(key)
  top_B = jax.random.randint(k_y, (b,), 0, h + 1) - sy // 2
  left_B = jax.random.randint(k_x, (b,), 0, w + 1) - sx // 2
  rows_BH = jnp.arange(h)[None] - top_B[:, None]
  cols_BW = jnp.arange(w)[None] - left_B[:, None]
  inside_BH = (rows_BH >= 0) & (rows_BH < sy)
  inside_BW = (cols_BW >= 0) & (cols_BW < sx)
  cut_BHW1 = (inside_BH[:, :, None] & inside_BW[:, None, :])[..., None]
  return jnp.where(cut_BHW1, jnp.asarray(fill, x_BHWC.dtype), x_BHWC)


def parse_policy(policy):
  """'color,translation,cutout' -> ('color', 'translation', 'cutout'); unknown names refused."""
  names = tuple(p.strip() for p in policy.split(',') if p.strip())
  for name in names:
    if name not in DIFFAUGMENT_POLICIES:
      raise ValueError(f'DiffAugment policy {name!r}: choose from {DIFFAUGMENT_POLICIES}.')
  return names


def diffaugment(key, x_BHWC, policy='color,translation,cutout', fill=BACKGROUND):
  """DiffAugment's T: the policy's ops in order, each with its own key split from `key`."""
  names = parse_policy(policy)
  ops = {'color': color, 'translation': lambda k, x: translation(k, x, fill=fill),
         'cutout': lambda k, x: cutout(k, x, fill=fill)}
  for name, k in zip(names, jax.random.split(key, len(names))):
    x_BHWC = ops[name](k, x_BHWC)
  return x_BHWC


# --- random affine warps -----------------------------------------------------------------------
def sample_affine(key, batch, max_rotate_deg, max_shear, max_scale, max_shift_px):
  """Per-image warp parameters, each uniform in its range: rotation in [-max_rotate_deg,
  max_rotate_deg] (returned in radians), horizontal shear in [-max_shear, max_shear], isotropic
  scale in [1 - max_scale, 1 + max_scale], shift in [-max_shift_px, max_shift_px]^2 (pixels)."""
  k_r, k_sh, k_sc, k_t = jax.random.split(key, 4)
  u = lambda k, shape, m: jax.random.uniform(k, shape, minval=-1.0, maxval=1.0) * m
  return dict(rotate_B=u(k_r, (batch,), max_rotate_deg * math.pi / 180.0),
              shear_B=u(k_sh, (batch,), max_shear),
              scale_B=1.0 + u(k_sc, (batch,), max_scale),
              shift_B2=u(k_t, (batch, 2), max_shift_px))


def affine_matrices(rotate_B, shear_B, scale_B, shift_B2, image_hw):
  """The warp that moves an input pixel at p = (row, col) to A (p - c) + c + t, with c the image
  centre, A = R(rotate) @ [[1, 0], [shear, 1]] @ scale * I, R(a) = [[cos a, -sin a],
  [sin a, cos a]] and t the shift, written as scipy.ndimage.affine_transform writes it: output
  pixel o reads input M o + offset, M = A^-1, offset = c - M (c + t). Returns (M_B22, offset_B2)."""
  cos, sin = jnp.cos(rotate_B), jnp.sin(rotate_B)
  # A^-1 = scale^-1 [[1, 0], [-shear, 1]] R(-rotate)
  r_inv = jnp.stack([jnp.stack([cos, sin], -1), jnp.stack([-sin, cos], -1)], -2)
  shear_inv = jnp.stack([jnp.stack([jnp.ones_like(shear_B), jnp.zeros_like(shear_B)], -1),
                         jnp.stack([-shear_B, jnp.ones_like(shear_B)], -1)], -2)
  m_B22 = shear_inv @ r_inv / scale_B[:, None, None]
  centre = (jnp.asarray(image_hw, jnp.float32) - 1.0) / 2.0
  offset_B2 = centre - jnp.einsum('bij,bj->bi', m_B22, centre + shift_B2)
  return m_B22, offset_B2


def warp_affine(x_BHWC, m_B22, offset_B2, fill=BACKGROUND):
  """Output pixel o of image b = bilinear read of its input at m_B22[b] o + offset_B2[b] (row,
  col); reads outside the image interpolate towards `fill` (scipy's mode='grid-constant')."""
  _, h, w, _ = x_BHWC.shape
  grid_2P = jnp.stack(jnp.meshgrid(jnp.arange(h), jnp.arange(w), indexing='ij')).reshape(2, -1)

  def warp_one(img_HWC, m_22, offset_2):
    coords_2P = m_22 @ grid_2P.astype(m_22.dtype) + offset_2[:, None]
    read = lambda channel_HW: jax.scipy.ndimage.map_coordinates(
        channel_HW, list(coords_2P), order=1, mode='constant', cval=fill).reshape(h, w)
    return jax.vmap(read, in_axes=-1, out_axes=-1)(img_HWC)

  return jax.vmap(warp_one)(x_BHWC, m_B22, offset_B2)


def random_affine(key, x_BHWC, max_rotate_deg, max_shear, max_scale, max_shift_px,
                  fill=BACKGROUND):
  """Each image warped by its own small affine map (sample_affine, affine_matrices), bilinear."""
  params = sample_affine(key, x_BHWC.shape[0], max_rotate_deg, max_shear, max_scale,
                         max_shift_px)
  return warp_affine(x_BHWC, *affine_matrices(**params, image_hw=x_BHWC.shape[1:3]), fill=fill)
