"""Sweeps: a family of runs written down as data, expanded into one workdir per run.

A sweep file (configs/sweeps/NAME.py) defines `get_sweep()` returning a `Sweep`: a base config,
the overrides every run shares, a list of settings (each a dict of overrides, built with `product`
and `zip_settings`, concatenated with +) and the seeds. A setting's 'config' entry, when present,
names another config file for that setting's runs (a comparison of methods trains each from its
own config); it is not an override and not a column. Each (setting, seed) is one run, trained
and then scored by `launch/train.py --evaluate` (launch/evaluate.py's job, in the same process) in
ROOT/<setting>,seed=<seed>; a trained run without a current eval.json gets launch/evaluate.py. The
workdir's own resume makes a sweep restartable: finished runs are skipped, unfinished ones resume
from their last checkpoint, and a current eval.json is not recomputed.

This module needs neither JAX nor the data: it plans and launches processes.
"""
import concurrent.futures
import dataclasses
import importlib.util
import itertools
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time

from genjax.errors import ConfigError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# One XLA thread per run, so that --parallel=N runs share N cores without oversubscribing them.
SINGLE_THREAD_XLA = '--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1'


def product(axes):
  """{key: [values]} -> every combination, as a list of override dicts (keys in the given order)."""
  keys = list(axes)
  return [dict(zip(keys, values)) for values in itertools.product(*(axes[k] for k in keys))]


def zip_settings(axes):
  """{key: [values]} with equal-length lists -> the i-th values of every key together."""
  lengths = {len(v) for v in axes.values()}
  if len(lengths) != 1:
    raise ConfigError(f'zip_settings needs lists of one length; got {dict(zip(axes, lengths))}.')
  return [dict(zip(axes, values)) for values in zip(*axes.values())]


@dataclasses.dataclass(frozen=True)
class Sweep:
  """A family of runs. `config` is a config file (optionally with :variant), relative to the
  repository; `fixed` and each entry of `settings` are {dotted config key: value}."""
  config: str
  settings: list
  seeds: tuple = (0, 1, 2)
  fixed: dict = dataclasses.field(default_factory=dict)
  columns: dict = dataclasses.field(default_factory=dict)  # dotted key -> report column name
  metrics: tuple = ()  # eval.json keys the report keeps (empty: every number in eval.json)
  curves: tuple = ()  # metrics.jsonl keys the report plots over training, with seed bands
  eval_overrides: dict = dataclasses.field(default_factory=dict)  # launch/evaluate.py --config.eval.*
  # How summary.png draws the metrics: {'x': swept key (numeric), 'hue': swept key(s), 'logx': bool,
  # 'metrics': the columns to draw (default: the first four), 'cost': metrics also drawn against
  # training FLOPs and seconds (cost_quality.png, cost.csv), 'label': the column naming each
  # setting there}; empty: one point per setting.
  plot: dict = dataclasses.field(default_factory=dict)
  # Columns computed per run as the difference of two metrics: {'gap': ('nll', 'train_nll')}.
  differences: dict = dataclasses.field(default_factory=dict)
  # Published numbers shown beside each setting's: {column: [(setting overrides, value), ...]}.
  references: dict = dataclasses.field(default_factory=dict)
  description: str = ''
  # Train a setting's seeds as one program (train.num_seeds = len(seeds), genjax/experiments/
  # seeds.py): one workdir per setting, read back by the report as one run per seed. The seeds
  # must be consecutive (seed, seed + 1, ...), as num_seeds numbers them.
  stack_seeds: bool = False


@dataclasses.dataclass(frozen=True)
class RunSpec:
  name: str
  workdir: str
  setting: dict  # the setting's overrides (its 'config' entry, if any, is in `config`)
  seed: int
  overrides: dict  # fixed, then the setting, then the seed
  config: str = ''  # the setting's own config file; empty: the sweep's

  def train_command(self, config_path, eval_overrides, python='python'):
    """Trains, then evaluates in the same process (launch/train.py --evaluate); no figures
    (launch/plot.py draws them for the runs worth looking at)."""
    config_path = self.config or config_path
    args = [python, 'launch/train.py', f'--config={config_path}', f'--workdir={self.workdir}']
    args += [f'--config.{k}={_flag_value(v)}' for k, v in self.overrides.items()]
    args += [f'--config.eval.{k}={_flag_value(v)}' for k, v in eval_overrides.items()]
    return args + ['--evaluate', '--nofigures']

  def eval_command(self, eval_overrides, python='python'):
    args = [python, 'launch/evaluate.py', f'--workdir={self.workdir}']
    args += [f'--config.eval.{k}={_flag_value(v)}' for k, v in eval_overrides.items()]
    return args


