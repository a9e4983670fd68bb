"""Evaluates a run's latest checkpoint: python launch/evaluate.py --workdir=DIR -> DIR/eval.json."""
import common  # noqa: F401  (sets up the environment before jax and tf load)
from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string('workdir', None, 'A workdir written by launch/train.py.')
flags.DEFINE_integer('nll_num_samples', None, 'Importance samples for the NLL (default: config).')
flags.DEFINE_string('source_dir', None, 'Data source directory (default: the run config\'s).')
flags.mark_flags_as_required(['workdir'])


def main(argv):
  del argv
  from genjax.evaluate import evaluate
  common.hide_accelerators_from_tensorflow()
  evaluate(FLAGS.workdir, FLAGS.nll_num_samples, FLAGS.source_dir)


if __name__ == '__main__':
  common.run_main(main)
