"""The analysis figures. Each takes a restored run (or runs) and returns (figure, numbers): the
matplotlib figure and a dict of the numbers it shows, which launch/plot.py saves beside it.

  curves         training curves of one or more runs; seed bands where runs differ only by seed
  eval_curves    FID / KID / precision / recall over training, from the saved evaluations of
                 launch/evaluate.py --all_checkpoints (one line per run and evaluation folder)
  progress       samples from the same latents at every kept checkpoint
  interpolation  linear and spherical paths between prior latents; VAE/IWAE: between the codes of
                 two test images
  traversal      InfoGAN: categorical value x one continuous code
  manifold       a 2-D latent VAE decoded over a grid of Gaussian quantiles, and the test codes
  tsne, pca      VAE/IWAE: test codes by label (kNN accuracy); GANs: real vs generated features
  neighbors      generated samples beside their nearest training images in feature space
  mode_collapse  the class histogram's entropy, coverage and largest share over training
"""
import json
import re
import textwrap

import jax
import matplotlib.pyplot as plt
import numpy as np

from genjax import results
from genjax.analysis import collapse, embed, latent
from genjax.configs_check import flat_dict

KEY = jax.random.key(20251130)  # the analysis' own latents: the same for every run


def _key(i):
  return jax.random.fold_in(KEY, i)


def _image_grid(ax, images, cols, title=None):
  images = np.asarray(images)
  n, h, w, c = images.shape
  rows = -(-n // cols)
  canvas = np.ones((rows * (h + 1) - 1, cols * (w + 1) - 1, c))
  for i, img in enumerate(images):
    r, col = divmod(i, cols)
    canvas[r * (h + 1):r * (h + 1) + h, col * (w + 1):col * (w + 1) + w] = img
  ax.imshow(canvas.squeeze(-1) if c == 1 else canvas, cmap='gray' if c == 1 else None,
            vmin=0, vmax=1, interpolation='nearest')
  ax.set_xticks([])
  ax.set_yticks([])
  if title:
    ax.set_title(title, fontsize=9)


def _fit(text, fig, fontsize):
  """`text` broken into lines that fit `fig`'s width at `fontsize` (a run's name breaks after its
  commas, other text at spaces), so that a long run name is not clipped at the figure's edges."""
  width = max(20, int(0.95 * fig.get_figwidth() * 72 / (0.7 * fontsize)))  # ~0.7 em a character
  lines = []
  for paragraph in text.split('\n'):
    line = ''
    for word in re.split(r'(?<=[, ])', paragraph):
      if line and len(line) + len(word.rstrip()) > width:
        lines.append(line.rstrip())
        line = ''
      line += word
    lines.append(line.rstrip())
  return '\n'.join(lines)


def _feature_network(restored):
  from genjax.metrics import sample_quality
  if restored.config.data.name == 'mnist':
    return sample_quality.mnist_classifier_network()
  return sample_quality.inception_network(restored.config.eval.get('inception_weights'))


# ---- curves -----------------------------------------------------------------------------------

def curves(runs, keys=None):
  """Each key's curve per setting: one line for a single run, mean and min-max band over runs
  whose configs differ only by seed."""
  groups = {}
  for run in runs:
    setting = {k: v for k, v in flat_dict(run.config).items()
               if k != 'seed' and not k.startswith(('eval.', 'data.source_dir', 'data.tfds'))}
    groups.setdefault(json.dumps(setting, sort_keys=True, default=str), []).append(run)
  available = sorted({k for run in runs for r in run.metrics for k in r
                      if not any(w in k for w in ('step', 'per_sec', 'eta', 'epoch'))})
  keys = keys or [k for k in available if k.startswith('test/')][:4] or available[:4]
  if not keys:
    raise ValueError('the runs have no logged metrics to plot yet.')
  fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.6), squeeze=False)
  numbers = {}
  for ax, key in zip(axes[0], keys):
    for i, members in enumerate(groups.values()):
      series = [m.curve(key) for m in members if any(key in r for r in m.metrics)]
      if not series:
        continue
      steps = sorted(set.intersection(*(set(s.tolist()) for s, _ in series)))
      values = np.array([[dict(zip(s.tolist(), v.tolist()))[t] for t in steps] for s, v in series])
      label = members[0].name if len(members) == 1 else (
          f'{members[0].name} +{len(members) - 1} seeds')
      ax.plot(steps, values.mean(0), color=f'C{i % 10}', label=label)
      if len(series) > 1:
        ax.fill_between(steps, values.min(0), values.max(0), color=f'C{i % 10}', alpha=0.2)
      numbers[f'{label}:{key}'] = float(values.mean(0)[-1])
  return _over_steps(fig, axes, keys, legend_size=7), numbers