def _flag_value(value):
  if isinstance(value, bool):
    return 'true' if value else 'false'
  if isinstance(value, (list, tuple)):
    return ','.join(str(v) for v in value)
  return str(value)


def load_sweep(path):
  """The Sweep that `path` (a configs/sweeps/*.py file) defines, checked."""
  if not os.path.isfile(path):
    raise ConfigError(f'sweep file {path!r} does not exist; sweeps live in configs/sweeps/.')
  spec = importlib.util.spec_from_file_location(f'_genjax_sweep_{abs(hash(path))}', path)
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
  except Exception as e:  # noqa: BLE001 -- the user's file: say where and what, in one line
    raise ConfigError(f'sweep file {path} could not be loaded: {type(e).__name__}: {e}') from None
  if not hasattr(module, 'get_sweep'):
    raise ConfigError(f'sweep file {path} defines no get_sweep() returning a genjax.sweeps.Sweep.')
  try:
    sweep = module.get_sweep()
  except Exception as e:  # noqa: BLE001 -- as above
    raise ConfigError(f'{path}: get_sweep() failed: {type(e).__name__}: {e}') from None
  if not isinstance(sweep, Sweep):
    raise ConfigError(f'{path}: get_sweep() returned {type(sweep).__name__}, not a Sweep.')
  if not sweep.settings or not sweep.seeds:
    raise ConfigError(f'{path}: a sweep needs at least one setting and one seed.')
  if len(set(sweep.seeds)) != len(sweep.seeds):
    raise ConfigError(f'{path}: seeds {sweep.seeds} repeat a seed.')
  keys = [json.dumps(_overrides_of(s), sort_keys=True) for s in sweep.settings]
  if len(set(keys)) != len(keys):
    raise ConfigError(f'{path}: two settings are the same (the same overrides); each run must '
                      'differ (two config files need an override that tells them apart, e.g. '
                      'method.name).')
  for setting in sweep.settings:
    if 'seed' in setting or 'seed' in sweep.fixed:
      raise ConfigError(f'{path}: seeds are set by Sweep.seeds, not by an override.')
    if 'train.num_seeds' in setting or 'train.num_seeds' in sweep.fixed:
      raise ConfigError(f'{path}: train.num_seeds is set by Sweep.stack_seeds, not by an '
                        'override.')
  if sweep.stack_seeds and list(sweep.seeds) != list(range(sweep.seeds[0],
                                                          sweep.seeds[0] + len(sweep.seeds))):
    raise ConfigError(f'{path}: stack_seeds trains seeds s, s + 1, ... as one run; seeds '
                      f'{tuple(sweep.seeds)} are not consecutive.')
  return sweep


def sweep_name(path):
  return os.path.splitext(os.path.basename(path))[0]


def _overrides_of(setting):
  return {k: v for k, v in setting.items() if k != 'config'}


def _short_names(settings):
  """The last part of each swept key, or the whole dotted key where two last parts collide."""
  keys = list(dict.fromkeys(k for s in settings for k in s))
  last = [k.rsplit('.', 1)[-1] for k in keys]
  return {k: (short if last.count(short) == 1 else k) for k, short in zip(keys, last)}


