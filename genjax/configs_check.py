"""Checks of a config before any work, and of a workdir before resuming in it."""
import json
import os

from genjax.errors import CheckpointError, ConfigError

# What the experiments accept, here so that a config is checked in a second, before jax, TF or the
# data load (tests/test_hardening.py checks these against the modules that implement them).
LIKELIHOOD_OBJECTIVES = ('vae', 'iwae')  # genjax/methods/iwae.py OBJECTIVES
LIKELIHOOD_OPTIMIZERS = ('adam', 'sgd', 'momentum', 'nesterov', 'rmsprop')  # iwae.OPTIMIZERS
LIKELIHOOD_ARCHITECTURES = (1, 2)  # genjax/models/iwae_mlp.py ARCHITECTURES
ADVERSARIAL_METHODS = ('gan', 'dcgan', 'wgan', 'wgan_gp', 'infogan')
ADVERSARIAL_DATASETS = ('cifar10', 'mnist')  # experiments/adversarial.py IMAGE_SHAPES
ADVERSARIAL_OPTIMIZERS = ('adam', 'rmsprop', 'sgd', 'momentum', 'nesterov')  # and there
ADVERSARIAL_TRAIN_SIZES = {'mnist': 60000, 'cifar10': 50000}  # experiments/adversarial.py NUM_TRAIN
ADVERSARIAL_AUGMENTS = ('none', 'translation', 'diffaugment')  # methods/adversarial.py AUGMENTS
INFO_AUGMENTS = ('none', 'affine')  # methods/adversarial.py INFO_AUGMENTS
CONV_IMPLS = ('xla', 'im2col')  # genjax/models/layers.py CONV_IMPLS
COMPUTE_DTYPES = ('float32', 'bfloat16')  # genjax/models/layers.py COMPUTE_DTYPES
SEED_AXES = ('auto', 'vmap', 'scan')  # genjax/experiments/seeds.py SEED_AXES

# Fields that may change between a run and its resumption without changing what is computed.
RESUMABLE_FIELDS = ('train.num_steps', 'train.eval_every', 'train.keep_checkpoints',
                    'data.source_dir', 'data.tfds_data_dir')
# Fields added after runs were made, with the value that reproduces what those runs computed.
LEGACY_DEFAULTS = {'model.conv_impl': 'xla', 'optim.name': 'adam', 'optim.momentum': 0.9,
                   'optim.rho': 0.9, 'model.latent_dim': None, 'data.train_size': None,
                   'data.augment': 'none', 'data.augment_max_shift': 2,
                   'method.info_augment': 'none', 'method.info_affine_rotate': 15.0,
                   'method.info_affine_shear': 0.2, 'method.info_affine_scale': 0.1,
                   'method.info_affine_shift': 2.0, 'method.info_consistency': 0.0,
                   'train.compute_dtype': 'float32', 'train.num_seeds': 1,
                   'train.seed_axis': 'auto'}


def need(ok, message):
  """Raises ConfigError(message) unless ok: each message names the field and how to fix it."""
  if not ok:
    raise ConfigError(message)


def _is_number(value):
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive(name, value, what='it must be > 0'):
  """A learning rate, a clipping bound, an epsilon: a number > 0."""
  need(_is_number(value) and value > 0, f'{name}={value!r}: {what}.')


def non_negative(name, value, what='it must be >= 0'):
  """A loss weight such as a penalty's lambda: a number >= 0 (0 switches the term off)."""
  need(_is_number(value) and value >= 0, f'{name}={value!r}: {what}.')


def decay_rate(name, value):
  """Adam's betas, momentum, RMSProp's rho, an EMA decay: a number in [0, 1)."""
  need(value is None or (_is_number(value) and 0 <= value < 1),
       f'{name}={value!r}: choose a value in [0, 1) (the weight kept of the previous average).')


def positive_int(name, value, least=1):
  need(isinstance(value, int) and not isinstance(value, bool) and value >= least,
       f'{name}={value!r}: it must be an integer >= {least}.')


def one_of(name, value, choices):
  need(value in choices, f'{name}={value!r}: choose one of {", ".join(map(str, choices))}.')


