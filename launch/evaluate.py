"""Evaluates a run: python launch/evaluate.py --workdir=DIR -> DIR/eval.json, DIR/evals/step_N.json
and TensorBoard scalars in DIR/eval/.

  --config.eval.metrics=fid,kid  what to measure, and any other eval setting of the run's config
                      (features, protocol=train for 50k vs train statistics, num_samples,
                      inception_weights, ...: genjax/experiments/sample_eval.py)
  --all_checkpoints   every checkpoint not yet evaluated with these settings (resumes)
  --watch             like --all_checkpoints, beside a running training, until its last step
  --images=PATH       score images from outside genjax (.npz/.npy/PNG folder) against the test
                      split of --dataset (mnist: MNIST classifier space; cifar10: Inception, with
                      --config.eval.inception_weights=FILE); --out=FILE.json

Multi-process (the same command on every host of a pod slice or cluster, with train.py's
--distributed or --coordinator_address/--num_processes/--process_id): process 0 evaluates, on its
own devices, and alone writes; the others join the run and leave (one model's evaluation fits
one host, and a workdir gets one writer).
"""
import common  # sets up the environment before jax and tf load
from absl import flags
from ml_collections import config_dict, config_flags

# Each field overrides the run's saved config.eval when given; unset ones keep the run's value.
_OVERRIDABLE = config_dict.ConfigDict({'eval': {
    'metrics': config_dict.placeholder(str), 'features': config_dict.placeholder(str),
    'protocol': config_dict.placeholder(str), 'num_samples': config_dict.placeholder(int),
    'num_reference': config_dict.placeholder(int), 'kid_subset_size': config_dict.placeholder(int),
    'kid_subsets': config_dict.placeholder(int), 'inception_weights': config_dict.placeholder(str),
    'cache_dir': config_dict.placeholder(str),
    # VAE / IWAE (genjax/experiments/likelihood.py)
    'nll_num_samples': config_dict.placeholder(int), 'nll_test_examples': config_dict.placeholder(int),
    'train_nll_examples': config_dict.placeholder(int), 'nll_chunk': config_dict.placeholder(int),
    'batch_size': config_dict.placeholder(int)}})

FLAGS = flags.FLAGS
try:  # a config dict applies its --config.* overrides here, when it is defined
  config_flags.DEFINE_config_dict('config', _OVERRIDABLE, 'Overrides of the run\'s eval settings.',
                                  lock_config=True)
except (AttributeError, KeyError) as e:  # a field of config.eval it lacks, or another group
  if isinstance(e, KeyError):
    import sys
    group = str(e.args[0]).strip('\'"')
    print(f'error: --config.{group}.*: evaluation takes only --config.eval.* overrides (the run\'s '
          'other settings are its own; the data directory is --source_dir=DIR).', file=sys.stderr)
  else:
    common.print_unknown_override(e)
  raise SystemExit(2) from None
flags.DEFINE_string('workdir', None, 'A workdir written by launch/train.py.')
flags.DEFINE_string('run_config', None, 'Instead of --workdir: the --config the run was trained '
                    'with without --workdir (configs/NAME.py[:variant]); evaluates runs/NAME '
                    'under the current directory, the default workdir of launch/train.py.')
flags.DEFINE_bool('all_checkpoints', False, 'Evaluate every checkpoint, not only the latest.')
flags.DEFINE_string('evals_dir', None, 'With --all_checkpoints: write step_N.json here instead of '
                    'WORKDIR/evals and leave eval.json alone, for a curve over training at other '
                    'settings than the run\'s own evaluation (e.g. fewer samples).')
flags.DEFINE_bool('watch', False, 'Evaluate checkpoints as a running training writes them, until '
                  'its last step.')
