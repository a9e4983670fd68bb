"""Trains one experiment: python launch/train.py --config=configs/NAME.py[:smoke] --workdir=DIR.

Rerunning the same command on the same DIR resumes from the latest checkpoint.
"""
import os

import common  # noqa: F401  (sets up the environment before jax and tf load)
from absl import flags, logging
from ml_collections import config_flags

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file('config', None, 'Experiment config file.', lock_config=True)
flags.DEFINE_string('workdir', None, 'Where checkpoints, logs and samples go.')
flags.DEFINE_bool('evaluate', False, 'Then evaluate the last checkpoint as launch/evaluate.py '
                  'does, in the same process (sweeps use it to load the libraries and data once).')
flags.DEFINE_bool('figures', os.environ.get('GENJAX_END_FIGURES', '1') != '0',
                  'At the end, draw the cheap analysis figures (curves, progress, interpolation; '
                  'manifold, traversal, mode_collapse where they apply) into WORKDIR/figures, as '
                  'launch/plot.py does (default on; GENJAX_END_FIGURES=0 turns it off).')
flags.mark_flags_as_required(['config', 'workdir'])


def main(argv):
  del argv
  # Refused in a second, before jax, TensorFlow and the data load: impossible values, an unusable
  # workdir, a named data directory without the files, a workdir another training holds.
  from genjax import workdir
  from genjax.configs_check import validate_config
  from genjax.data import loading, raw
  workdir.stop_with_parent()
  config = FLAGS.config
  validate_config(config)
  workdir.check_usable(FLAGS.workdir)
  source_dir = loading.resolve_source_dir(config.data.get('source_dir'))
  if source_dir and config.data.name in raw.READERS:
    raw.source_files(config.data.name, source_dir)
  with workdir.exclusive(FLAGS.workdir):
    import jax

    from genjax.train import train_and_evaluate
    common.hide_accelerators_from_tensorflow()
    logging.info('JAX %s on %d %s device(s), process %d of %d.', jax.__version__,
                 jax.device_count(), jax.default_backend(), jax.process_index(),
                 jax.process_count())
    train_and_evaluate(config, FLAGS.workdir)
  if FLAGS.evaluate:
    from genjax import evaluate
    evaluate.evaluate(FLAGS.workdir)
  if FLAGS.figures:
    from genjax.analysis import plotting
    plotting.end_of_training_figures(FLAGS.workdir)


if __name__ == '__main__':
  common.run_main(main)
