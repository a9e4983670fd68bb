"""config.eval -> the sample-quality evaluation of a generative model: which metrics, in which
feature spaces, with how many samples, against which real images.

config.eval fields (each optional; runs saved before a field existed get its default):
  metrics          comma list of fid, kid, prdc (precision/recall/density/coverage), score
                   (Inception Score, or the MNIST classifier's analogue + class histogram), and
                   for VAE/IWAE nll (ELBO, L_k, NLL, active units). Default: all that apply.
  features         comma list of mnist_classifier (MNIST only), inception (needs converted
                   weights, see genjax/metrics/inception_weights.py). Default: mnist_classifier
                   on MNIST, inception on CIFAR-10.
  protocol         test: samples vs the test split (10k, like StudioGAN);
                   train: samples vs the train split (50k, the TTUR / Mimicry paper protocol).
  num_samples      generated images (default: 10k for test, 50k for train)
  num_reference    real images, the first ones of the split (default: the whole split)
  kid_subset_size, kid_subsets   KID as torch-fidelity (1000 x 100)
  inception_weights  a converted weights file (else $GENJAX_INCEPTION_WEIGHTS, else the default)
  cache_dir        reference statistics cache (else $GENJAX_CACHE_DIR, else ~/.cache/genjax)
"""
import dataclasses
import time
from typing import Optional, Tuple

import numpy as np
from absl import logging

from genjax.errors import CheckpointError, ConfigError
from genjax.metrics import reference_stats, sample_quality

SAMPLE_METRICS = sample_quality.METRICS
LIKELIHOOD_METRICS = ('nll',)
FEATURE_NETWORKS = ('mnist_classifier', 'inception')
PROTOCOLS = {'test': 10_000, 'train': 50_000}  # the reference split -> default sample count
DEFAULT_FEATURES = {'mnist': 'mnist_classifier', 'cifar10': 'inception'}
GENERATION_BATCH = 500


@dataclasses.dataclass(frozen=True)
class EvalSettings:
  metrics: Tuple[str, ...]
  features: Tuple[str, ...]
  protocol: str
  num_samples: int
  num_reference: Optional[int]
  kid_subset_size: int
  kid_subsets: int
  inception_weights: Optional[str]
  cache_dir: Optional[str]

  @property
  def sample_metrics(self):
    return tuple(m for m in self.metrics if m in SAMPLE_METRICS)


def _names(value, field):
  if isinstance(value, (list, tuple)):
    return tuple(value)
  if not isinstance(value, str):
    raise ConfigError(f'eval.{field}={value!r}: give a comma-separated string.')
  return tuple(v.strip() for v in value.split(',') if v.strip())


def settings(config, likelihood=False):
  """Reads and checks config.eval; every bad value is one ConfigError naming the fix."""
  e = config.get('eval') or {}
  get = lambda name, default: default if e.get(name) is None else e.get(name)
  allowed = SAMPLE_METRICS + (LIKELIHOOD_METRICS if likelihood else ())
  metrics = _names(get('metrics', ','.join(allowed)), 'metrics')
  unknown = [m for m in metrics if m not in allowed]
  if unknown or not metrics:
    hint = '' if likelihood else ' (nll needs a likelihood model: vae or iwae)'
    raise ConfigError(f'eval.metrics={",".join(metrics) or "(empty)"}: unknown {unknown}; choose '
                      f'from {",".join(allowed)}{hint}, e.g. --config.eval.metrics=fid,kid.')
  dataset = config.data.name
  features = _names(get('features', DEFAULT_FEATURES.get(dataset, 'inception')), 'features')
  unknown = [f for f in features if f not in FEATURE_NETWORKS]
  if unknown or not features:
    raise ConfigError(f'eval.features={",".join(features) or "(empty)"}: choose from '
                      f'{",".join(FEATURE_NETWORKS)}.')
  if 'mnist_classifier' in features and dataset != 'mnist':
    raise ConfigError(f'eval.features=mnist_classifier scores MNIST digits only, not {dataset}: '
                      'use --config.eval.features=inception.')
  protocol = get('protocol', 'test')
  if protocol not in PROTOCOLS:
    raise ConfigError(f'eval.protocol={protocol!r}: choose test (10k samples vs the test split) or '
                      'train (50k vs the train split, the TTUR/Mimicry protocol).')
  num_samples = int(get('num_samples', PROTOCOLS[protocol]))
  num_reference = e.get('num_reference')
  kid_subset_size, kid_subsets = int(get('kid_subset_size', 1000)), int(get('kid_subsets', 100))
  for name, value in (('num_samples', num_samples), ('kid_subset_size', kid_subset_size),
                      ('kid_subsets', kid_subsets), ('num_reference', num_reference or 1)):
    if value < 1:
      raise ConfigError(f'eval.{name}={value} must be positive.')
  if 'kid' in metrics:
    smallest = min(num_samples, num_reference or num_samples, sample_quality.KEEP_FEATURES)
    if kid_subset_size > smallest:
      raise ConfigError(f'eval.kid_subset_size={kid_subset_size} exceeds the {smallest} samples '
                        'KID draws from: lower --config.eval.kid_subset_size or raise '
                        'eval.num_samples / eval.num_reference.')
  return EvalSettings(metrics, features, protocol, num_samples, num_reference, kid_subset_size,
                      kid_subsets, e.get('inception_weights'), e.get('cache_dir'))


