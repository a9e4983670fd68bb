"""Aggregates a sweep: python launch/report.py --root=DIR --out=OUT.

Writes OUT/results.csv (one row per run), OUT/summary.csv (mean, std and 95% bootstrap interval
over seeds per setting, n_seeds), OUT/table.md, OUT/summary.png (and OUT/curves.png where the
sweep names curves); an OUT/README.md with report markers gets the table put between them.
"""
import common  # noqa: F401  (puts the checkout on sys.path)
from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string('root', None, 'A sweep root (launch/sweep.py --root) or any directory of runs.')
flags.DEFINE_string('out', None, 'Where the tables and figures go (default: the root).')
flags.mark_flags_as_required(['root'])


def main(argv):
  del argv
  from genjax import report
  written = report.write_report(FLAGS.root, FLAGS.out or FLAGS.root)
  for path in written:
    print(path)


if __name__ == '__main__':
  common.run_main(main)
