"""Evaluates a run: python launch/evaluate.py --workdir=DIR -> DIR/eval.json (+ DIR/evals/step_N.json).

  --all_checkpoints   every checkpoint not yet evaluated (resumes; safe beside a running training)
  --images=PATH       score images from outside genjax (.npz/.npy/PNG folder) against the MNIST
                      test set in the MNIST classifier's feature space; --out=FILE.json
"""
import common  # noqa: F401  (sets up the environment before jax and tf load)
from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string('workdir', None, 'A workdir written by launch/train.py.')
flags.DEFINE_bool('all_checkpoints', False, 'Evaluate every checkpoint, not only the latest.')
flags.DEFINE_string('images', None, 'Score these images instead of a workdir (MNIST metrics).')
flags.DEFINE_string('out', None, 'With --images: where to write the JSON.')
flags.DEFINE_integer('kid_subset_size', 1000, 'With --images: KID subset size.')
flags.DEFINE_integer('nll_num_samples', None, 'Importance samples for the NLL (default: config).')
flags.DEFINE_string('source_dir', None, 'Data source directory (default: the run config\'s).')


def main(argv):
  del argv
  import json

  from genjax import evaluate
  from genjax.errors import ConfigError
  common.hide_accelerators_from_tensorflow()
  if FLAGS.images:
    result = evaluate.evaluate_images(FLAGS.images, FLAGS.source_dir, FLAGS.out,
                                      FLAGS.kid_subset_size)
    print(json.dumps(result, indent=2))
  elif not FLAGS.workdir:
    raise ConfigError('Give --workdir=DIR (a training run) or --images=PATH.')
  elif FLAGS.all_checkpoints:
    evaluate.evaluate_all(FLAGS.workdir, FLAGS.nll_num_samples, FLAGS.source_dir)
  else:
    evaluate.evaluate(FLAGS.workdir, FLAGS.nll_num_samples, FLAGS.source_dir)


if __name__ == '__main__':
  common.run_main(main)
