"""Benchmark (not a test): S seeds trained as one program (train.num_seeds) against S separate
runs, in one process, one measurement after the other on the same machine.

For each config and S in --seeds: the steps/s of the S-seed train step (each seed axis mode:
scan and vmap) and of the one-seed step, all compiled first, then timed as the training loop runs
them (dispatch, then wait, --steps steps), in turn within each of --repeats rounds; medians. `runs_per_sec` is seeds x steps/s
of the stacked step; the one-seed runs' is steps/s of the one-seed step (S of them take S times as
long, one after another); `speedup` is their ratio. Data and keys come from the experiments
themselves (the real MNIST batches).

  python results/benchmarks/seeds.py --mnist_dir=../shared/data/mnist --out=results/benchmarks/seeds_cpu.json
  # on a lent GPU (the same file names the device):
  python3 results/benchmarks/seeds.py --mnist_dir=.devdata/mnist --out=$OUT/seeds_gpu.json
"""
import json
import os
import platform
import statistics
import sys
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

FLAGS = flags.FLAGS
flags.DEFINE_string('mnist_dir', None, 'Directory of the original MNIST files.')
flags.DEFINE_string('out', None, 'Where to write the JSON results.')
flags.DEFINE_list('configs', ['iwae_mnist', 'dcgan_mnist'], 'Configs (configs/NAME.py).')
flags.DEFINE_list('seeds', ['1', '4', '8'], 'Numbers of seeds S.')
flags.DEFINE_list('axes', ['scan', 'vmap'], 'Seed axis modes to measure.')
flags.DEFINE_integer('steps', 20, 'Steps per timing.')
flags.DEFINE_integer('repeats', 3, 'Timings per measurement; the median is reported.')
flags.mark_flags_as_required(['mnist_dir'])


def _config(name, num_seeds, axis):
  import importlib.util
  root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  spec = importlib.util.spec_from_file_location(name, os.path.join(root, 'configs', name + '.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config()
  config.data.source_dir = FLAGS.mnist_dir
  config.train.num_seeds = num_seeds
  config.train.seed_axis = axis
  return config


def prepare(config):
  """A function timing --steps steps of `config`'s compiled train step, as the loop runs them
  (dispatch each, wait at the end); returns steps/s."""
  import jax

  from genjax import experiments, parallel
  mesh = parallel.data_mesh()
  experiment = experiments.for_config(config, mesh)
  box = {'state': jax.device_put(experiment.init_state(), parallel.replicated(mesh))}
  key = experiment.keys['train']
  step = jax.jit(experiment.train_step, donate_argnums=0)
  batches = [experiment.batch(i) for i in range(FLAGS.steps)]
  box['state'], _ = step(box['state'], batches[0], key)  # compile
  jax.block_until_ready(box['state'])

  def timed():
    t0 = time.perf_counter()
    state = box['state']
    for b in batches:
      state, metrics = step(state, b, key)
    jax.block_until_ready((state, metrics))
    box['state'] = state
    return FLAGS.steps / (time.perf_counter() - t0)
  return timed


def main(argv):
  del argv
  import jax

  from genjax import train
  out = {'device': jax.devices()[0].device_kind, 'backend': jax.default_backend(),
         'hardware': train.hardware(), 'jax': jax.__version__, 'machine': platform.machine(), 'cpu_count': os.cpu_count(),
         'steps': FLAGS.steps, 'repeats': FLAGS.repeats,
         'timing': 'each repeat times every variant of a config in turn (round robin), so that '
                   'a change of the machine\'s load falls on all of them; medians reported',
         'command': 'python results/benchmarks/seeds.py ' + ' '.join(sys.argv[1:]),
         'configs': {}}
  for name in FLAGS.configs:
    variants = {'one': prepare(_config(name, 1, 'scan'))}
    for axis in FLAGS.axes:
      for s in (int(x) for x in FLAGS.seeds if int(x) > 1):
        variants[(axis, s)] = prepare(_config(name, s, axis))
    timings = {v: [] for v in variants}
    for _ in range(FLAGS.repeats):
      for v, timed in variants.items():
        timings[v].append(timed())
    one = statistics.median(timings.pop('one'))
    entry = {'one_seed_steps_per_sec': round(one, 3), 'stacked': {}}
    print(f'{name}: one seed {one:.2f} steps/s', flush=True)
    for (axis, s), values in timings.items():
      stacked = statistics.median(values)
      entry['stacked'][f'{axis}_S{s}'] = {
          'seeds': s, 'seed_axis': axis, 'steps_per_sec': round(stacked, 3),
          'runs_per_sec_over_separate': round(s * stacked / one, 3)}
      print(f'{name}: {axis} S={s}: {stacked:.2f} steps/s, {s * stacked / one:.2f}x the runs/s '
            'of separate runs', flush=True)
    out['configs'][name] = entry
    if FLAGS.out:  # after each config, so that a long benchmark cut short keeps what it measured
      os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
      with open(FLAGS.out, 'w') as f:
        json.dump(out, f, indent=2)


if __name__ == '__main__':
  app.run(main)
