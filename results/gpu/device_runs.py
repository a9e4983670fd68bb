"""Adversarial runs on a lent GPU: InfoGAN seeds and the GAN family on MNIST, through the same
training loop and evaluation as on a CPU (genjax.train.train_and_evaluate, genjax.evaluate).

  python results/gpu/device_runs.py --mnist_dir=DIR --runs_dir=/tmp/runs --out=OUT --budget_s=480

The GPU image has JAX, Flax, Optax and Orbax but no TensorFlow. genjax degrades by itself there:
genjax.data.load_split reads MNIST from the original IDX files in --mnist_dir (the same verified
reader TFDS's offline builder uses, in the same order), and TensorBoard files are skipped with one
warning (metrics.jsonl and eval.json have every number). Where TensorFlow is installed the same
runs go through TFDS, prepared from the same files.
Runs start while the budget lasts; after each, the workdirs without checkpoints are packed into
OUT/runs.tar.gz, so a run cut short still returns the finished ones.
"""
import os
import sys
import tarfile
import time
import traceback

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'configs'))

FLAGS = flags.FLAGS
flags.DEFINE_string('mnist_dir', None, 'Directory of the original MNIST files.')
flags.DEFINE_string('runs_dir', '/tmp/genjax_gpu_runs', 'Where the workdirs go.')
flags.DEFINE_string('out', None, 'Where runs.tar.gz goes.')
flags.DEFINE_float('budget_s', 480, 'No run starts after this many seconds.')
flags.DEFINE_float('scale', 1.0, 'Multiplies every run\'s steps (use 0.001 for a dry run).')
flags.DEFINE_list('only', [], 'Run names to run (default: all).')
flags.DEFINE_list('sweeps', [], 'Instead of RUNS: sweep files (configs/sweeps/NAME.py, or a path) '
                  'whose runs are trained and evaluated here, in RUNS_DIR/NAME/<run>, resuming '
                  'what is there; then `launch/report.py --root=RUNS_DIR/NAME` on any machine.')

# (name, config module, steps, eval/checkpoint every, log every, overrides)
LAMBDA_CONT_1 = {'method.lambda_cont': 1.0}  # the paper's code; the issue and paper text: 0.1
RUNS = (
    [(f'infogan_s{s}', 'infogan_mnist', 6000, 1000, 100, dict(seed=s)) for s in range(3)]
    + [('dcgan_mnist_s0', 'dcgan_mnist', 5000, 500, 50, {}),
       # native convolutions on a GPU (the config's im2col form is for CPUs)
       ('wgan_gp_mnist_s0', 'wgan_gp_mnist', 5000, 500, 50, {'model.conv_impl': 'xla'}),
       ('wgan_mnist_s0', 'wgan_mnist', 5000, 500, 50, {}),
       ('gan_mnist_s0', 'gan_mnist', 20000, 2000, 200, {})]
    + [(f'infogan_lambda_cont1_s{s}', 'infogan_mnist', 6000, 1000, 100,
        dict(seed=s, **LAMBDA_CONT_1)) for s in range(3)]
    + [(f'infogan_detached_s{s}', 'infogan_mnist', 6000, 1000, 100,
        dict(seed=s, **LAMBDA_CONT_1, **{'method.info_updates_trunk': False}))
       for s in range(3)])


def config_for(module, steps, every, log_every, overrides):
  config = __import__(module).get_config()
  config.data.source_dir = FLAGS.mnist_dir
  steps = max(1, int(steps * FLAGS.scale))
  every = max(1, min(int(every * FLAGS.scale), steps))
  log_every = max(1, min(int(log_every * FLAGS.scale), every))
  every = (every // log_every) * log_every
  config.train.update(num_steps=steps, eval_every=every, checkpoint_every=every,
                      log_every=log_every)
  for key, value in overrides.items():
    node = config
    *path, leaf = key.split('.')
    for p in path:
      node = node[p]
    node[leaf] = value
  return config


def pack(out):
  if not out:
    return
  os.makedirs(out, exist_ok=True)
  with tarfile.open(os.path.join(out, 'runs.tar.gz.tmp'), 'w:gz') as tar:
    tar.add(FLAGS.runs_dir, arcname='runs',
            filter=lambda info: None if '/checkpoints' in info.name else info)
  os.replace(os.path.join(out, 'runs.tar.gz.tmp'), os.path.join(out, 'runs.tar.gz'))


def _hardware_note(workdir):
  import jax
  with open(os.path.join(workdir, 'hardware.txt'), 'w') as f:
    f.write(f'{jax.devices()[0].device_kind} (lent GPU machine), JAX {jax.__version__}\n')


def run_sweeps(names, start):
  """Every run of each sweep not yet done, seed by seed (sweeps.start_order), while the budget
  lasts: trained, then evaluated with the sweep's eval settings (what launch/sweep.py does, in
  this process)."""
  from genjax import evaluate, sweeps
  from genjax.errors import TrainingDiverged
  from genjax.train import train_and_evaluate
  for name in names:
    path = name if name.endswith('.py') else os.path.join(ROOT, 'configs', 'sweeps', name + '.py')
    sweep = sweeps.load_sweep(path)
    root = os.path.join(FLAGS.runs_dir, sweeps.sweep_name(path))
    runs = sweeps.expand(sweep, root)
    sweeps.write_manifest(path, sweep, runs, root)
    for r in sweeps.start_order(runs):
      config = sweeps.build_config(sweep, r.overrides, r.config)
      config.data.source_dir = FLAGS.mnist_dir
      state = sweeps.run_state(r, config.train.num_steps, sweep.eval_overrides)
      if state in ('done', 'diverged'):
        continue
      if time.time() - start > FLAGS.budget_s:
        print('budget spent; not starting', r.name, flush=True)
        return
      t0 = time.time()
      try:
        if state in ('new', 'partial'):
          train_and_evaluate(config, r.workdir)
        _hardware_note(r.workdir)
        evaluate.evaluate(r.workdir, eval_overrides=sweep.eval_overrides)
        print(f'{r.name}: {time.time() - t0:.0f} s', flush=True)
      except TrainingDiverged as e:  # kept as a result, as launch/sweep.py keeps it
        print(f'{r.name}: diverged: {e}', flush=True)
      except Exception:  # noqa: BLE001  (one broken run must not lose the others)
        traceback.print_exc()
      pack(FLAGS.out)


def main(argv):
  del argv
  import jax

  print('JAX', jax.__version__, jax.devices(), flush=True)
  from genjax import evaluate
  from genjax.train import train_and_evaluate
  start = time.time()
  if FLAGS.sweeps:
    run_sweeps(FLAGS.sweeps, start)
    return
  for name, module, steps, every, log_every, overrides in RUNS:
    if FLAGS.only and name not in FLAGS.only:
      continue
    if time.time() - start > FLAGS.budget_s:
      print('budget spent; not starting', name, flush=True)
      continue
    t0 = time.time()
    try:
      workdir = os.path.join(FLAGS.runs_dir, name)
      train_and_evaluate(config_for(module, steps, every, log_every, overrides), workdir)
      _hardware_note(workdir)
      result = evaluate.evaluate(workdir)
      summary = {k: v for k, v in result.items() if isinstance(v, (int, float, str))}
      print(f'{name}: {time.time() - t0:.0f} s', summary, flush=True)
    except Exception:  # noqa: BLE001  (one broken run must not lose the others)
      traceback.print_exc()
    pack(FLAGS.out)


if __name__ == '__main__':
  app.run(main)