def validate_train_config(config):
  """The fields every experiment shares; each experiment checks its own (genjax/experiments)."""
  need(isinstance(config.get('seed', 0), int), f'seed={config.get("seed")!r}: give an integer.')
  for name in ('num_steps', 'batch_size', 'log_every', 'eval_every', 'checkpoint_every'):
    value = config.train[name]
    need(isinstance(value, int) and value > 0, f'train.{name}={value!r} must be a positive integer.')
  # A resume starts at a checkpoint; it must also start a logging window, so that the resumed
  # run logs the same window means. Checkpoints only at the last step (a budget of a few steps)
  # cannot be resumed mid-window.
  need(config.train.checkpoint_every % config.train.log_every == 0
       or config.train.checkpoint_every >= config.train.num_steps,
       f'train.checkpoint_every={config.train.checkpoint_every} must be a multiple of '
       f'train.log_every={config.train.log_every} (or at least train.num_steps), so a resumed '
       'run logs the same windows.')
  num_seeds = config.train.get('num_seeds', LEGACY_DEFAULTS['train.num_seeds'])
  need(isinstance(num_seeds, int) and not isinstance(num_seeds, bool) and num_seeds >= 1,
       f'train.num_seeds={num_seeds!r}: give how many seeds to train together (an integer >= 1; '
       '1 trains config.seed alone).')
  seed_axis = config.train.get('seed_axis', LEGACY_DEFAULTS['train.seed_axis'])
  need(seed_axis in SEED_AXES,
       f'train.seed_axis={seed_axis!r}: choose auto, vmap (seeds batched: fastest on an '
       'accelerator) or scan (seeds looped: each its own run, to the last bits).')
  dtype = config.train.get('compute_dtype', LEGACY_DEFAULTS['train.compute_dtype'])
  need(dtype in COMPUTE_DTYPES,
       f'train.compute_dtype={dtype!r}: choose float32 or bfloat16 (what activations, matrix '
       'products and convolutions run in; parameters and losses stay float32).')


def flat_dict(d, prefix=''):
  out = {}
  for k, v in d.items():
    if isinstance(v, dict):
      out.update(flat_dict(v, f'{prefix}{k}.'))
    else:
      out[prefix + k] = v
  return out


def write_config(config, workdir):
  """WORKDIR/config.json, written atomically (after check_resumable and a good restore)."""
  path = os.path.join(workdir, 'config.json')
  current = json.loads(config.to_json_best_effort())
  with open(path + '.tmp', 'w') as f:
    json.dump(current, f, indent=2)
  os.replace(path + '.tmp', path)


def check_resumable(config, workdir):
  """Checks that the config matches WORKDIR/config.json, when there is one; writes nothing."""
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


def validate_likelihood(config):
  """VAE / IWAE (genjax/experiments/likelihood.py)."""
  need(config.method.name in LIKELIHOOD_OBJECTIVES,
       f'method.name={config.method.name!r}: choose one of {LIKELIHOOD_OBJECTIVES}.')
  positive_int('method.k', config.method.k)
  need(config.model.stochastic_layers in LIKELIHOOD_ARCHITECTURES,
       f'model.stochastic_layers={config.model.stochastic_layers}: choose one of '
       f'{list(LIKELIHOOD_ARCHITECTURES)}.')
  need(config.data.name == 'mnist',
       f'data.name={config.data.name!r}: the VAE/IWAE models are defined for MNIST.')
  need(config.optim.schedule in ('iwae_paper', 'constant'),
       f'optim.schedule={config.optim.schedule!r}: choose iwae_paper or constant.')
  need(config.optim.get('name', 'adam') in LIKELIHOOD_OPTIMIZERS,
       f'optim.name={config.optim.get("name")!r}: choose one of {LIKELIHOOD_OPTIMIZERS}.')
  positive('optim.learning_rate', config.optim.learning_rate,
           'a learning rate must be > 0 (a negative one ascends the loss)')
  for field in ('momentum', 'rho', 'b1', 'b2'):
    decay_rate(f'optim.{field}', config.optim.get(field))
  positive('optim.eps', config.optim.eps)
  latent_dim = config.model.get('latent_dim')
  need(latent_dim is None or (isinstance(latent_dim, int) and latent_dim >= 1),
       f'model.latent_dim={latent_dim!r}: the top layer needs >= 1 unit.')
  size = config.data.get('train_size')
  need(size is None or (isinstance(size, int) and 10 <= size <= 60000),
       f'data.train_size={size!r}: choose 10..60000 training images, or None for all.')
  need(size is None or size >= config.train.batch_size,
       f'data.train_size={size} is smaller than train.batch_size={config.train.batch_size}.')
  e = config.get('eval')
  if e is not None:
    for field in ('nll_num_samples', 'nll_chunk', 'batch_size'):
      if e.get(field) is not None:
        positive_int(f'eval.{field}', e.get(field))
    for field in ('nll_test_examples', 'train_nll_examples'):
      if e.get(field) is not None:
        positive_int(f'eval.{field}', e.get(field))


ADVERSARIAL_NETWORKS = ('mlp', 'dcgan', 'resnet', 'infogan')
DISCRIMINATOR_NORMS = ('batch', 'none', 'layer')


