"""The shared skeleton of the adversarial configs (gan_*, dcgan_*, wgan_*, wgan_gp_*, infogan_*).

Each experiment file calls `base(dataset)` and sets its method, networks and optimizers.
"""
import os
import sys

from ml_collections import config_dict

sys.path.insert(0, os.path.dirname(__file__))
import sample_eval  # noqa: E402


def adam(learning_rate, b1, b2, decay='constant'):
  return config_dict.ConfigDict(dict(name='adam', learning_rate=learning_rate, b1=b1, b2=b2,
                                     decay=decay))


def rmsprop(learning_rate):
  return config_dict.ConfigDict(dict(name='rmsprop', learning_rate=learning_rate, b1=0.0, b2=0.0,
                                     decay='constant'))


def base(dataset):
  config = config_dict.ConfigDict()
  config.seed = 0
  config.method = config_dict.ConfigDict(dict(
      name='dcgan', generator_loss='non_saturating', n_critic=1, clip=0.01, gp_lambda=10.0,
      ema_decay=0.0, num_categories=10, num_continuous=2, lambda_cat=1.0, lambda_cont=0.1,
      fixed_continuous_std=False, info_updates_trunk=True,
      # InfoGAN only: 'affine' computes the info loss on randomly warped G(z, c) (rotation in
      # degrees, horizontal shear, relative scale, shift in pixels), so the categorical code
      # carries what small warps keep (digit identity), not slant or width; info_consistency > 0
      # adds Q's agreement on two warps of each real image to D/Q's loss (typical 1.0).
      info_augment='none', info_affine_rotate=15.0, info_affine_shear=0.2,
      info_affine_scale=0.1, info_affine_shift=2.0, info_consistency=0.0))
  config.data = config_dict.ConfigDict()
  config.data.name = dataset
  config.data.source_dir = config_dict.placeholder(str)  # offline: dir of the original files
  config.data.tfds_data_dir = config_dict.placeholder(str)
  # A fixed class-balanced subset of this many training images (None: all of them).
  config.data.train_size = config_dict.placeholder(int)
  # What D sees: 'none'; 'translation' (real images shifted by up to augment_max_shift pixels);
  # 'diffaugment' (DiffAugment's color, translation, cutout on real and fake, in both losses).
  config.data.augment = 'none'
  config.data.augment_max_shift = 2
  config.model = config_dict.ConfigDict(dict(
      generator='dcgan', discriminator='dcgan', z_dim=100, z_prior='normal', base_features=64,
      discriminator_norm='batch',
      # How the critic's convolutions are computed: 'xla' (native; best on GPU/TPU) or 'im2col'
      # (same math as matrix products; WGAN-GP's gradient penalty runs several times faster on CPU).
      conv_impl='xla'))
  config.optim = config_dict.ConfigDict(dict(g=adam(2e-4, 0.5, 0.999), d=adam(2e-4, 0.5, 0.999)))
  # compute_dtype: what activations, matrix products and convolutions run in, 'float32' or
  # 'bfloat16' (parameters, BatchNorm statistics, losses and optimizer updates stay float32).
  # num_seeds: S > 1 trains seeds seed .. seed + S - 1 as one program; seed_axis: how (auto, vmap
  # or scan: genjax/experiments/seeds.py).
  config.train = config_dict.ConfigDict(dict(
      batch_size=64, num_steps=10000, log_every=100, eval_every=1000, checkpoint_every=1000,
      keep_checkpoints=3, compute_dtype='float32', num_seeds=1, seed_axis='auto'))
  config.eval = sample_eval.sample_eval_config(dataset)
  return config


def apply_variant(config, variant):
  """'smoke': a few tiny steps that exercise every code path in seconds on a CPU."""
  if variant == 'smoke':
    config.model.base_features = 8
    config.train.update(batch_size=16, num_steps=4, log_every=2, eval_every=4,
                        checkpoint_every=2)
    config.eval.update(num_samples=200, num_reference=1000, kid_subset_size=100, kid_subsets=10)
  elif variant:
    raise ValueError(f'Unknown variant {variant!r}; use "smoke" or nothing.')
  return config
