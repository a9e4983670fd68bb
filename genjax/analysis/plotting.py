"""What launch/plot.py does: restore, draw the asked-for figures, save them with their numbers."""
import json
import os

from absl import logging

from genjax import results
from genjax.analysis import figures, restore
from genjax.errors import ConfigError


def save(fig, numbers, out, name, fmt='png'):
  """OUT/name.fmt and OUT/name.json; returns the image's path."""
  import matplotlib.pyplot as plt
  os.makedirs(out, exist_ok=True)
  path = os.path.join(out, f'{name}.{fmt}')
  fig.savefig(path, dpi=110)
  plt.close(fig)
  with open(os.path.join(out, f'{name}.json'), 'w') as f:
    json.dump(numbers, f, indent=2, default=float)
  return path


def plot(workdirs, names, out=None, step=None, fmt='png', source_dir=None):
  """Draws figures `names` (or every one that applies, for 'all') of the runs; returns paths."""
  unknown = sorted(set(names) - set(figures.FIGURES) - {'all'})
  if unknown:
    raise ConfigError(f'unknown figure(s) {unknown}; choose from {sorted(figures.FIGURES)} or all.')
  runs = [results.load_run(w) for w in workdirs]
  out = out or os.path.join(workdirs[0], 'figures')
  restored = None
  if any(n not in figures.MULTI_RUN for n in names) or 'all' in names or 'mode_collapse' in names:
    restored = restore.restore(workdirs[0], step, source_dir)
  # 'all': the figures of the run itself; eval_curves (the saved evaluations) only by name.
  wanted = [n for n in figures.FIGURES if n != 'eval_curves'] if 'all' in names else names
  written = []
  for name in wanted:
    if restored is not None and not figures.applies(name, restored):
      if 'all' in names:
        continue
      raise ConfigError(f'figure {name!r} does not apply to {workdirs[0]} '
                        f'({restored.config.method.name}).')
    if name == 'mode_collapse' and not any('test/classes_covered' in r for run in runs
                                           for r in run.metrics):
      if 'all' in names:
        logging.warning('mode_collapse skipped: the run logged no class statistics.')
        continue
    logging.info('drawing %s', name)
    function = figures.FIGURES[name]
    try:
      fig, numbers = function(runs) if name in figures.MULTI_RUN else function(restored)
    except ValueError as e:
      raise ConfigError(f'figure {name}: {e}') from None
    written.append(save(fig, numbers, out, name, fmt))
  return written


def end_of_training_figures(workdir):
  """The cheap figures that apply to a finished run, into WORKDIR/figures (a run of several
  seeds, train.num_seeds: each seed's into WORKDIR/seed_S/figures). A figure that cannot be drawn
  is a warning, never a failed training."""
  from genjax.errors import GenjaxError
  try:
    held = restore.seeds_of(workdir)
    for seed in held:
      restored = restore.restore(workdir, seed=seed)
      names = [n for n in figures.CHEAP if figures.applies(n, restored)]
      run = restored.run
      if not any('test/classes_covered' in r for r in run.metrics):
        names = [n for n in names if n != 'mode_collapse']
      out = os.path.join(workdir, *([f'seed_{seed}'] if len(held) > 1 else []), 'figures')
      for name in names:
        function = figures.FIGURES[name]
        fig, numbers = function([run]) if name in figures.MULTI_RUN else function(restored)
        save(fig, numbers, out, name)
      logging.info('Figures %s in %s (launch/plot.py --workdir=%s --figure=all draws the rest).',
                   ', '.join(names), out, workdir)
  except (GenjaxError, ValueError, OSError) as e:
    logging.warning('The end-of-training figures were not drawn: %s', e)
