"""Data augmentation for DCGAN on little data: none, translation of the real images (classic
augmentation: D sees shifted digits, G must only make unshifted ones) and DiffAugment (Zhao et al.
2020: colour, translation and cutout applied differentiably to real and fake images in both
players' losses), at 1k and 5k training images (the fixed class-balanced subsets), 3 seeds each.
genjax/data/augment.py has the augmentations; data.augment chooses one.

  python launch/sweep.py --sweep=configs/sweeps/gan_augmentation.py --root=runs/gan_augmentation --parallel=2
  python launch/report.py --root=runs/gan_augmentation --out=results/ablations/gan_augmentation --copy_runs

Budget and metrics: configs/sweeps/_gan.py (500 steps: 64 epochs of 1k images, 13 of 5k).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import _gan  # noqa: E402

from genjax.sweeps import Sweep, product  # noqa: E402


def get_sweep():
  return Sweep(
      **_gan.SHARED,
      config='configs/dcgan_mnist.py',
      settings=product({'data.train_size': [1000, 5000],
                        'data.augment': ['none', 'translation', 'diffaugment']}),
      columns={'data.train_size': 'train_size', 'data.augment': 'augment'},
      plot={'x': 'data.train_size', 'hue': 'data.augment', 'logx': True,
            'metrics': _gan.PLOT_METRICS},
      description='DCGAN augmentation at 1k and 5k images, 500 steps')
