"""Trains one experiment: python launch/train.py --config=configs/NAME.py[:smoke] [--workdir=DIR].

Rerunning the same command on the same DIR resumes from the latest checkpoint. Without --workdir
the run goes to runs/NAME under the current directory (printed at the start).

Multi-process (a TPU pod slice, a GPU cluster, N processes on one machine): the same command in
every process, plus --distributed where the platform provides the cluster's settings, or
--coordinator_address=HOST:PORT --num_processes=N --process_id=I (genjax/distributed.py).
"""
import contextlib
import os

import common  # noqa: F401  (sets up the environment before jax and tf load)
from absl import flags, logging
from ml_collections import config_flags

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file('config', None, 'Experiment config file.', lock_config=True)
flags.DEFINE_string('workdir', None, 'Where checkpoints, logs and samples go (default: '
                    'runs/NAME under the current directory, NAME from --config).')
flags.DEFINE_bool('evaluate', False, 'Then evaluate the last checkpoint as launch/evaluate.py '
                  'does, in the same process (sweeps use it to load the libraries and data once).')
flags.DEFINE_bool('figures', os.environ.get('GENJAX_END_FIGURES', '1') != '0',
                  'At the end, draw the cheap analysis figures (curves, progress, interpolation; '
                  'manifold, traversal, mode_collapse where they apply) into WORKDIR/figures, as '
                  'launch/plot.py does (default on; GENJAX_END_FIGURES=0 turns it off).')
flags.DEFINE_bool('distributed', False, 'Join a multi-process run whose settings the platform '
                  'provides (TPU pod slices, SLURM, Cloud GPU clusters).')
flags.DEFINE_string('coordinator_address', None, 'Multi-process: HOST:PORT of process 0.')
flags.DEFINE_integer('num_processes', None, 'Multi-process: how many processes.')
flags.DEFINE_integer('process_id', None, 'Multi-process: this process, 0 .. num_processes - 1.')
flags.mark_flags_as_required(['config'])


def main(argv):
  del argv
  # Refused in a second, before jax, TensorFlow and the data load: impossible values, an unusable
  # workdir, a named data directory without the files, a workdir another training holds.
  from genjax import workdir
  from genjax.configs_check import validate_config
  from genjax.data import loading, raw
  workdir.stop_with_parent()
  from genjax import distributed
  config = FLAGS.config
  validate_config(config)
  multi = distributed.requested(FLAGS.distributed, FLAGS.coordinator_address,
                                FLAGS.num_processes, FLAGS.process_id)
  if multi and not distributed.supervised():  # one error line where the runtime would abort
    raise SystemExit(distributed.run_supervised(FLAGS.process_id, FLAGS.num_processes))
  run_dir = FLAGS.workdir
  if run_dir is None:
    run_dir = workdir.default_workdir(flags.FLAGS['config'].serialize().split('=', 1)[-1])
    print(f'workdir: {run_dir} (the default for this config; --workdir=DIR to choose)',
          flush=True)
  workdir.check_usable(run_dir)
  source_dir = loading.resolve_source_dir(config.data.get('source_dir'))
  if source_dir and config.data.name in raw.READERS:
    raw.source_files(config.data.name, source_dir)
  # Offline without a data source: one line in seconds, before TensorFlow loads (TFDS would
  # retry its downloads for minutes).
  loading.check_obtainable(config.data.name, source_dir, config.data.get('tfds_data_dir'))
  if multi:  # before anything else touches JAX's backends
    distributed.initialize(FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id)
  else:  # several CPU devices: the same all-reduce arithmetic as a multi-process run
    distributed.use_gloo_for_local_cpu_devices()
  import jax
  lead = jax.process_index() == 0
  with workdir.exclusive(run_dir) if lead else contextlib.nullcontext():
    from genjax.train import train_and_evaluate
    common.hide_accelerators_from_tensorflow()
    logging.info('JAX %s on %d %s device(s), process %d of %d.', jax.__version__,
                 jax.device_count(), jax.default_backend(), jax.process_index(),
                 jax.process_count())
    train_and_evaluate(config, run_dir)
  if multi:  # every process has saved; evaluation and figures are process 0's, in one process
    jax.distributed.shutdown()
    if lead and (FLAGS.evaluate or FLAGS.figures):
      distributed.finish_alone(run_dir, FLAGS.evaluate, FLAGS.figures)
    return
  if FLAGS.evaluate:
    from genjax import evaluate
    evaluate.evaluate(run_dir)
  if FLAGS.figures:
    from genjax.analysis import plotting
    plotting.end_of_training_figures(run_dir)


if __name__ == '__main__':
  common.run_main(main)
