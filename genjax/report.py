"""A sweep's runs as tables and figures: every number a study README shows is written here.

`write_report(root, out)` reads each workdir under `root` through genjax.results and writes
  results.csv   one row per run: the swept settings, seed, eval.json's metrics, the last logged
                value of each curve, train seconds and hardware
  summary.csv   one row per setting: n_seeds, and for each metric its mean, std (ddof=1) and the
                95% bootstrap interval of the mean over seeds
  table.md      the summary as the Markdown table a README embeds
  summary.png   each metric per setting: seeds as dots, mean with its interval
  curves.png    the sweep's curves over training: mean over seeds, band from min to max
README.md in `out`, when it holds the markers `<!-- report:table -->` and `<!-- /report:table -->`,
gets table.md put between them, so a README's table is always the file's.
"""
import csv
import json
import math
import os

import numpy as np

from genjax import results
from genjax.configs_check import flat_dict
from genjax.errors import GenjaxError

BEGIN, END = '<!-- report:table -->', '<!-- /report:table -->'
BOOTSTRAP_RESAMPLES = 10_000
# eval.json entries that describe the evaluation rather than measure the model.
_BOOKKEEPING = {'step', 'k', 'stochastic_layers', 'elbo_num_samples', 'iwae_bound_num_samples',
                'nll_num_samples', 'num_test_examples', 'test_binarization_seed', 'nll_seconds',
                'num_train_examples'}


class ReportError(GenjaxError):
  """A sweep root that cannot be reported."""


def _is_number(v):
  return isinstance(v, (int, float)) and not isinstance(v, bool)


def _manifest(root):
  path = os.path.join(root, 'sweep.json')
  if not os.path.isfile(path):
    return None
  with open(path) as f:
    return json.load(f)


def hardware_label(run):
  """'cpu: <processor> (N cores), 1 XLA thread' or 'gpu: NVIDIA H200 x1', from hardware.json."""
  path = os.path.join(run.workdir, 'hardware.json')
  if not os.path.isfile(path):
    return 'unknown'
  with open(path) as f:
    entries = json.load(f)
  labels = [machine_label(h) for h in (entries if isinstance(entries, list) else [entries])]
  return ' + '.join(dict.fromkeys(labels))


def machine_label(h):
  """One genjax.train.hardware() dict as the report's hardware column names it."""
  if h.get('platform') == 'cpu':
    threads = '1 XLA thread' if h.get('single_thread_xla') else 'all cores'
    return f'cpu: {h.get("cpu_model", "?")} ({h.get("cpu_count", "?")} cores), {threads}'
  return f'{h.get("platform")}: {h.get("device_kind")} x{h.get("device_count")}'


