"""GAN, DCGAN, WGAN, WGAN-GP and InfoGAN on MNIST (28x28x1) and CIFAR-10 (32x32x3)."""
import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import logging
from scipy.optimize import linear_sum_assignment

from genjax import parallel, viz
from genjax.data import load_split, on_device, subsets
from genjax.configs_check import LEGACY_DEFAULTS
from genjax.configs_check import validate_adversarial as validate
from genjax.errors import ConfigError
from genjax.experiments import sample_eval
from genjax.experiments.likelihood import run_keys
from genjax.methods import adversarial
from genjax.models import gan_nets, layers

IMAGE_SHAPES = {'mnist': (28, 28, 1), 'cifar10': (32, 32, 3)}
NUM_TRAIN = {'mnist': 60000, 'cifar10': 50000}
ADVERSARIAL_OPTIMIZERS = ('adam', 'rmsprop', 'sgd', 'momentum', 'nesterov')


def to_signed_unit(images_uint8):
  """uint8 images -> float32 in [-1, 1] (the generators end in tanh)."""
  return np.asarray(images_uint8, np.float32) / 127.5 - 1.0


def compute_dtype(config):
  """The networks' flax dtype for config.train.compute_dtype (a run made before the field existed
  stored none: it computed in float32)."""
  name = config.train.get('compute_dtype', LEGACY_DEFAULTS['train.compute_dtype'])
  if name not in layers.COMPUTE_DTYPES:
    raise ConfigError(f'train.compute_dtype={name!r}: choose float32 or bfloat16 (parameters stay '
                      'float32 either way).')
  return layers.compute_dtype(name)


def build_networks(config):
  m, shape = config.model, IMAGE_SHAPES[config.data.name]
  dtype = compute_dtype(config)
  generators = {
      'mlp': lambda: gan_nets.MLPGenerator(shape, dtype=dtype),
      'dcgan': lambda: gan_nets.DCGANGenerator(shape, m.base_features, 'batch', dtype=dtype),
      'resnet': lambda: gan_nets.ResNetGenerator(channels=shape[-1], dtype=dtype),
      'infogan': lambda: gan_nets.InfoGANGenerator(dtype=dtype),
  }
  # A run made before model.conv_impl existed stored no value: it used nn.Conv.
  conv_impl = m.get('conv_impl', LEGACY_DEFAULTS['model.conv_impl'])
  if conv_impl not in layers.CONV_IMPLS:
    raise ConfigError(f'model.conv_impl={conv_impl!r}: choose xla (native convolutions; best on '
                      'GPU/TPU) or im2col (same math; a much faster gradient penalty on CPU).')
  discriminators = {
      'mlp': lambda: gan_nets.MLPDiscriminator(dtype=dtype),
      'dcgan': lambda: gan_nets.DCGANDiscriminator(m.base_features, m.discriminator_norm,
                                                   conv_impl, dtype=dtype),
      'resnet': lambda: gan_nets.ResNetCritic(conv_impl=conv_impl, dtype=dtype),
      'infogan': lambda: gan_nets.InfoGANDiscriminator(conv_impl, dtype=dtype),
  }
  for role, table, name in (('generator', generators, m.generator),
                            ('discriminator', discriminators, m.discriminator)):
    if name not in table:
      raise ConfigError(f'model.{role}={name!r}: choose one of {sorted(table)}.')
  if config.method.name == 'wgan_gp' and m.discriminator_norm == 'batch':
    raise ConfigError('WGAN-GP penalizes each example\'s gradient; BatchNorm in the critic mixes '
                      'examples. Set model.discriminator_norm to none or layer.')
  discriminator = discriminators[m.discriminator]()
  if config.method.name == 'infogan':
    discriminator = adversarial.WithQHead(
        discriminator, adversarial.QHead(config.method.num_categories,
                                         config.method.num_continuous, dtype=dtype))
  return generators[m.generator](), discriminator


