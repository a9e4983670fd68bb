"""DCGAN on 1k, 5k, 10k and 60k MNIST training images (the fixed, nested, class-balanced subsets
of genjax/data/subsets.py that the VAE's data-size ablation uses), 3 seeds each, the same number
of steps: the smaller sets are seen for more epochs (64 at 1k, about 1 at 60k).

  python launch/sweep.py --sweep=configs/sweeps/gan_train_size.py --root=runs/gan_train_size --parallel=2
  python launch/report.py --root=runs/gan_train_size --out=results/ablations/gan_train_size --copy_runs

Budget and metrics: configs/sweeps/_gan.py.
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
      settings=product({'data.train_size': [1000, 5000, 10000, 60000]}),
      columns={'data.train_size': 'train_size'},
      plot={'x': 'data.train_size', 'logx': True, 'metrics': _gan.PLOT_METRICS},
      description='DCGAN training-set size, 500 steps')