def feature_networks(s):
  """The networks of s.features, loaded (a missing Inception file raises the how-to-convert)."""
  nets = []
  for name in s.features:
    if name == 'mnist_classifier':
      nets.append(sample_quality.mnist_classifier_network())
    else:
      nets.append(sample_quality.inception_network(s.inception_weights))
  return nets


def _unit_float(images_uint8):
  x = np.asarray(images_uint8, np.float32) / 255.0
  return x[..., None] if x.ndim == 3 else x


def reference_summaries(config, s, networks):
  """{network name: cached summary of the protocol's real images}, and a description of them."""
  from genjax.data import load_split
  split = s.protocol
  images, _ = load_split(config.data.name, split, config.data.source_dir,
                         config.data.get('tfds_data_dir'))
  total = len(images)
  n = min(s.num_reference or total, total)
  images = images[:n]
  dataset_sha = reference_stats.array_sha256(images)
  out = {}
  for net in networks:
    key_fields = dict(dataset=config.data.name, split=split, num_samples=n,
                      feature_network=net.name, feature_network_sha256=net.sha256,
                      dataset_sha256=dataset_sha)

    def batches(net=net):
      t0 = time.monotonic()
      for start in range(0, n, GENERATION_BATCH):
        yield net.outputs(_unit_float(images[start:start + GENERATION_BATCH]))[0]
        logging.log_every_n_seconds(logging.INFO, 'reference features (%s): %d/%d, %.0f s', 60,
                                    net.name, min(start + GENERATION_BATCH, n), n,
                                    time.monotonic() - t0)

    out[net.name] = reference_stats.reference_statistics(key_fields, batches,
                                                         cache_dir=s.cache_dir)
  return out, f'{config.data.name} {split} split, first {n} of {total} images'


def evaluate_samples(config, s, sample_batch):
  """Sample-quality metrics of a generator. `sample_batch(index, size)` returns `size` images in
  [0, 1], float [size, H, W, C], a pure function of (index, size) — generated once, fed to every
  feature network. Returns the flat eval.json entries."""
  metrics = s.sample_metrics
  if not metrics:
    return {}
  networks = feature_networks(s)
  t0 = time.monotonic()
  references, described = reference_summaries(config, s, networks)
  summaries = [sample_quality.FeatureSummary(net, s.num_samples) for net in networks]
  for i, start in enumerate(range(0, s.num_samples, GENERATION_BATCH)):
    images = np.asarray(sample_batch(i, min(GENERATION_BATCH, s.num_samples - start)), np.float32)
    if not np.all(np.isfinite(images)):
      raise CheckpointError(f'The generator produced non-finite images (batch {i}): the '
                               'checkpoint holds diverged weights; evaluate an earlier step.')
    for summary in summaries:
      summary.update(images)
  result = {'eval_protocol': s.protocol, 'num_samples': s.num_samples, 'reference': described,
            'feature_networks': [net.description for net in networks]}
  for net, summary in zip(networks, summaries):
    result.update(sample_quality.compare(net, references[net.name], summary.result(), metrics,
                                         s.kid_subset_size, s.kid_subsets))
  result['sample_quality_seconds'] = round(time.monotonic() - t0, 1)
  return result