def expand(sweep, root):
  """One RunSpec per (setting, seed), named by its overrides: ROOT/k=50,name=iwae,seed=0; with
  stack_seeds, one per setting: ROOT/k=50,name=iwae,seeds=0-2."""
  short = _short_names([_overrides_of(s) for s in sweep.settings])
  runs = []
  for full_setting in sweep.settings:
    setting = _overrides_of(full_setting)
    label = ','.join(f'{short[k]}={_flag_value(v)}' for k, v in setting.items())
    if sweep.stack_seeds:  # one run of all the seeds
      first, count = sweep.seeds[0], len(sweep.seeds)
      seeds = f'seeds={first}-{first + count - 1}'
      name = f'{label},{seeds}' if label else seeds
      overrides = {**sweep.fixed, **setting, 'seed': first, 'train.num_seeds': count}
      runs.append(RunSpec(name=name, workdir=os.path.join(root, name), setting=setting,
                          seed=first, overrides=overrides, config=full_setting.get('config', '')))
      continue
    for seed in sweep.seeds:
      name = f'{label},seed={seed}' if label else f'seed={seed}'
      overrides = {**sweep.fixed, **setting, 'seed': seed}
      runs.append(RunSpec(name=name, workdir=os.path.join(root, name), setting=setting,
                          seed=seed, overrides=overrides, config=full_setting.get('config', '')))
  return runs


def start_order(runs):
  """The order runs start in: seed by seed, settings in their file's order within a seed, so
  that a sweep stopped partway (a session ends, a lent machine goes back) holds every setting at
  its first seeds rather than some settings at all seeds and others at none."""
  position = {r.name: i for i, r in enumerate(runs)}
  return sorted(runs, key=lambda r: (r.seed, position[r.name]))


def build_config(sweep, overrides, config_path=''):
  """The run's ConfigDict, built as launch/train.py builds it (config file, then overrides), so
  that a misspelt key or a wrong type stops the sweep before any run starts."""
  config_path = config_path or sweep.config
  path, _, variant = config_path.partition(':')
  full = path if os.path.isabs(path) else os.path.join(REPO, path)
  if not os.path.isfile(full):
    raise ConfigError(f'the sweep\'s base config {path!r} does not exist.')
  spec = importlib.util.spec_from_file_location(f'_genjax_cfg_{abs(hash(full))}', full)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config(variant) if variant else module.get_config()
  for key, value in overrides.items():
    parent, _, field = key.rpartition('.')
    node = config
    for part in parent.split('.') if parent else []:
      if part not in node:
        raise ConfigError(f'override {key}={value!r}: {config_path} has no field {key}.')
      node = node[part]
    if field not in node:
      raise ConfigError(f'override {key}={value!r}: {config_path} has no field {key}.')
    try:
      node[field] = value
    except TypeError as e:
      raise ConfigError(f'override {key}={value!r}: {e}') from None
  return config


# ---- the state of a run on disk ------------------------------------------------------------

def _checkpoint_steps(workdir):
  """Steps of the finished Orbax checkpoints (unfinished writes carry a tmp suffix)."""
  directory = os.path.join(workdir, 'checkpoints')
  if not os.path.isdir(directory):
    return []
  return sorted(int(d) for d in os.listdir(directory) if d.isdigit())


def _evaluated(workdir, step, eval_overrides):
  """Whether WORKDIR/eval.json scores `step` with the sweep's evaluation settings."""
  try:
    with open(os.path.join(workdir, 'eval.json')) as f:
      result = json.load(f)
  except (OSError, ValueError):
    return False
  settings = result.get('eval_config') or {}
  return result.get('step') == step and all(
      settings.get(k) == v for k, v in eval_overrides.items())


def run_state(spec, num_steps, eval_overrides):
  """'new', 'partial' (resume), 'trained' (evaluate), 'done', or 'diverged' (training stopped
  at a non-finite loss; rerunning would repeat it, so it counts as a finished result).
  A run evaluated at its last step whose checkpoints are gone (launch/report.py --copy_runs
  keeps the small files only) is 'done': copying such runs into a sweep root on another machine
  lets the sweep go on with the others."""
  if os.path.exists(os.path.join(spec.workdir, 'diverged.json')):
    return 'diverged'
  steps = _checkpoint_steps(spec.workdir)
  if not steps:
    if _evaluated(spec.workdir, num_steps, eval_overrides):
      return 'done'
    return 'new' if not os.path.exists(os.path.join(spec.workdir, 'config.json')) else 'partial'
  if steps[-1] < num_steps:
    return 'partial'
  return 'done' if _evaluated(spec.workdir, steps[-1], eval_overrides) else 'trained'


