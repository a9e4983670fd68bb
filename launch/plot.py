"""Analysis figures of saved runs:
  python launch/plot.py --workdir=DIR [--workdir=DIR2 ...] --figure=NAME|all [--out=DIR] [--step=N]

NAME: curves, eval_curves (FID etc. over training, from launch/evaluate.py --all_checkpoints;
only by name, not in `all`), progress, interpolation, tsne, pca, manifold (2-D latent VAE),
traversal (InfoGAN), neighbors, mode_collapse (GANs); `all` draws every figure that applies to the
run. Writes OUT/<figure>.png (--format=pdf for PDF) and OUT/<figure>.json with the numbers it
shows; OUT defaults to DIR/figures. curves, eval_curves and mode_collapse draw all the workdirs
together; the others are drawn for the first.
"""
import os

import common  # noqa: F401  (sets up the environment before jax and tf load)
from absl import flags

os.environ.setdefault('MPLBACKEND', 'Agg')  # files only, whatever the display

FLAGS = flags.FLAGS
flags.DEFINE_multi_string('workdir', None, 'Run(s) written by launch/train.py.')
flags.DEFINE_list('figure', ['all'], 'Figure name(s), or all.')
flags.DEFINE_string('out', None, 'Output directory (default: WORKDIR/figures).')
flags.DEFINE_integer('step', None, 'Checkpoint to analyse (default: the latest).')
flags.DEFINE_enum('format', 'png', ['png', 'pdf'], 'Image format.')
flags.DEFINE_string('source_dir', None, 'Data source directory (default: the run config\'s).')
flags.mark_flags_as_required(['workdir'])


def main(argv):
  del argv
  from genjax.analysis import plotting
  common.hide_accelerators_from_tensorflow()
  for path in plotting.plot(FLAGS.workdir, FLAGS.figure, FLAGS.out, FLAGS.step, FLAGS.format,
                            FLAGS.source_dir):
    print(path)


if __name__ == '__main__':
  common.run_main(main)
