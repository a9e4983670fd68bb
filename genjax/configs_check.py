"""Checks of a config before any work, and of a workdir before resuming in it."""
import json
import os

from genjax.errors import CheckpointError, ConfigError

# Fields that may change between a run and its resumption without changing what is computed.
RESUMABLE_FIELDS = ('train.num_steps', 'train.eval_every', 'train.keep_checkpoints',
                    'data.source_dir', 'data.tfds_data_dir')
# Fields added after runs were made, with the value that reproduces what those runs computed.
LEGACY_DEFAULTS = {'model.conv_impl': 'xla', 'optim.name': 'adam', 'optim.momentum': 0.9,
                   'optim.rho': 0.9, 'model.latent_dim': None, 'data.train_size': None}


def validate_train_config(config):
  """The fields every experiment shares; each experiment checks its own (genjax/experiments)."""
  def need(ok, message):
    if not ok:
      raise ConfigError(message)

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
    a = {**{k: v for k, v in LEGACY_DEFAULTS.items() if k in b}, **a}
    resumable = RESUMABLE_FIELDS
    if any(k.endswith('.decay') and v not in (None, 'constant') for k, v in b.items()):
      # A learning-rate decay spans the whole run: more steps would change the past schedule.
      resumable = tuple(f for f in RESUMABLE_FIELDS if f != 'train.num_steps')
    # eval.* only says how launch/evaluate.py measures a run, not what training computes.
    changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k not in resumable
                     and not k.startswith('eval.'))
    if changed:
      details = ', '.join(f'{k}: {a.get(k)!r} -> {b.get(k)!r}' for k in changed)
      raise CheckpointError(
          f'{workdir} holds a run with a different config ({details}). Resuming would mix two '
          'experiments (a decaying learning rate ties the run to its num_steps): use a fresh '
          '--workdir, or the original values.')
  with open(path + '.tmp', 'w') as f:
    json.dump(current, f, indent=2)
  os.replace(path + '.tmp', path)
