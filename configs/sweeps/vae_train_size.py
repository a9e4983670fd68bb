"""The VAE trained on 1k, 5k, 10k and 60k MNIST images (fixed, nested, class-balanced subsets,
the same for every seed: genjax/data/subsets.py), 3 seeds each, for the same number of steps.

  python launch/sweep.py --sweep=configs/sweeps/vae_train_size.py --root=runs/vae_train_size --parallel=2
  python launch/report.py --root=runs/vae_train_size --out=results/ablations/vae_train_size

Budget: 15,000 steps at batch 20 for every size (300 epochs of the 1k subset, 5 of the full set),
the paper's Adam and schedule, one stochastic layer, k=1. NLL with k=1,000 on the first 1,000
test images and on the first 1,000 training images of the run's subset: their difference is the
overfitting the size ablation is about.
"""
from genjax.sweeps import Sweep, product


def get_sweep():
  return Sweep(
      config='configs/vae_mnist.py',
      fixed={'train.num_steps': 15000, 'train.eval_every': 1500, 'train.checkpoint_every': 7500,
             'eval.metrics': 'nll', 'eval.nll_num_samples': 1000, 'eval.nll_test_examples': 1000,
             'eval.train_nll_examples': 1000},
      settings=product({'data.train_size': [1000, 5000, 10000, 60000]}),
      seeds=(0, 1, 2),
      columns={'data.train_size': 'train_size'},
      metrics=('nll', 'train_nll', 'elbo', 'train_elbo', 'active_units'),
      differences={'test_minus_train_nll': ('nll', 'train_nll')},
      curves=('test/elbo',),
      plot={'x': 'data.train_size', 'logx': True,
            'metrics': ['nll', 'train_nll', 'test_minus_train_nll', 'active_units']},
      description='VAE training-set size, 15,000 steps')