def _over_steps(fig, axes, keys, legend_size):
  """The finish of a row of curves over training steps, one metric per panel."""
  for ax, key in zip(axes[0], keys):
    ax.set_xlabel('step')
    ax.set_title(key, fontsize=9)
    ax.grid(alpha=0.3)
  axes[0, 0].legend(fontsize=legend_size)
  fig.tight_layout()
  return fig


def evaluations(workdir):
  """{folder: {step: result}} of the run's evaluations over training: WORKDIR/evals (the run's
  own settings) and each WORKDIR/evals_* (launch/evaluate.py --evals_dir, e.g. fewer samples)."""
  found = {}
  for folder, paths in results.evaluation_files(workdir).items():
    for path in paths:
      with open(path) as f:
        result = json.load(f)
      found.setdefault(folder, {})[int(result['step'])] = result
  return found


def eval_curves(runs, prefixes=('fid_', 'kid_', 'precision_', 'recall_')):
  """Sample-quality metrics over training from each run's saved evaluations (evaluations()):
  one line per run and folder, labelled with its sample count, so that a curve at 2,000 samples
  (biased upwards for FID) is not read as the 10,000-sample result."""
  lines = []
  for run in runs:
    for folder, by_step in evaluations(run.workdir).items():
      steps = sorted(by_step)
      samples = sorted({by_step[s].get('num_samples') for s in steps}, key=str)
      label = f'{folder}, {"/".join(str(n) for n in samples)} samples'
      lines.append((label if len(runs) == 1 else f'{run.name}: {label}', steps,
                    [by_step[s] for s in steps]))
  keys = [next((k for line in lines for r in line[2] for k in r if k.startswith(p)
                and not k.endswith('_std') and isinstance(r[k], (int, float))), None)
          for p in prefixes]
  keys = [k for k in keys if k]
  if not lines or not keys:
    raise ValueError('the runs have no saved sample-quality evaluations (WORKDIR/evals*/'
                     'step_N.json): run launch/evaluate.py --all_checkpoints first.')
  fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.6), squeeze=False)
  numbers = {}
  for ax, key in zip(axes[0], keys):
    for i, (label, steps, rows) in enumerate(lines):
      points = [(s, r[key]) for s, r in zip(steps, rows) if isinstance(r.get(key), (int, float))]
      if not points:
        continue
      ax.plot(*zip(*points), 'o-', color=f'C{i % 10}', label=label)
      numbers[f'{label}:{key}'] = {str(s): float(v) for s, v in points}
  if len(runs) == 1:
    fig.suptitle(runs[0].name, fontsize=8)
  return _over_steps(fig, axes, keys, legend_size=7), numbers


# ---- samples over training -------------------------------------------------------------------

def progress(restored, num=10):
  """One row per kept checkpoint: the same `num` latents decoded by the model at that step."""
  from genjax.analysis.restore import checkpoint_steps
  steps = checkpoint_steps(restored.workdir)
  latents = restored.prior_latents(_key(1), num)
  rows = [restored.at(step).decode(latents) for step in steps]
  fig, ax = plt.subplots(figsize=(num * 0.7, len(steps) * 0.75 + 0.6))
  _image_grid(ax, np.concatenate(rows), num)
  h = rows[0].shape[1] + 1
  ax.set_yticks([i * h + h / 2 for i in range(len(steps))])
  ax.set_yticklabels([f'step {s}' for s in steps], fontsize=8)
  ax.set_title(_fit(f'{restored.run.name}: fixed latents at each checkpoint', fig, 9),
               fontsize=9)
  fig.tight_layout()
  return fig, {'steps': steps}


