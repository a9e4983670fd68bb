"""Aggregates a sweep: python launch/report.py --root=DIR --out=OUT.

Writes OUT/results.csv (one row per run), OUT/summary.csv (mean, std and 95% bootstrap interval
over seeds per setting, n_seeds), OUT/table.md, OUT/summary.png (and OUT/curves.png where the
sweep names curves); an OUT/README.md with report markers gets the table put between them.
"""
import os

import common  # noqa: F401  (puts the checkout on sys.path)
from absl import flags

os.environ.setdefault('MPLBACKEND', 'Agg')  # files only, whatever the display

FLAGS = flags.FLAGS
flags.DEFINE_string('root', None, 'A sweep root (launch/sweep.py --root) or any directory of runs.')
flags.DEFINE_string('out', None, 'Where the tables and figures go (default: the root).')
flags.DEFINE_bool('copy_runs', False, 'First copy each run\'s small files (no checkpoints) to '
                  'OUT/runs and report from there, so the committed tables regenerate from '
                  'committed files: launch/report.py --root=OUT/runs --out=OUT.')
flags.mark_flags_as_required(['root'])


def main(argv):
  del argv
  import os

  from genjax import report
  out = FLAGS.out or FLAGS.root
  root = FLAGS.root
  if FLAGS.copy_runs:
    root = os.path.join(out, 'runs')
    report.copy_runs(FLAGS.root, root)
  written = report.write_report(root, out)
  for path in written:
    print(path)


if __name__ == '__main__':
  common.run_main(main)