flags.DEFINE_integer('poll_seconds', 60, 'With --watch: seconds between looks for checkpoints.')
flags.DEFINE_integer('timeout_seconds', None, 'With --watch: give up after this long.')
flags.DEFINE_string('images', None, 'Score these images instead of a workdir.')
flags.DEFINE_enum('dataset', 'mnist', ['mnist', 'cifar10'], 'With --images: the real images.')
flags.DEFINE_string('out', None, 'With --images: where to write the JSON.')
flags.DEFINE_integer('nll_num_samples', None, 'Importance samples for the NLL (default: config).')
flags.DEFINE_bool('distributed', False, 'Part of a multi-process job whose settings the platform '
                  'provides: process 0 evaluates, the others leave.')
flags.DEFINE_string('coordinator_address', None, 'Multi-process: HOST:PORT of process 0.')
flags.DEFINE_integer('num_processes', None, 'Multi-process: how many processes.')
flags.DEFINE_integer('process_id', None, 'Multi-process: this process; all but 0 leave.')
flags.DEFINE_string('source_dir', None, 'Data source directory (default: the run config\'s).')
flags.DEFINE_integer('cpu_devices', None, 'On CPU: split Inception feature batches over this many '
                     'one-thread devices (default: one per core when the evaluation computes '
                     'Inception features, 1.36x faster on 2 cores; 1: XLA\'s one device).')


def main(argv):
  del argv
  import json

  from genjax import distributed
  if distributed.requested(FLAGS.distributed, FLAGS.coordinator_address, FLAGS.num_processes,
                           FLAGS.process_id):
    index = FLAGS.process_id
    if index is None:  # the platform knows: join, read it, leave
      distributed.initialize()
      import jax
      index, count = jax.process_index(), jax.process_count()
      jax.distributed.shutdown()
      if index == 0:  # evaluate in a fresh one-process interpreter, as a plain command would
        raise SystemExit(distributed.rerun_alone())
    if index != 0:
      print(f'process {index}: the evaluation is process 0\'s (one host, one writer).',
            flush=True)
      return
  from genjax import evaluate
  from genjax.errors import ConfigError
  overrides = {k: v for k, v in FLAGS.config.eval.items() if v is not None}
  if FLAGS.evals_dir and not FLAGS.all_checkpoints:
    raise ConfigError('--evals_dir goes with --all_checkpoints (a curve over training); the '
                      'latest checkpoint\'s evaluation is WORKDIR/eval.json.')
  if FLAGS.run_config and not FLAGS.workdir:
    from genjax import workdir
    FLAGS.workdir = workdir.default_workdir(FLAGS.run_config)
    print(f'workdir: {FLAGS.workdir}', flush=True)
  inception = evaluate.uses_inception(FLAGS.workdir, FLAGS.dataset if FLAGS.images else None,
                                      overrides)
  devices = evaluate.cpu_devices(FLAGS.cpu_devices, inception)
  if devices > 1 and inception:
    print(f'on CPU: Inception features split over {devices} one-thread devices '
          '(--cpu_devices=1: one device)', flush=True)
  common.hide_accelerators_from_tensorflow()
  if FLAGS.images:
    result = evaluate.evaluate_images(FLAGS.images, FLAGS.source_dir, FLAGS.out,
                                      dataset=FLAGS.dataset, eval_overrides=overrides)
    print(json.dumps(result, indent=2))
  elif not FLAGS.workdir:
    raise ConfigError('Give --workdir=DIR (a training run), --run_config=configs/NAME.py (a run '
                      'trained without --workdir) or --images=PATH.')
  elif FLAGS.watch:
    evaluate.watch(FLAGS.workdir, FLAGS.nll_num_samples, FLAGS.source_dir, overrides,
                   FLAGS.poll_seconds, FLAGS.timeout_seconds)
  elif FLAGS.all_checkpoints:
    evaluate.evaluate_all(FLAGS.workdir, FLAGS.nll_num_samples, FLAGS.source_dir, overrides,
                          evals_dir=FLAGS.evals_dir)
  else:
    evaluate.evaluate(FLAGS.workdir, FLAGS.nll_num_samples, FLAGS.source_dir, overrides)


if __name__ == '__main__':
  common.run_main(main)