def collect(root):
  """(rows, setting columns, metric columns): one row per run under root."""
  runs = results.find_runs(root)
  if not runs:
    raise ReportError(f'{root} holds no runs (no directory with a config.json under it). Run '
                      'launch/sweep.py --root=... first.')
  manifest = _manifest(root) or {}
  configs = [flat_dict(r.config) for r in runs]
  swept = manifest.get('swept_keys')
  if not swept:  # without a manifest: the keys whose values differ between runs
    ignored = {'seed', 'data.source_dir', 'data.tfds_data_dir', 'train.num_steps'}
    keys = sorted({k for c in configs for k in c} - ignored)
    swept = [k for k in keys if len({json.dumps(c.get(k)) for c in configs}) > 1
             and not k.startswith('eval.')]
  names = manifest.get('columns') or {}
  setting_columns = [names.get(k, k) for k in swept]
  wanted = manifest.get('metrics') or []
  curves = manifest.get('curves') or []
  rows = []
  for run, config in zip(runs, configs):
    row = {names.get(k, k): config.get(k) for k in swept}
    row['seed'] = config.get('seed')
    evaluation = run.eval or {}
    keys = wanted or [k for k, v in evaluation.items() if _is_number(v) and k not in _BOOKKEEPING]
    for k in keys:
      row[k] = evaluation.get(k)
    for name, (a, b) in (manifest.get('differences') or {}).items():
      row[name] = (row[a] - row[b]) if _is_number(row.get(a)) and _is_number(row.get(b)) else None
    diverged = os.path.exists(os.path.join(run.workdir, 'diverged.json'))
    for key in curves:  # a diverged run's last logged value is not a result: left empty
      try:
        row[f'final_{key}'] = None if diverged else float(run.curve(key)[1][-1])
      except results.ResultsError:
        row[f'final_{key}'] = None
    planned = config.get('train.num_steps')
    early = run.eval and planned and (evaluation.get('step') or planned) < planned
    row['status'] = ('diverged' if diverged else 'not evaluated' if not run.eval
                     else 'evaluated before its last step' if early else 'evaluated')
    row['step'] = evaluation.get('step')
    # One seed of S trained together (train.num_seeds): its share of the program's time and cost.
    share = 1 if run.workdir_seeds == 1 else 1 / run.workdir_seeds
    row['train_seconds'] = round(run.train_seconds() * share, 1)
    cost_path = os.path.join(run.workdir, 'cost.json')
    if os.path.exists(cost_path):  # written by training since the comparison of methods
      with open(cost_path) as f:
        flops = json.load(f).get('flops_per_step')
      row['flops_per_step'] = flops if flops is None or share == 1 else flops * share
      steps = run.metrics[-1]['step'] if run.metrics else 0
      row['seconds_per_step'] = round(row['train_seconds'] / steps, 4) if steps else None
    row['hardware'] = hardware_label(run)
    row['run'] = run.name
    rows.append(row)
  metric_columns = list(dict.fromkeys(
      k for row in rows for k, v in row.items()
      if k not in setting_columns and k not in ('seed', 'step', 'status', 'hardware', 'run')
      and (v is None or _is_number(v))))
  order = {json.dumps(r['setting'], sort_keys=True): i
           for i, r in enumerate(manifest.get('runs', []))}

  def sort_key(row):
    setting = {k: row[names.get(k, k)] for k in swept}
    return (order.get(json.dumps(setting, sort_keys=True), len(order)), json.dumps(
        [row[c] for c in setting_columns]), row['seed'] if row['seed'] is not None else -1)

  rows.sort(key=sort_key)
  return rows, setting_columns, metric_columns


def bootstrap_interval(values, resamples=BOOTSTRAP_RESAMPLES, level=0.95, seed=0):
  """Percentile interval of the mean of `values` over resamples with replacement."""
  values = np.asarray(values, np.float64)
  if len(values) == 1:
    return float(values[0]), float(values[0])
  rng = np.random.default_rng(seed)
  means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
  return (float(np.quantile(means, (1 - level) / 2)), float(np.quantile(means, (1 + level) / 2)))


def summarize(rows, setting_columns, metric_columns):
  """One dict per setting, in the rows' order: settings, n_seeds, METRIC_{mean,std,ci_low,ci_high}."""
  groups = {}
  for row in rows:
    groups.setdefault(json.dumps([row[c] for c in setting_columns]), []).append(row)
  summary = []
  for members in groups.values():
    out = {c: members[0][c] for c in setting_columns}
    out['n_seeds'] = len(members)
    out['n_diverged'] = sum(r['status'] == 'diverged' for r in members)
    for m in metric_columns:
      values = [r[m] for r in members if _is_number(r.get(m)) and math.isfinite(r[m])]
      if not values:
        out.update({f'{m}_mean': None, f'{m}_std': None, f'{m}_ci_low': None,
                    f'{m}_ci_high': None})
        continue
      low, high = bootstrap_interval(values)
      out[f'{m}_mean'] = float(np.mean(values))
      out[f'{m}_std'] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
      out[f'{m}_ci_low'], out[f'{m}_ci_high'] = low, high
    summary.append(out)
  return summary


def _write_csv(path, rows, columns):
  with open(path + '.tmp', 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=columns, lineterminator='\n')
    writer.writeheader()
    for row in rows:
      writer.writerow({c: _format(row.get(c)) for c in columns})
  os.replace(path + '.tmp', path)


def _format(v):
  if v is None:
    return ''
  if isinstance(v, float):
    return f'{v:.8g}'
  return v


def _cell(mean, std, digits):
  if mean is None:
    return '–'
  return f'{mean:.{digits}f} ± {std:.{digits}f}'