def build_optimizer(c, num_generator_steps, updates_per_generator_step):
  """Adam, RMSProp, plain SGD, or SGD with heavy-ball ('momentum') or Nesterov momentum
  (coefficient c.momentum, 0.9 when the config has none); `decay='linear'` takes the rate to 0 at
  the last generator step (the WGAN-GP paper's CIFAR schedule), counted in this player's own
  updates (n_critic per step)."""
  learning_rate = c.learning_rate
  decay = c.get('decay', 'constant')
  if decay == 'linear':
    learning_rate = optax.linear_schedule(
        c.learning_rate, 0.0, num_generator_steps * updates_per_generator_step)
  elif decay != 'constant':
    raise ConfigError(f'optim decay {decay!r}: choose constant or linear.')
  if c.name == 'adam':
    return optax.adam(learning_rate, b1=c.b1, b2=c.b2)
  if c.name == 'rmsprop':
    return optax.rmsprop(learning_rate)
  if c.name == 'sgd':
    return optax.sgd(learning_rate)
  if c.name in ('momentum', 'nesterov'):
    return optax.sgd(learning_rate, momentum=c.get('momentum', 0.9),
                     nesterov=c.name == 'nesterov')
  raise ConfigError(f'optimizer {c.name!r}: choose one of {ADVERSARIAL_OPTIMIZERS}.')


def build_spec(config):
  if config.data.name not in IMAGE_SHAPES:
    raise ConfigError(f'data.name={config.data.name!r}: choose one of {sorted(IMAGE_SHAPES)}.')
  generator, discriminator = build_networks(config)
  m = config.method
  return adversarial.Spec(
      method=m.name, generator=generator, discriminator=discriminator,
      g_tx=build_optimizer(config.optim.g, config.train.num_steps, 1),
      d_tx=build_optimizer(config.optim.d, config.train.num_steps, m.n_critic),
      z_dim=config.model.z_dim, n_critic=m.n_critic, generator_loss=m.generator_loss,
      clip=m.clip, gp_lambda=m.gp_lambda, ema_decay=m.ema_decay,
      num_categories=m.num_categories, num_continuous=m.num_continuous,
      lambda_cat=m.lambda_cat, lambda_cont=m.lambda_cont,
      fixed_continuous_std=m.get('fixed_continuous_std', False),
      info_updates_trunk=m.get('info_updates_trunk', True),
      z_prior=config.model.get('z_prior', 'normal'),
      # Fields added with augmentation: a saved config without them ran without it.
      augment=config.data.get('augment', 'none'),
      augment_max_shift=config.data.get('augment_max_shift', 2),
      info_augment=m.get('info_augment', 'none'),
      info_affine_rotate=m.get('info_affine_rotate', 15.0),
      info_affine_shear=m.get('info_affine_shear', 0.2),
      info_affine_scale=m.get('info_affine_scale', 0.1),
      info_affine_shift=m.get('info_affine_shift', 2.0),
      info_consistency=m.get('info_consistency', 0.0))


def best_matching_accuracy(predicted, labels, num_classes=10):
  """Accuracy under the best one-to-one map of predicted codes to labels (Hungarian method)."""
  counts = np.zeros((num_classes, num_classes), np.int64)
  np.add.at(counts, (predicted, labels), 1)
  rows, cols = linear_sum_assignment(-counts)
  return counts[rows, cols].sum() / len(labels), dict(zip(rows.tolist(), cols.tolist()))


def code_statistics(logits):
  """Label-free statistics of Q's categorical code on real images (nats): H[c] of the average
  prediction, the mean H[c | x] of each prediction, and their difference, an estimate of
  I(x; c) under Q. A code that splits real digits into 10 equal, confident groups has
  I = H[c] = log 10; a high H[c | x] flags a code Q is unsure of without needing labels."""
  log_p = jax.nn.log_softmax(jnp.asarray(logits, jnp.float32), axis=-1)
  p = jnp.exp(log_p)
  # entr(0) = 0: a code value no image picks (its mean underflows to 0) adds nothing, not NaN
  marginal = jnp.sum(jax.scipy.special.entr(p.mean(0)))
  conditional = -jnp.mean(jnp.sum(p * log_p, axis=-1))
  return {'code_marginal_entropy': float(marginal), 'code_conditional_entropy': float(conditional),
          'code_mutual_information': float(marginal - conditional)}


