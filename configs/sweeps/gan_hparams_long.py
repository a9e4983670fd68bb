"""A follow-up to gan_hparams: is DCGAN's 8e-4, the best rate at 500 steps, still ahead at 4x
the budget, or does it destabilise as the DCGAN paper's choice of 2e-4 assumes? Both rates at
batch 128, 2,000 generator steps, one seed (the CPU time one session had left beside the InfoGAN
sweep: a check, not an ablation), a checkpoint every 250 steps, each evaluated afterwards:

  python launch/sweep.py --sweep=configs/sweeps/gan_hparams_long.py --root=runs/gan_hparams_long
  for r in runs/gan_hparams_long/name=*; do
    python launch/evaluate.py --workdir=$r --all_checkpoints \\
      --config.eval.num_samples=5000 --config.eval.num_reference=5000
  done
  python launch/report.py --root=runs/gan_hparams_long --out=results/ablations/gan_hparams_long --copy_runs
  python results/ablations/gan_hparams_long/over_training.py   # FID at every checkpoint
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import _gan  # noqa: E402

from genjax.sweeps import Sweep  # noqa: E402

STEPS = 2000


def get_sweep():
  return Sweep(
      config='configs/dcgan_mnist.py',
      fixed={**_gan.FIXED, 'train.num_steps': STEPS, 'train.checkpoint_every': 250,
             'train.keep_checkpoints': STEPS // 250},
      settings=[{'method.name': 'dcgan', 'optim.g.learning_rate': lr,
                 'optim.d.learning_rate': lr} for lr in (8e-4, 2e-4)],
      seeds=(0,),
      metrics=_gan.METRICS,
      eval_overrides=_gan.EVAL,
      curves=_gan.CURVES,
      columns={'optim.g.learning_rate': 'learning_rate', 'optim.d.learning_rate': 'd_learning_rate',
               'train.num_steps': 'steps'},
      plot={'metrics': _gan.PLOT_METRICS},
      description='DCGAN rate 8e-4 vs 2e-4 at 2,000 steps, one seed, FID at every 250 steps')
