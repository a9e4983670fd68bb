"""The VAE trained with four optimizers, each at three learning rates, 3 seeds each: plain SGD,
SGD with Nesterov momentum (0.9), RMSProp (rho 0.9) and Adam (the IWAE paper's betas and eps);
constant learning rates, so the optimizer alone differs.

  python launch/sweep.py --sweep=configs/sweeps/vae_optimizers.py --root=runs/vae_optimizers --parallel=2
  python launch/report.py --root=runs/vae_optimizers --out=results/ablations/vae_optimizers

Budget: 15,000 steps (5 epochs at batch 20) of the one-stochastic-layer VAE (k=1). Test NLL with
k=1,000 importance samples on the first 1,000 test images; test ELBO (all 10,000 images) every
1,500 steps as the curves. A learning rate that diverges is kept as a result: the run stops at
the first non-finite loss and the report lists it as diverged.
"""
from genjax.sweeps import Sweep

LEARNING_RATES = {'sgd': (1e-4, 3e-4, 1e-3), 'nesterov': (3e-5, 1e-4, 3e-4),
                  'rmsprop': (1e-4, 3e-4, 1e-3), 'adam': (3e-4, 1e-3, 3e-3)}


def get_sweep():
  return Sweep(
      config='configs/vae_mnist.py',
      fixed={'optim.schedule': 'constant', 'train.num_steps': 15000, 'train.eval_every': 1500,
             'train.checkpoint_every': 7500, 'eval.metrics': 'nll', 'eval.nll_num_samples': 1000,
             'eval.nll_test_examples': 1000},
      settings=[{'optim.name': name, 'optim.learning_rate': lr}
                for name, rates in LEARNING_RATES.items() for lr in rates],
      seeds=(0, 1, 2),
      columns={'optim.name': 'optimizer', 'optim.learning_rate': 'learning_rate'},
      metrics=('nll', 'elbo', 'active_units'),
      curves=('test/elbo',),
      plot={'x': 'optim.learning_rate', 'hue': 'optim.name', 'logx': True},
      description='VAE optimizers x learning rates, 5 epochs')