# ---- latent paths ------------------------------------------------------------------------------

def interpolation(restored, pairs=3, num=10):
  """Rows: lerp and slerp between pairs of prior latents (InfoGAN: the noise part; the codes are
  interpolated the same way); VAE/IWAE also between the codes of pairs of test images, with the
  images themselves at the ends."""
  starts, ends = (np.asarray(restored.prior_latents(_key(2 + i), pairs)) for i in range(2))
  rows, labels = [], []
  for a, b in zip(starts, ends):
    for name, path in (('lerp', latent.lerp), ('slerp', latent.slerp)):
      rows.append(restored.decode(path(a, b, num)))
      labels.append(f'prior {name}')
  numbers = {}
  if restored.is_likelihood:
    x, _ = restored.test_images(2 * pairs)
    codes = restored.encode(np.asarray(restored.experiment.x_test[:2 * pairs]))
    for i in range(pairs):
      path = latent.lerp(codes[2 * i], codes[2 * i + 1], num)
      decoded = restored.decode(path)
      rows.append(np.concatenate([x[2 * i:2 * i + 1], decoded[1:-1], x[2 * i + 1:2 * i + 2]]))
      labels.append('test x .. x\'')
    numbers['code_norms'] = np.linalg.norm(codes, axis=1).round(3).tolist()
  fig, ax = plt.subplots(figsize=(num * 0.7, len(rows) * 0.75 + 0.6))
  _image_grid(ax, np.concatenate(rows), num)
  h = rows[0].shape[1] + 1
  ax.set_yticks([i * h + h / 2 for i in range(len(rows))])
  ax.set_yticklabels(labels, fontsize=8)
  ax.set_title(_fit(f'{restored.run.name} (step {restored.step}): latent interpolations', fig, 9),
               fontsize=9)
  fig.tight_layout()
  return fig, numbers


def traversal(restored, columns=10):
  """InfoGAN: for each continuous code, rows = categorical value, columns = the code from -2 to 2
  with the noise fixed."""
  if not restored.is_infogan:
    raise ValueError('traversal applies to InfoGAN runs only.')
  spec = restored.experiment.spec
  fig, axes = plt.subplots(1, spec.num_continuous, figsize=(6 * spec.num_continuous, 6.4),
                           squeeze=False)
  for code, ax in enumerate(axes[0]):
    images = restored.experiment.traversal(restored.state, code=code, columns=columns)
    _image_grid(ax, np.clip((np.asarray(images) + 1) / 2, 0, 1), columns,
                f'rows: categorical value 0-{spec.num_categories - 1}; columns: c{code + 1} '
                'from -2 to 2')
  fig.suptitle(f'{restored.run.name} (step {restored.step})', fontsize=9)
  fig.tight_layout()
  return fig, {}


def manifold(restored, size=20, num_points=5000):
  """Kingma & Welling's figure: a 2-D latent decoded over size x size Gaussian quantiles, and the
  test set's codes coloured by label."""
  from scipy.stats import norm
  if not restored.is_likelihood or restored.latent_dim() != 2:
    raise ValueError('manifold needs a VAE/IWAE with a 2-D latent (--config.model.latent_dim=2).')
  q = norm.ppf(np.linspace(0.5 / size, 1 - 0.5 / size, size))
  grid = np.array([[a, b] for b in q[::-1] for a in q])
  images = restored.decode(grid)
  x = np.asarray(restored.experiment.x_test[:num_points])
  codes = restored.encode(x)
  _, labels = restored.test_images(num_points)
  fig, (left, right) = plt.subplots(1, 2, figsize=(13, 6.2))
  _image_grid(left, images, size, 'decoded over Gaussian quantiles of z (z1 across, z2 up)')
  sc = right.scatter(codes[:, 0], codes[:, 1], c=labels, cmap='tab10', s=3)
  right.legend(*sc.legend_elements(), fontsize=7, title='label', loc='best')
  right.set_title(f'E_q[z|x] of {len(x)} test images', fontsize=9)
  right.set_aspect('equal')
  fig.tight_layout()
  accuracy = embed.knn_accuracy(codes, labels)
  return fig, {'knn10_accuracy_latent': accuracy, 'num_points': int(len(x))}


