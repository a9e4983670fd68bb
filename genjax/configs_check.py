"""Checks of a config before any work, and of a workdir before resuming in it."""
import json
import os

from genjax.errors import CheckpointError, ConfigError
from genjax.methods.iwae import OBJECTIVES
from genjax.models.iwae_mlp import ARCHITECTURES

# Fields that may change between a run and its resumption without changing what is computed.
RESUMABLE_FIELDS = ('train.num_steps', 'train.eval_every', 'train.keep_checkpoints',
                    'data.source_dir', 'data.tfds_data_dir')


def validate_config(config):
  def need(ok, message):
    if not ok:
      raise ConfigError(message)

  need(config.method.name in OBJECTIVES,
       f'method.name={config.method.name!r}: choose one of {OBJECTIVES}.')
  need(config.method.k >= 1, f'method.k={config.method.k}: the number of samples must be >= 1.')
  need(config.model.stochastic_layers in ARCHITECTURES,
       f'model.stochastic_layers={config.model.stochastic_layers}: choose one of '
       f'{sorted(ARCHITECTURES)}.')
  need(config.data.name == 'mnist',
       f'data.name={config.data.name!r}: the VAE/IWAE models are defined for MNIST.')
  need(config.optim.schedule in ('iwae_paper', 'constant'),
       f'optim.schedule={config.optim.schedule!r}: choose iwae_paper or constant.')
  for name in ('num_steps', 'batch_size', 'log_every', 'eval_every', 'checkpoint_every'):
    value = config.train[name]
    need(isinstance(value, int) and value > 0, f'train.{name}={value!r} must be a positive integer.')
  need(config.train.checkpoint_every % config.train.log_every == 0,
       f'train.checkpoint_every={config.train.checkpoint_every} must be a multiple of '
       f'train.log_every={config.train.log_every}, so a resumed run logs the same windows.')


def flat_dict(d, prefix=''):
  out = {}
  for k, v in d.items():
    if isinstance(v, dict):
      out.update(flat_dict(v, f'{prefix}{k}.'))
    else:
      out[prefix + k] = v
  return out


def check_resumable(config, workdir):
  """Writes WORKDIR/config.json, or checks that the config matches the one already there."""
  path = os.path.join(workdir, 'config.json')
  current = json.loads(config.to_json_best_effort())
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    a, b = flat_dict(saved), flat_dict(current)
    changed = sorted(k for k in set(a) | set(b)
                     if a.get(k) != b.get(k) and k not in RESUMABLE_FIELDS)
    if changed:
      details = ', '.join(f'{k}: {a.get(k)!r} -> {b.get(k)!r}' for k in changed)
      raise CheckpointError(
          f'{workdir} holds a run with a different config ({details}). Resuming would mix two '
          'experiments: use a fresh --workdir, or the original values.')
  with open(path + '.tmp', 'w') as f:
    json.dump(current, f, indent=2)
  os.replace(path + '.tmp', path)