class AdversarialExperiment:
  """`splits`: {'train': (images, labels), 'test': (images, labels)}, uint8 arrays already read
  and verified (genjax.data.raw), used in place of reading config.data (results/gpu/readiness.py
  brings only the files that fit on a lent machine); None: genjax.data.load_split."""

  def __init__(self, config, mesh=None, load_train=True, splits=None):
    validate(config)
    self.config = config
    self.mesh = mesh or parallel.data_mesh()
    self.spec = build_spec(config)
    self.image_shape = IMAGE_SHAPES[config.data.name]
    self.keys = dict(zip(('init', 'data', 'train', 'eval'), run_keys(config.seed)))
    self.train_size = config.data.get('train_size') or NUM_TRAIN[config.data.name]
    self.steps_per_epoch = self.train_size // (config.train.batch_size * self.spec.n_critic)
    def read(split):
      if splits is not None:
        return splits[split]
      return load_split(config.data.name, split, config.data.source_dir, config.data.tfds_data_dir)

    test_images, self.test_labels = read('test')
    self.x_test = jnp.asarray(to_signed_unit(test_images))
    if load_train:
      images, labels = read('train')
      if config.data.get('train_size') is not None:
        # The same fixed class-balanced subsets as the likelihood models' (genjax/data/subsets.py).
        images = images[subsets.class_balanced_subset(labels, config.data.train_size)]
      x = jax.device_put(to_signed_unit(images), parallel.replicated(self.mesh))
      self._batches = on_device.EpochBatches(x, config.train.batch_size, self.keys['data'],
                                             parallel.batch_sharding(self.mesh),
                                             dynamic_binarization=False)
    self.train_step = adversarial.make_train_step(self.spec, self.mesh)
    self.grid_latents, _ = adversarial.sample_latents(
        self.spec, jax.random.fold_in(self.keys['eval'], 0), 64)

  def init_state(self):
    return adversarial.init_state(self.spec, self.keys['init'], self.image_shape)

  def batch(self, step):
    """n_critic consecutive batches of the shuffled epochs: [n_critic, B, H, W, C]."""
    n = self.spec.n_critic
    return jnp.stack([self._batches(step * n + i) for i in range(n)])

  def quick_eval(self, state, step):
    """D / critic on 1000 test images vs 1000 samples; InfoGAN's code accuracy."""
    latents, _ = adversarial.sample_latents(self.spec, jax.random.fold_in(self.keys['eval'], step),
                                            1000)
    fake = adversarial.generate(self.spec, state, latents)
    real_out = adversarial.discriminate(self.spec, state, self.x_test[:1000])
    fake_out = adversarial.discriminate(self.spec, state, fake)
    scalars = {}
    if self.spec.is_wasserstein:
      scalars['test/wasserstein_estimate'] = float(jnp.mean(real_out) - jnp.mean(fake_out))
    else:
      scalars['test/d_real'] = float(jnp.mean(jax.nn.sigmoid(real_out)))
      scalars['test/d_fake'] = float(jnp.mean(jax.nn.sigmoid(fake_out)))
    if self.spec.is_infogan:
      scalars['test/categorical_accuracy'] = self.categorical_accuracy(state)[0]
    if self.config.data.name == 'mnist':
      scalars.update(self.class_statistics(fake))
    return scalars

  def class_statistics(self, fake):
    """Mode collapse at a glance: the MNIST classifier's class histogram of the samples ->
    test/class_entropy, test/classes_covered (>= 1% of samples), test/max_class_share; a warning
    when coverage falls below an earlier evaluation's or one class takes over half."""
    from genjax.analysis import collapse
    from genjax.models import mnist_classifier
    if not hasattr(self, '_classifier'):
      self._classifier = mnist_classifier.load_mnist_classifier()[1]
    if not hasattr(self, '_class_history'):
      self._class_history = []
    images = mnist_classifier.to_classifier_input((fake + 1) / 2, value_range=(0.0, 1.0))
    logits, _ = mnist_classifier.classifier_outputs(self._classifier, images)
    stats = collapse.class_statistics(np.asarray(logits).argmax(-1))
    warning = collapse.collapse_warning(self._class_history, stats)
    if warning:
      logging.warning(warning)
    self._class_history.append(stats)
    return {f'test/{k}': v for k, v in stats.items()}

  def resume_history(self, rows):
    """The class statistics logged before a resume (metrics.jsonl rows up to the restored step):
    a coverage drop right after a resume is compared with them."""
    from genjax.analysis import collapse
    self._class_history = collapse.history_from_metrics(rows)

  def code_logits(self, state):
    """Q's categorical logits for the real test set, in batches of 500 (D's BatchNorm uses each
    batch's own statistics, as for the pure real batches it sees in training)."""
    return np.concatenate([
        np.asarray(adversarial.q_predictions(self.spec, state, self.x_test[i:i + 500]))
        for i in range(0, len(self.x_test), 500)])

  def categorical_accuracy(self, state, logits=None):
    """Q's categorical code as a classifier of the real test set, best code->label map."""
    logits = self.code_logits(state) if logits is None else logits
    return best_matching_accuracy(logits.argmax(-1), np.asarray(self.test_labels),
                                  self.spec.num_categories)

  def save_figures(self, state, step, workdir):
    samples = (adversarial.generate(self.spec, state, self.grid_latents) + 1) / 2
    panels = [('samples', samples), ('real test images', (self.x_test[:64] + 1) / 2)]
    if self.spec.is_infogan:
      panels.append(('rows: categorical code, columns: c1 in [-2, 2]',
                     (self.traversal(state) + 1) / 2))
    viz.save_panels(os.path.join(workdir, 'samples', f'step_{step:08d}.png'), panels,
                    title=f'{self.config.method.name} step {step}')

  def traversal(self, state, code=0, columns=10):
    """InfoGAN: rows = categorical value, columns = one continuous code from -2 to 2, the rest
    of the latent fixed."""
    spec = self.spec
    z = adversarial.sample_noise(spec, jax.random.fold_in(self.keys['eval'], 1), 1)
    rows = []
    for cat in range(spec.num_categories):
      cont = jnp.zeros((columns, spec.num_continuous)).at[:, code].set(
          jnp.linspace(-2.0, 2.0, columns))
      onehot = jnp.broadcast_to(jax.nn.one_hot(cat, spec.num_categories),
                                (columns, spec.num_categories))
      rows.append(jnp.concatenate([jnp.broadcast_to(z, (columns, spec.z_dim)), onehot, cont], 1))
    return adversarial.generate(spec, state, jnp.concatenate(rows))

  def generated_images(self, state, index, size):
    """`size` generated images in [0, 1], a pure function of (state, eval key, index, size)."""
    latents, _ = adversarial.sample_latents(
        self.spec, jax.random.fold_in(jax.random.fold_in(self.keys['eval'], 2), index), size)
    return np.clip((np.asarray(adversarial.generate(self.spec, state, latents)) + 1) / 2, 0, 1)

  def evaluate(self, state):
    """Test losses, sample quality (config.eval, see experiments/sample_eval.py), and for
    InfoGAN the categorical code's accuracy as a classifier of the test digits."""
    eval_settings = sample_eval.settings(self.config)
    result = {'method': self.config.method.name, 'dataset': self.config.data.name,
              **self.quick_eval(state, 10**9),
              **sample_eval.evaluate_samples(self.config, eval_settings,
                                           functools.partial(self.generated_images, state))}
    if self.spec.is_infogan:
      logits = self.code_logits(state)
      accuracy, mapping = self.categorical_accuracy(state, logits)
      result.update(categorical_accuracy=accuracy, code_to_label=mapping,
                    num_test_examples=int(len(self.x_test)), **code_statistics(logits))
    return result