# ---- embeddings -------------------------------------------------------------------------------

def _embedding_data(restored, num=None):
  """(features, colours, legend title, numbers): VAE/IWAE test codes of `num` (2000) test images
  by label; for GANs the feature network's features of `num` (1000) real test images and as many
  samples, by source."""
  num = num or (2000 if restored.is_likelihood else 1000)
  if restored.is_likelihood:
    codes = restored.encode(np.asarray(restored.experiment.x_test[:num]))
    _, labels = restored.test_images(num)
    return codes, labels, 'label', {}
  network = _feature_network(restored)
  real, real_labels = restored.test_images(num)
  fake = restored.samples(num)
  real_features, _ = network.outputs(real)
  fake_features, fake_logits = network.outputs(fake)
  numbers = {}
  if fake_logits is not None:
    predicted = np.asarray(fake_logits).argmax(-1)
    stats = collapse.class_statistics(predicted)
    numbers.update(stats)
    numbers['fraction_of_real_classes_reached'] = stats['classes_covered'] / len(
        np.unique(real_labels))
  features = np.concatenate([real_features, fake_features])
  source = np.array([0] * len(real_features) + [1] * len(fake_features))
  return features, source, 'source (0 real, 1 generated)', numbers


def _scatter(restored, embedding, colours, legend, title, numbers):
  fig, ax = plt.subplots(figsize=(6.4, 6))
  if legend == 'label':
    sc = ax.scatter(embedding[:, 0], embedding[:, 1], c=colours, cmap='tab10', s=3)
    ax.legend(*sc.legend_elements(), fontsize=7, title=legend)
  else:
    n = len(colours) // 2
    ax.scatter(embedding[:n, 0], embedding[:n, 1], s=3, c='C0', label='real test images')
    ax.scatter(embedding[n:, 0], embedding[n:, 1], s=3, c='C3', label='generated', alpha=0.6)
    ax.legend(fontsize=8)
  detail = ', '.join(f'{k} {v:.3g}' if isinstance(v, float) else f'{k} {v}'
                     for k, v in numbers.items() if not isinstance(v, list))
  detail = textwrap.fill(detail, 95)  # the figure's width at fontsize 8
  ax.set_title(f'{restored.run.name} (step {restored.step}): {title}\n{detail}', fontsize=8)
  fig.tight_layout()
  return fig


def tsne(restored, num=None, perplexity=30.0, seed=0):
  features, colours, legend, numbers = _embedding_data(restored, num)
  embedding = embed.tsne(features, perplexity, seed)
  numbers.update(perplexity=perplexity, tsne_seed=seed, num_points=int(len(features)))
  if legend == 'label':
    numbers['knn10_accuracy'] = embed.knn_accuracy(embedding, colours)
  else:  # how separable real and generated are in the embedding: 0.5 = indistinguishable
    numbers['knn10_real_vs_generated'] = embed.knn_accuracy(embedding, colours)
  return _scatter(restored, embedding, colours, legend, 't-SNE', numbers), numbers


def pca(restored, num=None):
  features, colours, legend, numbers = _embedding_data(restored, num)
  embedding, ratio = embed.pca(features)
  numbers['explained_variance_ratio'] = [float(r) for r in ratio]
  numbers['num_points'] = int(len(features))
  if legend == 'label':
    numbers['knn10_accuracy'] = embed.knn_accuracy(embedding, colours)
  title = f'PCA (explained variance {ratio[0]:.1%} + {ratio[1]:.1%})'
  return _scatter(restored, embedding, colours, legend, title, numbers), numbers