def describe(sweep_path, sweep, runs, states):
  counts = {s: sum(1 for v in states.values() if v == s)
            for s in ('done', 'diverged', 'trained', 'partial', 'new')}
  return (f'sweep {sweep_name(sweep_path)}: {len(runs)} runs ({len(sweep.settings)} settings x '
          f'{len(sweep.seeds)} seeds): {counts["done"]} done, {counts["diverged"]} diverged, '
          f'{counts["trained"]} to evaluate, {counts["partial"]} to resume, {counts["new"]} to '
          'start')


def write_manifest(sweep_path, sweep, runs, root):
  """ROOT/sweep.json: what the report needs to label runs (swept keys, column names, metrics)."""
  os.makedirs(root, exist_ok=True)
  manifest = {
      'sweep': sweep_name(sweep_path), 'sweep_file': os.path.relpath(sweep_path, REPO)
      if os.path.isabs(sweep_path) else sweep_path,
      'config': sweep.config, 'fixed': sweep.fixed, 'seeds': list(sweep.seeds),
      'swept_keys': list(dict.fromkeys(k for s in sweep.settings for k in _overrides_of(s))),
      'columns': sweep.columns, 'metrics': list(sweep.metrics), 'curves': list(sweep.curves),
      'eval_overrides': sweep.eval_overrides, 'plot': sweep.plot,
      'differences': {k: list(v) for k, v in sweep.differences.items()},
      'references': {k: [[dict(setting), value] for setting, value in v]
                     for k, v in sweep.references.items()},
      'description': sweep.description,
      'runs': [{'name': r.name, 'setting': r.setting, 'seed': r.seed} for r in runs]}
  path = os.path.join(root, 'sweep.json')
  with open(path + '.tmp', 'w') as f:
    json.dump(manifest, f, indent=2)
  os.replace(path + '.tmp', path)


# ---- running ---------------------------------------------------------------------------------

class _Children:
  """The processes running now, so that a Ctrl-C or SIGTERM stops them all."""

  def __init__(self):
    self.lock = threading.Lock()
    self.procs = set()
    self.stopping = False

  def run(self, args, log, env):
    with self.lock:
      if self.stopping:
        return None
      proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO,
                              start_new_session=True)
      self.procs.add(proc)
    try:
      return proc.wait()
    finally:
      with self.lock:
        self.procs.discard(proc)

  def stop(self):
    with self.lock:
      self.stopping = True
      for proc in self.procs:
        try:
          os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
          pass


def _prepare_data(config, python, env):
  """Prepares the dataset once, before parallel runs would each start preparing it."""
  code = ('import sys; from genjax.data import load_split; '
          '[load_split(sys.argv[1], s, sys.argv[2] or None, sys.argv[3] or None) '
          'for s in ("train", "test")]')
  result = subprocess.run([python, '-c', code, config.data.name, config.data.source_dir or '',
                           config.data.tfds_data_dir or ''], cwd=REPO, env=env,
                          capture_output=True, text=True)
  if result.returncode != 0:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    raise ConfigError(f'the data could not be prepared: {lines[-1] if lines else "no output"}')


def _last_error(log_path):
  try:
    with open(log_path, errors='replace') as f:
      lines = [line.strip() for line in f if line.strip()]
  except OSError:
    return 'no log'
  errors = [line for line in lines if line.startswith('error:')]
  return (errors or lines or ['no output'])[-1][:300]


