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

# Burda et al. 2015, Table 1: test NLL after 3,280 epochs, (method, k, stochastic layers) -> nats.
PAPER_NLL = {('vae', 1, 1): 86.76, ('vae', 5, 1): 86.47, ('vae', 50, 1): 86.35,
             ('iwae', 1, 1): 86.76, ('iwae', 5, 1): 85.54, ('iwae', 50, 1): 84.78,
             ('vae', 1, 2): 85.33, ('vae', 5, 2): 85.01, ('vae', 50, 2): 84.78,
             ('iwae', 1, 2): 85.33, ('iwae', 5, 2): 83.89, ('iwae', 50, 2): 82.90}


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
      references={'paper_nll_3280_epochs': [
          ({'method.name': m, 'method.k': k, 'model.stochastic_layers': layers}, nll)
          for (m, k, layers), nll in PAPER_NLL.items()]},
      plot={'x': 'method.k', 'hue': ['method.name', 'model.stochastic_layers'], 'logx': True},
      description='IWAE Table 1 grid, 2 epochs, NLL k=5000 on 1,000 test images')
