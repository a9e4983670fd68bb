"""Runs a sweep: python launch/sweep.py --sweep=configs/sweeps/NAME.py --root=DIR [--parallel=N].

Every (setting, seed) of the sweep file is trained and evaluated (launch/train.py --evaluate) in
DIR/<setting>,seed=<seed>; finished runs are skipped, stopped ones resume, trained ones without a
current eval.json are evaluated (launch/evaluate.py).
--dry_run prints one shell command per run (for a cluster or a TPU VM) and creates nothing.
Data comes from each run's config or $GENJAX_DATA_DIR. Then: launch/report.py --root=DIR.
"""
import common  # noqa: F401  (puts the checkout on sys.path)
from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string('sweep', None, 'A sweep file, e.g. configs/sweeps/smoke.py.')
flags.DEFINE_string('root', None, 'Directory holding one workdir per run.')
flags.DEFINE_integer('parallel', 1, 'Runs at a time, each with one XLA thread when > 1.')
flags.DEFINE_bool('dry_run', False, 'Print the commands, one line per run; create nothing.')
flags.mark_flags_as_required(['sweep'])


def main(argv):
  del argv
  from genjax import sweeps
  from genjax.errors import ConfigError
  if FLAGS.parallel < 1:
    raise ConfigError(f'--parallel={FLAGS.parallel}: run at least one at a time.')
  root = FLAGS.root or f'runs/{sweeps.sweep_name(FLAGS.sweep)}'
  try:
    failed = sweeps.run_sweep(FLAGS.sweep, root, FLAGS.parallel, FLAGS.dry_run)
  except KeyboardInterrupt:
    raise SystemExit(130) from None
  if failed:
    raise SystemExit(1)


if __name__ == '__main__':
  common.run_main(main)