def neighbors(restored, num_queries=8, k=5, num_train=10000, num_samples=1000):
  """Generated samples (left column) and their k nearest training images in feature space, plus
  the memorization statistic: the median distance from a sample to its nearest training image
  over the median distance from a real test image to its nearest training image (about 1 or
  more: samples are no closer to the training set than new real data; well below 1: copies)."""
  from genjax.data import load_split
  config = restored.config
  images, _ = load_split(config.data.name, 'train', config.data.source_dir,
                         config.data.tfds_data_dir)
  train = images[:num_train].astype(np.float32) / 255.0
  network = _feature_network(restored)
  train_features, _ = network.outputs(train)
  samples = restored.samples(num_samples, index=3)
  sample_features, _ = network.outputs(samples)
  test, _ = restored.test_images(num_samples)
  test_features, _ = network.outputs(test)
  sample_dist, sample_idx = embed.nearest_neighbors(sample_features, train_features, k)
  test_dist, _ = embed.nearest_neighbors(test_features, train_features, 1)
  ratio = float(np.median(sample_dist[:, 0]) / np.median(test_dist[:, 0]))
  rows = [np.concatenate([samples[i:i + 1], train[sample_idx[i]]]) for i in range(num_queries)]
  fig, ax = plt.subplots(figsize=((k + 1) * 0.8, num_queries * 0.8 + 0.8))
  _image_grid(ax, np.concatenate(rows), k + 1)
  ax.set_title(_fit(f'{restored.run.name}: sample | its {k} nearest of {len(train)} training '
                    f'images\nmedian NN distance, samples / test images: {ratio:.2f}', fig, 8),
               fontsize=8)
  fig.tight_layout()
  return fig, {'nn_distance_ratio_samples_over_test': ratio,
               'median_nn_distance_samples': float(np.median(sample_dist[:, 0])),
               'median_nn_distance_test': float(np.median(test_dist[:, 0])),
               'num_train_searched': int(len(train))}


def mode_collapse(runs):
  """The class statistics logged at each evaluation (metrics keys test/class_entropy,
  test/classes_covered, test/max_class_share) of one or more GAN runs."""
  keys = [f'test/{k}' for k in collapse.KEYS]
  fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
  numbers = {}
  for i, run in enumerate(runs):
    if not any(keys[0] in r for r in run.metrics):
      raise ValueError(f'{run.workdir} logged no class statistics (an MNIST GAN trained with '
                       'this version logs them at each evaluation).')
    for ax, key in zip(axes, keys):
      steps, values = run.curve(key)
      ax.plot(steps, values, '-o', ms=3, color=f'C{i % 10}', label=run.name)
      numbers[f'{run.name}:{key}'] = float(values[-1])
  limits = {'test/class_entropy': (0, np.log(10) * 1.05), 'test/classes_covered': (0, 10.5),
            'test/max_class_share': (0, 1.02)}
  for ax, key in zip(axes, keys):
    ax.set_ylim(*limits[key])
    ax.set_title(key, fontsize=9)
    ax.set_xlabel('step')
    ax.grid(alpha=0.3)
  axes[0].axhline(np.log(10), color='0.5', ls='--', lw=0.8)
  axes[0].legend(fontsize=7)
  fig.tight_layout()
  return fig, numbers


# name -> (function, takes several runs, applies(restored) or None)
FIGURES = {
    'curves': curves,
    'eval_curves': eval_curves,
    'progress': progress,
    'interpolation': interpolation,
    'tsne': tsne,
    'pca': pca,
    'manifold': manifold,
    'traversal': traversal,
    'neighbors': neighbors,
    'mode_collapse': mode_collapse,
}
MULTI_RUN = ('curves', 'eval_curves', 'mode_collapse')
CHEAP = ('curves', 'progress', 'interpolation', 'traversal', 'manifold', 'mode_collapse')


def applies(name, restored):
  """Whether figure `name` is defined for this run."""
  if name == 'manifold':
    return restored.is_likelihood and restored.latent_dim() == 2
  if name == 'traversal':
    return restored.is_infogan
  if name in ('neighbors', 'mode_collapse'):
    return not restored.is_likelihood
  return True