def run_sweep(sweep_path, root, parallel=1, dry_run=False, python=None, out=sys.stdout):
  """Trains and evaluates every run of the sweep not yet done; returns the number that failed."""
  sweep = load_sweep(sweep_path)
  runs = expand(sweep, root)
  configs = {r.name: build_config(sweep, r.overrides, r.config) for r in runs}  # before any work
  python = python or sys.executable
  if dry_run:
    prefix = f'XLA_FLAGS="{SINGLE_THREAD_XLA}" ' if parallel > 1 else ''
    for r in runs:
      print(prefix + shlex.join(r.train_command(sweep.config, sweep.eval_overrides, 'python')),
            file=out)
    return 0

  states = {r.name: run_state(r, configs[r.name].train.num_steps, sweep.eval_overrides)
            for r in runs}
  print(describe(sweep_path, sweep, runs, states), flush=True, file=out)
  write_manifest(sweep_path, sweep, runs, root)
  os.makedirs(os.path.join(root, 'logs'), exist_ok=True)
  env = dict(os.environ)
  # Every run of a sweep compiles the same programs: XLA's persistent cache compiles them once.
  cache = os.environ.get('GENJAX_CACHE_DIR') or os.path.expanduser('~/.cache/genjax')
  env.setdefault('JAX_COMPILATION_CACHE_DIR', os.path.join(cache, 'jax_compilation'))
  env.setdefault('JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS', '0')
  if parallel > 1:
    env['XLA_FLAGS'] = f'{env.get("XLA_FLAGS", "")} {SINGLE_THREAD_XLA}'.strip()
  todo = [r for r in start_order(runs) if states[r.name] not in ('done', 'diverged')]
  if parallel > 1 and any(states[r.name] in ('new', 'partial') for r in todo):
    _prepare_data(configs[todo[0].name], python, env)
  children = _Children()
  lock = threading.Lock()
  finished, failed, started = [0], [], time.monotonic()
  durations = []

  def one(r):
    log_path = os.path.join(root, 'logs', f'{r.name}.log')
    t0 = time.monotonic()
    with open(log_path, 'a') as log:
      if states[r.name] in ('new', 'partial'):
        rc = children.run(r.train_command(sweep.config, sweep.eval_overrides, python), log, env)
        if rc != 0 and os.path.exists(os.path.join(r.workdir, 'diverged.json')):
          return r, 0, t0, log_path, 'diverged'
        state = run_state(r, configs[r.name].train.num_steps, sweep.eval_overrides)
        stage = 'training' if state in ('new', 'partial') else 'evaluation'
        return r, rc, t0, log_path, stage
      rc = children.run(r.eval_command(sweep.eval_overrides, python), log, env)
      return r, rc, t0, log_path, 'evaluation'

  def report(result):
    r, rc, t0, log_path, stage = result
    with lock:
      finished[0] += 1
      seconds = time.monotonic() - t0
      left = len(todo) - finished[0]
      if rc == 0:
        durations.append(seconds)
        mean = sum(durations) / len(durations)
        eta = mean * left / max(1, min(parallel, left)) if left else 0
        what = 'diverged (kept as a result) after' if stage == 'diverged' else 'done in'
        print(f'[{len(runs) - len(todo) + finished[0]}/{len(runs)}] {r.name}: {what} '
              f'{seconds:.0f} s; {left} left, ETA {_duration(eta)}', flush=True, file=out)
      elif rc is not None:
        failed.append(r.name)
        print(f'[{len(runs) - len(todo) + finished[0]}/{len(runs)}] {r.name}: {stage} failed '
              f'(exit {rc}): {_last_error(log_path)} (log: {log_path})', flush=True, file=out)

  def on_signal(signum, frame):
    del frame
    children.stop()
    raise KeyboardInterrupt(signum)

  previous = signal.signal(signal.SIGTERM, on_signal)
  try:
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
      futures = [pool.submit(one, r) for r in todo]
      try:
        for future in concurrent.futures.as_completed(futures):
          report(future.result())
      except KeyboardInterrupt:
        children.stop()
        for f in futures:
          f.cancel()
        raise
  except KeyboardInterrupt:
    left = len(todo) - finished[0]
    print(f'stopped after {_duration(time.monotonic() - started)}: {left} run(s) not finished; '
          'rerun the same command to resume them.', flush=True, file=out)
    raise
  finally:
    signal.signal(signal.SIGTERM, previous)
  if failed:
    print(f'{len(failed)} run(s) failed: {", ".join(failed)}; their logs are in {root}/logs. '
          'Rerun the same command after fixing the cause: finished runs are skipped.', file=out)
  else:
    print(f'sweep {sweep_name(sweep_path)}: all {len(runs)} runs done in {root} '
          f'({_duration(time.monotonic() - started)}).', file=out)
  return len(failed)


def _duration(seconds):
  seconds = int(round(seconds))
  if seconds < 120:
    return f'{seconds} s'
  if seconds < 7200:
    return f'{seconds / 60:.0f} min'
  return f'{seconds / 3600:.1f} h'
