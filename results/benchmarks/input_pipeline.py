"""Benchmark (not a test): the share of a training step spent producing its batch.

genjax keeps each split on the device and makes a batch by a jitted permutation-and-gather
(genjax/data/on_device.py), so the input pipeline is a few small device ops per step. For each
config this measures, in one process, within each of --repeats rounds:
  - `loop`: --steps steps as the training loop runs them, the batch made inline
    (`step(state, experiment.batch(i), key)`, dispatched, waited for at the end);
  - `precomputed`: the same steps on batches made beforehand;
  - `batches`: the batches alone, each waited for (what the pipeline would cost if nothing
    overlapped it).
`batch_share` = batches / loop, the share of the loop's time the batches would take if not
overlapped (an upper bound); `measured_overhead` = (loop - precomputed) / loop, what making them
inline really added (medians; inside the timing noise when near 0, and then possibly negative).

  python results/benchmarks/input_pipeline.py --mnist_dir=../shared/data/mnist \
      --cifar_dir=../shared/data/cifar10-approx --out=results/benchmarks/input_pipeline_cpu.json
"""
import json
import os
import statistics
import sys
import time

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

FLAGS = flags.FLAGS
flags.DEFINE_string('mnist_dir', None, 'Directory of the original MNIST files.')
flags.DEFINE_string('cifar_dir', None, 'Directory of the CIFAR-10 archive.')
flags.DEFINE_string('out', None, 'Where to write the JSON results.')
flags.DEFINE_list('configs', ['dcgan_mnist', 'infogan_mnist', 'wgan_mnist', 'wgan_gp_mnist',
                              'dcgan_cifar', 'wgan_cifar'], 'Configs (configs/NAME.py).')
flags.DEFINE_integer('steps', 5, 'Steps per timing.')
flags.DEFINE_integer('repeats', 3, 'Timings per measurement; the median is reported.')


def _config(name):
  import importlib.util
  spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, 'configs', name + '.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config()
  config.data.source_dir = FLAGS.cifar_dir if 'cifar' in name else FLAGS.mnist_dir
  return config


def measure(config):
  """Median seconds of (loop, precomputed, batches) over --repeats rounds."""
  import jax

  from genjax import experiments, parallel
  mesh = parallel.data_mesh()
  experiment = experiments.for_config(config, mesh)
  state = jax.device_put(experiment.init_state(), parallel.replicated(mesh))
  key = experiment.keys['train']
  step = jax.jit(experiment.train_step, donate_argnums=0)
  state, _ = step(state, experiment.batch(0), key)  # compile the step and the batch ops
  jax.block_until_ready(state)
  times = {'loop': [], 'precomputed': [], 'batches': []}
  for r in range(FLAGS.repeats):
    steps = range(1 + r * FLAGS.steps, 1 + (r + 1) * FLAGS.steps)  # fresh batches every round
    t0 = time.perf_counter()
    batches = []
    for i in steps:
      batches.append(jax.block_until_ready(experiment.batch(i)))
    times['batches'].append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for b in batches:
      state, metrics = step(state, b, key)
    jax.block_until_ready((state, metrics))
    times['precomputed'].append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in steps:
      state, metrics = step(state, experiment.batch(i), key)
    jax.block_until_ready((state, metrics))
    times['loop'].append(time.perf_counter() - t0)
  return {k: statistics.median(v) for k, v in times.items()}


def main(argv):
  del argv
  import jax

  from genjax import train
  out = {'hardware': train.hardware(), 'jax': jax.__version__,
         'steps': FLAGS.steps, 'repeats': FLAGS.repeats,
         'command': 'python results/benchmarks/input_pipeline.py ' + ' '.join(sys.argv[1:]),
         'configs': {}}
  for name in FLAGS.configs:
    t = measure(_config(name))
    entry = {'seconds_per_step_loop': round(t['loop'] / FLAGS.steps, 4),
             'seconds_per_step_precomputed': round(t['precomputed'] / FLAGS.steps, 4),
             'seconds_per_batch': round(t['batches'] / FLAGS.steps, 5),
             'batch_share': round(t['batches'] / t['loop'], 4),
             'measured_overhead': round((t['loop'] - t['precomputed']) / t['loop'], 4)}
    out['configs'][name] = entry
    print(f'{name}: {entry}', flush=True)
    if FLAGS.out:  # after each config, so that a run cut short keeps what it measured
      os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
      with open(FLAGS.out, 'w') as f:
        json.dump(out, f, indent=2)


if __name__ == '__main__':
  app.run(main)