def validate_adversarial(config):
  """Every value the adversarial methods read, refused before any work when it cannot work."""
  m, model = config.method, config.model
  one_of('method.name', m.name, ('gan', 'dcgan', 'wgan', 'wgan_gp', 'infogan'))
  one_of('data.name', config.data.name, ADVERSARIAL_DATASETS)
  positive_int('method.n_critic', m.n_critic)
  one_of('method.generator_loss', m.generator_loss, ('non_saturating', 'minimax'))
  positive('method.clip', m.clip, 'the WGAN weight-clipping bound must be > 0')
  non_negative('method.gp_lambda', m.gp_lambda,
               'the gradient-penalty weight lambda must be >= 0 (10 in the WGAN-GP paper)')
  decay_rate('method.ema_decay', m.ema_decay)
  non_negative('method.lambda_cat', m.lambda_cat)
  non_negative('method.lambda_cont', m.lambda_cont)
  positive_int('method.num_categories', m.num_categories)
  positive_int('method.num_continuous', m.num_continuous, least=0)
  positive_int('model.z_dim', model.z_dim)
  positive_int('model.base_features', model.base_features)
  one_of('model.generator', model.generator, ADVERSARIAL_NETWORKS)
  one_of('model.discriminator', model.discriminator, ADVERSARIAL_NETWORKS)
  one_of('model.discriminator_norm', model.discriminator_norm, DISCRIMINATOR_NORMS)
  one_of('model.z_prior', model.get('z_prior', 'normal'), ('normal', 'uniform'))
  one_of('model.conv_impl', model.get('conv_impl', LEGACY_DEFAULTS['model.conv_impl']),
         CONV_IMPLS)
  if m.name == 'wgan_gp' and model.discriminator_norm == 'batch':
    raise ConfigError('WGAN-GP penalizes each example\'s gradient; BatchNorm in the critic mixes '
                      'examples. Set model.discriminator_norm to none or layer.')
  size, most = config.data.get('train_size'), ADVERSARIAL_TRAIN_SIZES[config.data.name]
  need(size is None or (isinstance(size, int) and 1 <= size <= most),
       f'data.train_size={size!r}: choose 1..{most} training images, or None for all.')
  per_step = config.train.batch_size * m.n_critic
  need(size is None or size >= per_step,
       f'data.train_size={size} is smaller than one step\'s real images (train.batch_size '
       f'{config.train.batch_size} x method.n_critic {m.n_critic} = {per_step}).')
  # Augmentation (genjax/data/augment.py; adversarial.AUGMENTS, INFO_AUGMENTS).
  one_of('data.augment', config.data.get('augment', 'none'), ADVERSARIAL_AUGMENTS)
  positive_int('data.augment_max_shift', config.data.get('augment_max_shift', 2), least=0)
  one_of('method.info_augment', m.get('info_augment', 'none'), INFO_AUGMENTS)
  for field, default in (('info_affine_rotate', 15.0), ('info_affine_shear', 0.2),
                         ('info_affine_scale', 0.1), ('info_affine_shift', 2.0),
                         ('info_consistency', 0.0)):
    non_negative(f'method.{field}', m.get(field, default))
  need(m.get('info_affine_scale', 0.1) < 1,
       f'method.info_affine_scale={m.get("info_affine_scale")!r}: scales are drawn from '
       '[1 - it, 1 + it], so it must be < 1.')
  if m.name != 'infogan':
    need(m.get('info_augment', 'none') == 'none',
         f'method.info_augment={m.get("info_augment")!r}: it warps the images InfoGAN\'s Q head '
         f'reads; method {m.name!r} has none. Set method.info_augment=none.')
    need(not m.get('info_consistency', 0.0),
         f'method.info_consistency={m.get("info_consistency")!r}: it is a loss on InfoGAN\'s Q '
         f'head; method {m.name!r} has none. Set method.info_consistency=0.')
  for player in ('g', 'd'):
    c = config.optim[player]
    one_of(f'optim.{player}.name', c.name, ADVERSARIAL_OPTIMIZERS)
    decay_rate(f'optim.{player}.momentum', c.get('momentum'))
    positive(f'optim.{player}.learning_rate', c.learning_rate,
             'a learning rate must be > 0 (a negative one ascends the loss)')
    one_of(f'optim.{player}.decay', c.get('decay', 'constant'), ('constant', 'linear'))
    if c.name == 'adam':
      decay_rate(f'optim.{player}.b1', c.b1)
      decay_rate(f'optim.{player}.b2', c.b2)


def validate_classifier(config):
  """The MNIST feature classifier (genjax/experiments/classifier.py)."""
  if config.data.name != 'mnist':
    raise ConfigError(f'data.name={config.data.name!r}: the classifier is defined for MNIST.')
  if config.optim.decay not in ('cosine', 'constant'):
    raise ConfigError(f'optim.decay={config.optim.decay!r}: choose cosine or constant.')
  if config.data.max_shift < 0:
    raise ConfigError(f'data.max_shift={config.data.max_shift}: must be >= 0 pixels.')
  positive('optim.learning_rate', config.optim.learning_rate, 'a learning rate must be > 0')
  non_negative('optim.weight_decay', config.optim.weight_decay)


def validate_config(config):
  """Every value of an experiment config that cannot work, refused with one ConfigError line.
  Needs neither jax nor the data: launch/train.py calls it first."""
  validate_train_config(config)
  name = config.method.name
  if name in LIKELIHOOD_OBJECTIVES:
    validate_likelihood(config)
  elif name in ADVERSARIAL_METHODS:
    validate_adversarial(config)
  elif name == 'classifier':
    validate_classifier(config)
  else:
    raise ConfigError(f'method.name={name!r}: choose one of '
                      f'{", ".join(LIKELIHOOD_OBJECTIVES + ADVERSARIAL_METHODS + ("classifier",))}.')
