"""IWAE on dynamically binarized MNIST (Burda et al. 2015, Table 1).

  python launch/train.py --config=configs/iwae_mnist.py --workdir=/tmp/iwae_k50
  python launch/evaluate.py --workdir=/tmp/iwae_k50

Overrides: --config.method.k=5, --config.model.stochastic_layers=2, --config.train.num_steps=...
The paper trains 3280 epochs (9.84M steps at batch 20) and reports test NLL (k=5000) 84.78 for
k=50 with one stochastic layer; that budget is for an accelerator. On this project's 2-core CPU,
an epoch (3000 steps) takes about 5 s at k=1 and about 55 s at k=50; results/iwae_mnist/ holds
what short budgets reach. `configs/iwae_mnist.py:smoke` trains and evaluates in about a minute.
"""
import os
import sys

from ml_collections import config_dict

sys.path.insert(0, os.path.dirname(__file__))
import sample_eval  # noqa: E402

STEPS_PER_EPOCH = 3000  # 60000 examples / batch 20


def get_config(variant=''):
  config = config_dict.ConfigDict()
  config.seed = 0
  config.method = config_dict.ConfigDict(dict(name='iwae', k=50))

  config.data = config_dict.ConfigDict()
  config.data.name = 'mnist'
  config.data.source_dir = config_dict.placeholder(str)  # offline: dir of the original files
  config.data.tfds_data_dir = config_dict.placeholder(str)  # None: TFDS's default
  config.data.dynamic_binarization = True
  # A fixed class-balanced subset of this many training images (None: all 60,000).
  config.data.train_size = config_dict.placeholder(int)

  # latent_dim: the top stochastic layer's units (None: the paper's 50).
  config.model = config_dict.ConfigDict(
      dict(stochastic_layers=1, latent_dim=config_dict.placeholder(int)))
  # name: adam (the paper's), sgd, momentum, nesterov (momentum: their coefficient) or rmsprop
  # (rho: its squared-gradient average); schedule: iwae_paper or constant.
  config.optim = config_dict.ConfigDict(
      dict(name='adam', learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-4, momentum=0.9, rho=0.9,
           schedule='iwae_paper'))

  config.train = config_dict.ConfigDict()
  config.train.batch_size = 20
  config.train.num_steps = 3280 * STEPS_PER_EPOCH
  config.train.log_every = 500
  config.train.eval_every = 30 * STEPS_PER_EPOCH
  config.train.checkpoint_every = STEPS_PER_EPOCH
  config.train.keep_checkpoints = 3
  # What the hidden layers compute in: 'float32' or 'bfloat16' (parameters, log-probabilities,
  # the bound and the optimizer stay float32).
  config.train.compute_dtype = 'float32'
  # S > 1: seeds seed .. seed + S - 1 trained as one program (genjax/experiments/seeds.py).
  config.train.num_seeds = 1
  config.train.seed_axis = 'auto'  # vmap (batched) or scan (each seed bit for bit its own run)

  config.eval = config_dict.ConfigDict()
  config.eval.nll_num_samples = 5000
  config.eval.nll_chunk = 100  # small chunks stay in cache: fastest on CPU
  # The first N test images for elbo/nll/active_units (None: all 10,000; ablations use fewer).
  config.eval.nll_test_examples = config_dict.placeholder(int)
  # ELBO/NLL also on the first N training images the run saw (None: skipped): the train-test gap.
  config.eval.train_nll_examples = config_dict.placeholder(int)
  config.eval.batch_size = 100
  config.eval.active_units_threshold = 0.01
  # Beside the likelihoods: the samples' quality (genjax/experiments/sample_eval.py).
  config.eval.update(sample_eval.sample_eval_config('mnist'))
  config.eval.metrics = 'nll,fid,kid,prdc,score'

  if variant == 'smoke':
    config.method.k = 5
    config.train.batch_size = 100
    config.train.num_steps = 600
    config.train.log_every = 50
    config.train.eval_every = 300
    config.train.checkpoint_every = 100
    config.eval.nll_num_samples = 500
    config.eval.nll_chunk = 100
    config.eval.update(num_samples=200, num_reference=1000, kid_subset_size=100, kid_subsets=10)
  elif variant:
    raise ValueError(f'Unknown variant {variant!r}; use "smoke" or nothing.')
  return config