def markdown_table(summary, setting_columns, metric_columns, references=()):
  """Settings, then each metric as mean ± std over seeds, published numbers, then n_seeds."""
  shown = [m for m in metric_columns if m != 'train_seconds'] + ['train_seconds']
  header = setting_columns + shown + list(references) + ['seeds (diverged)']
  lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
  for s in summary:
    cells = [str(s[c]) for c in setting_columns]
    for m in shown:
      mean = s.get(f'{m}_mean')
      digits = 0 if m == 'train_seconds' or (mean is not None and abs(mean) >= 1000) else 2
      cells.append(_cell(mean, s.get(f'{m}_std'), digits))
    cells += ['–' if s.get(r) is None else f'{s[r]:g}' for r in references]
    cells.append(f"{s['n_seeds']} ({s['n_diverged']})" if s['n_diverged'] else str(s['n_seeds']))
    lines.append('| ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines) + '\n'


def _label(summary_row, setting_columns):
  return ', '.join(f'{c}={summary_row[c]}' for c in setting_columns)


def plot_summary(path, rows, summary, setting_columns, metric_columns, spec=None):
  import matplotlib.pyplot as plt
  metrics = [m for m in metric_columns if m != 'train_seconds'][:4] or metric_columns[:1]
  if spec and spec.get('metrics'):
    metrics = [m for m in spec['metrics'] if m in metric_columns]
  if spec and spec.get('x') in setting_columns:
    return _plot_against_x(plt, path, rows, summary, setting_columns, metrics, spec)
  labels = [_label(s, setting_columns) for s in summary]
  fig, axes = plt.subplots(len(metrics), 1, figsize=(max(6, 0.55 * len(summary) + 2),
                                                     2.6 * len(metrics)), squeeze=False)
  for ax, m in zip(axes[:, 0], metrics):
    for i, s in enumerate(summary):
      key = [s[c] for c in setting_columns]
      values = [r[m] for r in rows if [r[c] for c in setting_columns] == key
                and _is_number(r.get(m))]
      ax.plot([i] * len(values), values, 'o', color='0.6', ms=4, zorder=1)
      if s.get(f'{m}_mean') is not None:
        ax.errorbar([i], [s[f'{m}_mean']], yerr=[[s[f'{m}_mean'] - s[f'{m}_ci_low']],
                                                 [s[f'{m}_ci_high'] - s[f'{m}_mean']]],
                    fmt='s', color='C0', capsize=4, zorder=2)
    ax.set_ylabel(m)
    ax.set_xticks(range(len(summary)))
    ax.set_xticklabels(labels if ax is axes[-1, 0] else [], rotation=45, ha='right', fontsize=8)
    ax.grid(alpha=0.3)
  axes[0, 0].set_title('each seed (grey), mean and 95% bootstrap interval over seeds (blue)',
                       fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def _plot_against_x(plt, path, rows, summary, setting_columns, metrics, spec):
  """Each metric against a numeric swept column, one line per value of `hue`: seeds as dots,
  the mean with its 95% bootstrap interval as a band."""
  x = spec['x']
  hue = spec.get('hue') or []
  hue = [hue] if isinstance(hue, str) else list(hue)
  groups = {}
  for s in summary:
    groups.setdefault(', '.join(f'{h}={s[h]}' for h in hue), []).append(s)
  fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.8), squeeze=False)
  for ax, m in zip(axes[0], metrics):
    for i, (label, members) in enumerate(groups.items()):
      members = sorted(members, key=lambda s: s[x])
      color = f'C{i % 10}'
      for s in members:
        seeds = [r[m] for r in rows if all(r[c] == s[c] for c in setting_columns)
                 and _is_number(r.get(m))]
        ax.plot([s[x]] * len(seeds), seeds, '.', color=color, alpha=0.5)
      done = [s for s in members if s.get(f'{m}_mean') is not None]
      xs = [s[x] for s in done]
      ax.plot(xs, [s[f'{m}_mean'] for s in done], '-o', color=color, ms=4,
              label=label or None)
      ax.fill_between(xs, [s[f'{m}_ci_low'] for s in done], [s[f'{m}_ci_high'] for s in done],
                      color=color, alpha=0.15)
    if spec.get('logx'):
      ax.set_xscale('log')
      ax.minorticks_off()
    ticks = sorted({s[x] for s in summary})
    ax.set_xticks(ticks)
    ax.set_xticklabels([f'{t:g}' for t in ticks], fontsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(m)
    ax.grid(alpha=0.3)
    if hue:
      ax.legend(fontsize=7)
  fig.suptitle('dots: seeds; line: mean over seeds; band: 95% bootstrap interval of the mean',
               fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def cost_rows(rows, setting_columns):
  """Per run: its setting, seed, training compute (XLA's FLOPs per step x the steps it trained)
  and train_seconds: the x axes of the quality-against-cost figure."""
  out = []
  for r in rows:
    flops, steps = r.get('flops_per_step'), r.get('step')
    out.append({**{c: r[c] for c in setting_columns}, 'seed': r['seed'],
                'train_flops': flops * steps if _is_number(flops) and _is_number(steps) else None,
                'train_seconds': r.get('train_seconds')})
  return out


def plot_cost_quality(path, rows, summary, setting_columns, metrics, label_column):
  """Each metric against training compute (FLOPs) and wall-clock seconds, one point per run
  (log x), the mean over seeds of each setting as a labelled cross with ±1 std in y."""
  import matplotlib.pyplot as plt
  costs = cost_rows(rows, setting_columns)
  fig, axes = plt.subplots(len(metrics), 2, figsize=(11, 3.9 * len(metrics)), squeeze=False)
  for row_axes, m in zip(axes, metrics):
    for ax, x in zip(row_axes, ('train_flops', 'train_seconds')):
      for i, s in enumerate(summary):
        members = [(c[x], r[m]) for c, r in zip(costs, rows)
                   if all(r[k] == s[k] for k in setting_columns)
                   and _is_number(c[x]) and _is_number(r.get(m))]
        if not members:
          continue
        xs, ys = np.array(members, np.float64).T
        color = f'C{i % 10}'
        ax.plot(xs, ys, '.', color=color, alpha=0.5)
        ax.errorbar([xs.mean()], [ys.mean()], yerr=[ys.std(ddof=1) if len(ys) > 1 else 0.0],
                    fmt='x', color=color, capsize=3, ms=8)
        ax.annotate(str(s[label_column]), (xs.mean(), ys.mean()), textcoords='offset points',
                    xytext=(5, 4), fontsize=8, color=color)
      ax.set_xscale('log')
      ax.set_xlabel({'train_flops': 'training compute (FLOPs: per step x steps)',
                     'train_seconds': 'training wall-clock (s)'}[x])
      ax.set_ylabel(m)
      ax.grid(alpha=0.3, which='both')
  fig.suptitle('quality against cost: dots are runs, crosses the mean over seeds (±1 std)',
               fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def copy_runs(root, dest):
  """The small files of each run under root (config, metrics, eval, hardware, divergence, the
  evaluations over training in evals*/; no checkpoints) and the sweep manifest, into dest: what a
  committed report is regenerated from."""
  import shutil
  kept = ('config.json', 'metrics.jsonl', 'eval.json', 'hardware.json', 'diverged.json',
          'cost.json')
  os.makedirs(dest, exist_ok=True)
  if os.path.isfile(os.path.join(root, 'sweep.json')):
    shutil.copy2(os.path.join(root, 'sweep.json'), os.path.join(dest, 'sweep.json'))
  for run in results.find_runs(root):
    target = os.path.join(dest, os.path.relpath(run.workdir, root))
    os.makedirs(target, exist_ok=True)
    for name in kept:
      if os.path.isfile(os.path.join(run.workdir, name)):
        shutil.copy2(os.path.join(run.workdir, name), os.path.join(target, name))
    # The evaluations over training (the eval_curves figure).
    for folder, paths in results.evaluation_files(run.workdir).items():
      os.makedirs(os.path.join(target, folder), exist_ok=True)
      for path in paths:
        shutil.copy2(path, os.path.join(target, folder, os.path.basename(path)))


def plot_curves(path, root, curves, rows, setting_columns):
  import matplotlib.pyplot as plt
  groups = {}
  for row in rows:
    if row['status'] != 'diverged':  # its curve stops early; the table counts it
      groups.setdefault(tuple(row[c] for c in setting_columns), []).append(row['run'])
  fig, axes = plt.subplots(1, len(curves), figsize=(6.5 * len(curves), 4.2), squeeze=False)
  for ax, key in zip(axes[0], curves):
    for i, (setting, names) in enumerate(groups.items()):
      series = []
      for name in names:
        try:
          series.append(results.load_run(os.path.join(root, name)).curve(key))
        except results.ResultsError:
          pass
      if not series:
        continue
      steps = sorted(set.intersection(*(set(s.tolist()) for s, _ in series)))
      values = np.array([[dict(zip(s.tolist(), v.tolist()))[t] for t in steps]
                         for s, v in series])
      color = f'C{i % 10}'
      label = ', '.join(f'{c}={v}' for c, v in zip(setting_columns, setting))
      ax.plot(steps, values.mean(axis=0), color=color, label=f'{label} (n={len(series)})')
      if len(series) > 1:
        ax.fill_between(steps, values.min(axis=0), values.max(axis=0), color=color, alpha=0.2)
    ax.set_xlabel('step')
    ax.set_ylabel(key)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  fig.suptitle('mean over seeds; band: min to max over seeds', fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def update_readme(path, table):
  """Puts `table` between the report markers of the README at `path`; False without markers."""
  if not os.path.isfile(path):
    return False
  with open(path) as f:
    text = f.read()
  if BEGIN not in text or END not in text:
    return False
  head, rest = text.split(BEGIN, 1)
  _, tail = rest.split(END, 1)
  with open(path, 'w') as f:
    f.write(f'{head}{BEGIN}\n{table}{END}{tail}')
  return True


def add_references(summary, manifest):
  """Puts the sweep's published numbers beside the settings they belong to; returns the new
  column names."""
  names = manifest.get('columns') or {}
  columns = []
  for column, entries in (manifest.get('references') or {}).items():
    columns.append(column)
    for s in summary:
      s[column] = next((value for setting, value in entries
                        if all(s.get(names.get(k, k)) == v for k, v in setting.items())), None)
  return columns


def write_report(root, out):
  """Writes the report files for the runs under root into out; returns their paths."""
  rows, setting_columns, metric_columns = collect(root)
  summary = summarize(rows, setting_columns, metric_columns)
  references = add_references(summary, _manifest(root) or {})
  os.makedirs(out, exist_ok=True)
  written = []
  path = os.path.join(out, 'results.csv')
  _write_csv(path, rows, setting_columns + ['seed'] + metric_columns
             + ['status', 'step', 'hardware', 'run'])
  written.append(path)
  path = os.path.join(out, 'summary.csv')
  stats = [f'{m}_{s}' for m in metric_columns for s in ('mean', 'std', 'ci_low', 'ci_high')]
  _write_csv(path, summary, setting_columns + ['n_seeds', 'n_diverged'] + stats + references)
  written.append(path)
  table = markdown_table(summary, setting_columns, metric_columns, references)
  path = os.path.join(out, 'table.md')
  with open(path, 'w') as f:
    f.write(table)
  written.append(path)
  path = os.path.join(out, 'summary.png')
  names = (_manifest(root) or {}).get('columns') or {}
  spec = dict((_manifest(root) or {}).get('plot') or {})
  if spec.get('x'):
    spec['x'] = names.get(spec['x'], spec['x'])
  hue = spec.get('hue') or []
  spec['hue'] = [names.get(h, h) for h in ([hue] if isinstance(hue, str) else hue)]
  plot_summary(path, rows, summary, setting_columns, metric_columns, spec)
  written.append(path)
  cost = [m for m in spec.get('cost') or [] if m in metric_columns]
  if cost:  # quality against cost: the figure, and its x values per run
    label = spec.get('label') or setting_columns[0]
    path = os.path.join(out, 'cost_quality.png')
    plot_cost_quality(path, rows, summary, setting_columns, cost, label)
    written.append(path)
    path = os.path.join(out, 'cost.csv')
    _write_csv(path, cost_rows(rows, setting_columns),
               setting_columns + ['seed', 'train_flops', 'train_seconds'])
    written.append(path)
  curves = (_manifest(root) or {}).get('curves') or []
  if curves:
    path = os.path.join(out, 'curves.png')
    plot_curves(path, root, curves, rows, setting_columns)
    written.append(path)
  if update_readme(os.path.join(out, 'README.md'), table):
    written.append(os.path.join(out, 'README.md'))
  return written
