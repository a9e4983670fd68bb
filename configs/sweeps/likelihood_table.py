"""The IWAE paper's Table 1 grid at a CPU budget: {VAE, IWAE} x k in {1, 5, 50} x {1, 2}
stochastic layers, 3 seeds each (Burda et al. 2015, Table 1).

  python launch/sweep.py --sweep=configs/sweeps/likelihood_table.py --root=runs/likelihood_table --parallel=2
  python launch/report.py --root=runs/likelihood_table --out=results/ablations/likelihood_table

Budget: 2 epochs (6,000 steps at the paper's batch 20, its Adam and learning-rate schedule) per
run, against the paper's 3,280. Test NLL with k=5,000 importance samples on the first 1,000 test
images (binarized once with a fixed key), the same images for every run. On 2 CPU cores with two
runs side by side the grid takes about 1.5 hours; k=50 with two layers is the slow corner.
"""
from genjax.sweeps import Sweep


def get_sweep():
  settings = [{'method.name': method, 'method.k': k, 'model.stochastic_layers': layers}
              for k in (50, 5, 1) for layers in (2, 1) for method in ('iwae', 'vae')]
  return Sweep(
      config='configs/iwae_mnist.py',
      fixed={'train.num_steps': 6000, 'train.eval_every': 3000, 'train.checkpoint_every': 3000,
             'eval.metrics': 'nll', 'eval.nll_test_examples': 1000},
      settings=settings,
      seeds=(0, 1, 2),
      columns={'method.name': 'method', 'method.k': 'k', 'model.stochastic_layers': 'layers'},
      metrics=('nll', 'elbo', 'iwae_bound', 'active_units'),
      curves=('test/iwae_bound',),
      plot={'x': 'method.k', 'hue': ['method.name', 'model.stochastic_layers'], 'logx': True},
      description='IWAE Table 1 grid, 2 epochs, NLL k=5000 on 1,000 test images')
