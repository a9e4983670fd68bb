"""Reading what a run saved — config.json, metrics.jsonl, eval.json — for notebooks and tables.

A workdir is read without JAX or the dataset, so results/overview.ipynb (and anyone comparing
runs) needs only this module, numpy and matplotlib.
"""
import csv
import dataclasses
import json
import os

import numpy as np

from genjax.errors import GenjaxError


class ResultsError(GenjaxError):
  """A workdir or results file that cannot be read as genjax wrote it."""


@dataclasses.dataclass(frozen=True)
class Run:
  """One training run as saved on disk: `metrics` holds one dict per logged step, in order;
  `eval` is launch/evaluate.py's eval.json, or None where the run was never evaluated."""
  workdir: str
  config: dict
  metrics: list
  eval: dict | None

  seed: int | None = None  # set on one seed of a workdir trained with train.num_seeds > 1
  workdir_seeds: int = 1  # how many seeds share the workdir (its training time, cost.json)

  @property
  def name(self):
    base = os.path.basename(os.path.normpath(self.workdir))
    return base if self.seed is None else f'{base}/seed_{self.seed}'

  def curve(self, key):
    """(steps, values) of every logged row that has `key`, e.g. 'test/categorical_accuracy'."""
    rows = [r for r in self.metrics if key in r]
    if not rows:
      keys = sorted({k for r in self.metrics for k in r} - {'step'})
      raise ResultsError(f'{self.workdir}: no metric {key!r} in metrics.jsonl; it has {keys}.')
    return (np.array([r['step'] for r in rows]), np.array([r[key] for r in rows], np.float64))

  def train_seconds(self):
    """Training time from the logged steps/s: evaluations and checkpoints are not counted."""
    seconds, last = 0.0, 0
    for r in self.metrics:
      if 'steps_per_sec' in r:
        seconds += (r['step'] - last) / r['steps_per_sec']
        last = r['step']
    return seconds

  def train_minutes(self):
    return round(self.train_seconds() / 60, 1)


def _read_json(path):
  try:
    with open(path) as f:
      return json.load(f)
  except json.JSONDecodeError as e:
    raise ResultsError(f'{path} is not valid JSON ({e}); it was cut short or edited by hand. '
                       'Re-run launch/evaluate.py (eval.json) or restore the file.') from None


def read_metrics(path):
  """metrics.jsonl rows. A last line cut short by a kill is dropped, as training's own logger
  drops it on resume; a malformed line anywhere else is an error naming the line."""
  with open(path) as f:
    lines = f.read().split('\n')
  while lines and not lines[-1].strip():
    lines.pop()
  rows = []
  for number, line in enumerate(lines, start=1):
    try:
      row = json.loads(line)
    except json.JSONDecodeError:
      if number == len(lines):
        break
      row = None
    if not isinstance(row, dict) or 'step' not in row:
      raise ResultsError(f'{path}, line {number}, is not a JSON object with a step: '
                         f'{line[:80]!r}. Training writes one object per line; remove the line '
                         'or restore the file.')
    rows.append(row)
  return rows


def evaluation_files(workdir):
  """{folder: [path, ...]} of a run's evaluations over training, oldest step first: WORKDIR/evals
  (launch/evaluate.py with the run's own settings) and each WORKDIR/evals_* (--evals_dir)."""
  found = {}
  for folder in sorted(os.listdir(workdir)):
    path = os.path.join(workdir, folder)
    if (folder == 'evals' or folder.startswith('evals_')) and os.path.isdir(path):
      names = sorted(n for n in os.listdir(path) if n.startswith('step_') and n.endswith('.json'))
      if names:
        found[folder] = [os.path.join(path, n) for n in names]
  return found


def load_run(workdir):
  """The Run saved in `workdir` (a launch/train.py workdir or a committed copy of one)."""
  config_path = os.path.join(workdir, 'config.json')
  if not os.path.isfile(config_path):
    raise ResultsError(f'{workdir} has no config.json, so it is not a genjax workdir '
                       '(launch/train.py writes config.json there when a run starts).')
  metrics_path = os.path.join(workdir, 'metrics.jsonl')
  eval_path = os.path.join(workdir, 'eval.json')
  return Run(workdir=workdir, config=_read_json(config_path),
             metrics=read_metrics(metrics_path) if os.path.isfile(metrics_path) else [],
             eval=_read_json(eval_path) if os.path.isfile(eval_path) else None)


def num_seeds(run):
  """How many seeds the run trained as one program (config train.num_seeds; 1 before it)."""
  return int((run.config.get('train') or {}).get('num_seeds') or 1)


def seed_runs(run):
  """A workdir trained with train.num_seeds = S as S Runs, one per seed, each as a run of that
  seed alone would read: its config (seed, num_seeds 1), its metrics rows (the `seed` field
  dropped) and its row of eval.json. A one-seed run is returned as it is, in a list."""
  if num_seeds(run) == 1:
    return [run]
  first = int(run.config.get('seed', 0))
  evaluation = run.eval or {}
  rows = {r.get('seed'): r for r in evaluation.get('seeds', [])}
  shared = {k: v for k, v in evaluation.items() if k not in ('seeds', 'num_seeds')}
  runs = []
  for seed in range(first, first + num_seeds(run)):
    config = json.loads(json.dumps(run.config))
    config['seed'] = seed
    config['train']['num_seeds'] = 1
    metrics = [{k: v for k, v in r.items() if k != 'seed'} for r in run.metrics
               if r.get('seed') == seed]
    own = rows.get(seed)
    runs.append(Run(workdir=run.workdir, config=config, metrics=metrics,
                    eval=None if own is None else {**shared, **own}, seed=seed,
                    workdir_seeds=num_seeds(run)))
  return runs


def find_runs(root):
  """Every workdir under `root` (a directory holding config.json), sorted by path; a workdir of
  S seeds trained together (train.num_seeds) counts as S runs (seed_runs)."""
  if not os.path.isdir(root):
    raise ResultsError(f'{root} is not a directory.')
  return [one for d, _, files in sorted(os.walk(root)) if 'config.json' in files
          for one in seed_runs(load_run(d))]


def read_table(path):
  """A results CSV as a list of dicts, numbers as floats where the whole column is numeric."""
  with open(path, newline='') as f:
    rows = list(csv.DictReader(f))

  def number(text):
    try:
      return float(text)
    except ValueError:
      return None

  for column in (rows[0] if rows else {}):
    values = [number(r[column]) for r in rows]
    if all(v is not None for v in values):
      for r, v in zip(rows, values):
        r[column] = v
  return rows
