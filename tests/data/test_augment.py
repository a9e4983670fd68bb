"""The augmentations against independent computations: numpy shifts, scipy's affine_transform,
finite differences, and counts of the pixels cutout erases."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.ndimage

from genjax.data import augment as A

B, H, W = 16, 28, 28


def _images(seed=0, shape=(B, H, W, 1)):
  return jax.random.uniform(jax.random.key(seed), shape, minval=-0.9, maxval=1.0)


def _numpy_shift(img_HWC, dy, dx, fill=-1.0):
  """np.roll, then the wrapped-around rows and columns overwritten with the fill."""
  out = np.roll(img_HWC, (dy, dx), axis=(0, 1))
  if dy > 0:
    out[:dy] = fill
  elif dy < 0:
    out[dy:] = fill
  if dx > 0:
    out[:, :dx] = fill
  elif dx < 0:
    out[:, dx:] = fill
  return out


def _read_shifts(fn, batch):
  """The (dy, dx) that `fn` applies to each image, read off an image with one bright pixel."""
  dot = np.full((batch, H, W, 1), -1.0, np.float32)
  dot[:, H // 2, W // 2] = 1.0
  moved = np.asarray(fn(jnp.asarray(dot)))
  shifts = []
  for img in moved:
    (r,), (c,) = np.nonzero(img[..., 0] > 0)[:2]
    shifts.append((r - H // 2, c - W // 2))
  return shifts


@pytest.mark.parametrize('max_shift', [2, 4])
def test_translate_equals_numpy_roll_with_background_fill(max_shift):
  key = jax.random.key(3)
  fn = jax.jit(lambda x: A.translate(key, x, max_shift))
  shifts = _read_shifts(fn, B)
  assert all(max(abs(dy), abs(dx)) <= max_shift for dy, dx in shifts)
  assert len(set(shifts)) > 3  # the shifts differ between images
  assert any(dy != 0 for dy, _ in shifts) and any(dx != 0 for _, dx in shifts)
  x = np.asarray(_images())
  expected = np.stack([_numpy_shift(img, dy, dx) for img, (dy, dx) in zip(x, shifts)])
  np.testing.assert_array_equal(np.asarray(fn(jnp.asarray(x))), expected)


def test_translation_policy_moves_up_to_an_eighth_of_the_image():
  shifts = _read_shifts(lambda x: A.translation(jax.random.key(0), x), 256)
  assert max(max(abs(dy), abs(dx)) for dy, dx in shifts) == 4  # round(28 / 8)


def test_cutout_erases_half_size_squares_whole_when_inside():
  x = jnp.full((64, H, W, 1), 0.5)  # no background pixel before the cut
  cut = np.asarray(A.cutout(jax.random.key(1), x))[..., 0] == A.BACKGROUND
  side, inside = H // 2, 0
  for mask in cut:
    rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    assert len(rows) > 0
    # one axis-aligned rectangle, at most side x side
    assert mask.sum() == len(rows) * len(cols) and mask[rows[0]:rows[-1] + 1,
                                                        cols[0]:cols[-1] + 1].all()
    assert len(rows) <= side and len(cols) <= side
    if rows[0] > 0 and cols[0] > 0 and rows[-1] < H - 1 and cols[-1] < W - 1:
      inside += 1
      assert mask.sum() == side * side
  assert inside > 5  # the whole-square case was checked
  # the rest of the image is untouched
  np.testing.assert_array_equal(np.asarray(A.cutout(jax.random.key(1), x))[~cut[..., None]], 0.5)


def test_color_ops_on_known_draws():
  x = _images(shape=(B, 4, 4, 3))
  key = jax.random.key(2)
  k_b, k_s, k_c = jax.random.split(key, 3)
  u = lambda k, lo, hi: np.asarray(jax.random.uniform(k, (B, 1, 1, 1), minval=lo, maxval=hi))
  y = np.asarray(x) + u(k_b, -0.5, 0.5)
  m = y.mean(-1, keepdims=True)
  y = (y - m) * u(k_s, 0.0, 2.0) + m
  m = y.mean((1, 2, 3), keepdims=True)
  y = (y - m) * u(k_c, 0.5, 1.5) + m
  np.testing.assert_allclose(np.asarray(A.color(key, x)), y, rtol=1e-5, atol=1e-5)
  # saturation is the identity on one channel
  gray = _images(shape=(B, 4, 4, 1))
  np.testing.assert_allclose(np.asarray(A.saturation(key, gray)), np.asarray(gray), atol=1e-6)


OPS = {
    'translate': lambda k, x: A.translate(k, x, 1),
    'color': A.color,
    'cutout': A.cutout,
    'diffaugment': A.diffaugment,
    'random_affine': lambda k, x: A.random_affine(k, x, 15.0, 0.2, 0.1, 1.0),
}


@pytest.mark.parametrize('name', sorted(OPS))
def test_gradient_matches_finite_differences(name):
  """d/dx <w, T(x)> along a random direction v, against central differences on a 1x4x4x1 image."""
  op = OPS[name]
  key = jax.random.key(7)
  x = _images(1, (1, 4, 4, 1))
  w = jax.random.normal(jax.random.key(8), x.shape)
  v = jax.random.normal(jax.random.key(9), x.shape)
  f = lambda x: jnp.sum(w * op(key, x))
  g = jax.grad(f)(x)
  assert np.all(np.isfinite(np.asarray(g))) and float(jnp.abs(g).max()) > 0
  eps = 1e-2
  numeric = (float(f(x + eps * v)) - float(f(x - eps * v))) / (2 * eps)
  np.testing.assert_allclose(float(jnp.sum(g * v)), numeric, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize('name', sorted(OPS))
def test_same_key_same_output_other_key_other_output(name):
  op, x = OPS[name], _images()
  a = np.asarray(op(jax.random.key(0), x))
  np.testing.assert_array_equal(a, np.asarray(op(jax.random.key(0), x)))
  assert not np.allclose(a, np.asarray(op(jax.random.key(1), x)))
  assert not np.allclose(a, np.asarray(x))


def test_diffaugment_applies_its_policy_in_order_with_split_keys():
  x, key = _images(), jax.random.key(4)
  k1, k2 = jax.random.split(key)
  np.testing.assert_array_equal(
      np.asarray(A.diffaugment(key, x, 'color,cutout')),
      np.asarray(A.cutout(k2, A.color(k1, x))))
  with pytest.raises(ValueError, match='policy'):
    A.diffaugment(key, x, 'color,flip')


def test_random_affine_with_zero_ranges_is_the_identity():
  x = _images()
  np.testing.assert_allclose(np.asarray(A.random_affine(jax.random.key(0), x, 0, 0, 0, 0)),
                             np.asarray(x), atol=1e-5)


def _digit_like(seed, n):
  """Random interiors inside a 4-pixel background border (as MNIST digits sit in theirs)."""
  x = np.full((n, H, W, 1), -1.0, np.float32)
  x[:, 4:-4, 4:-4] = np.asarray(_images(seed, (n, H - 8, W - 8, 1)))
  return x


def _scipy_warp(img_HW, rotate, shear, scale, shift):
  """The documented map, built in numpy: input p -> A (p - c) + c + t, A = R @ Sh @ scale."""
  c = (np.array([H, W], np.float64) - 1) / 2
  rot = np.array([[np.cos(rotate), -np.sin(rotate)], [np.sin(rotate), np.cos(rotate)]])
  a = rot @ np.array([[1.0, 0.0], [shear, 1.0]]) * scale
  m = np.linalg.inv(a)
  return scipy.ndimage.affine_transform(img_HW.astype(np.float64), m, offset=c - m @ (c + shift),
                                        order=1, mode='grid-constant', cval=-1.0)


def test_a_known_rotation_equals_scipy_affine_transform():
  x = _digit_like(0, 1)
  angle = np.deg2rad(10.0)
  m, offset = A.affine_matrices(jnp.array([angle]), jnp.zeros(1), jnp.ones(1), jnp.zeros((1, 2)),
                                (H, W))
  got = np.asarray(A.warp_affine(jnp.asarray(x), m, offset))[0, ..., 0]
  expected = _scipy_warp(x[0, ..., 0], angle, 0.0, 1.0, np.zeros(2))
  np.testing.assert_allclose(got, expected, atol=1e-4)
  # a rotation by 10 degrees moves the pixels (the check above compares warped images)
  assert np.abs(expected - x[0, ..., 0]).max() > 0.5


def test_random_affine_equals_scipy_with_the_sampled_parameters():
  x = _digit_like(1, 8)
  key = jax.random.key(5)
  ranges = (15.0, 0.2, 0.1, 2.0)
  params = {k: np.asarray(v) for k, v in A.sample_affine(key, 8, *ranges).items()}
  assert np.all(np.abs(params['rotate_B']) <= np.deg2rad(15.0))
  assert np.all(np.abs(params['shear_B']) <= 0.2) and np.all(np.abs(params['scale_B'] - 1) <= 0.1)
  assert np.all(np.abs(params['shift_B2']) <= 2.0)
  got = np.asarray(A.random_affine(key, jnp.asarray(x), *ranges))
  for b in range(8):
    expected = _scipy_warp(x[b, ..., 0], params['rotate_B'][b], params['shear_B'][b],
                           params['scale_B'][b], params['shift_B2'][b])
    np.testing.assert_allclose(got[b, ..., 0], expected, atol=1e-4, err_msg=str(b))
