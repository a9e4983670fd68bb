"""An experiment binds a config to data, a method and its evaluation, for the shared loop in
genjax/train.py. Each one offers:

  steps_per_epoch               int
  init_state()                  the initial train state (a pytree; checkpoints hold all of it)
  train_step(state, batch, key) the method's pure step (jitted once by the loop)
  batch(step)                   the step's input, a pure function of (seed, step)
  quick_eval(state, step)       scalars cheap enough to log during training
  save_figures(state, step, workdir)
  evaluate(state)               the full evaluation written to eval.json by genjax/evaluate.py

A SeedStack (train.num_seeds > 1) offers the same, with `num_seeds`, `seeds`, quick_eval
returning one dict per seed and evaluate one row per seed.
"""
from genjax.errors import ConfigError

LIKELIHOOD_METHODS = ('vae', 'iwae')
ADVERSARIAL_METHODS = ('gan', 'dcgan', 'wgan', 'wgan_gp', 'infogan')


def validate(config):
  """Refuses impossible values before any data is read or anything is written (ConfigError)."""
  from genjax.configs_check import validate_config
  validate_config(config)


def for_config(config, mesh=None, load_train=True):
  """The experiment of `config`; with train.num_seeds = S > 1, the S seeds stacked for one
  vmapped program (genjax/experiments/seeds.py)."""
  from genjax.experiments import seeds
  if seeds.num_seeds(config) > 1:
    return seeds.SeedStack(config, _single, mesh, load_train)
  return _single(config, mesh, load_train)


def _single(config, mesh=None, load_train=True):
  name = config.method.name
  if name in LIKELIHOOD_METHODS:
    from genjax.experiments.likelihood import LikelihoodExperiment
    return LikelihoodExperiment(config, mesh, load_train)
  if name in ADVERSARIAL_METHODS:
    from genjax.experiments.adversarial import AdversarialExperiment
    return AdversarialExperiment(config, mesh, load_train)
  if name == 'classifier':
    from genjax.experiments.classifier import ClassifierExperiment
    return ClassifierExperiment(config, mesh, load_train)
  raise ConfigError(f'method.name={name!r}: choose one of '
                    f'{LIKELIHOOD_METHODS + ADVERSARIAL_METHODS + ("classifier",)}.')
