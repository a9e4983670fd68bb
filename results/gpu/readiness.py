"""Accelerator readiness: speed, model FLOP utilization and bfloat16 of the CIFAR-10 configs.

  python3 results/gpu/readiness.py --cifar_dir=DIR [--train_split=test] --out=$OUT --budget_s=540

For each config (configs/dcgan_cifar.py, wgan_cifar.py, wgan_gp_cifar.py) and each compute dtype
(train.compute_dtype float32, then bfloat16; parameters float32 in both) it builds the experiment
on CIFAR-10 read from the original files by genjax.data.raw (no TensorFlow needed), compiles the
train step as genjax/train.py does (jax.jit(...).lower(...).compile(), one chip), and runs
--steps steps from the same seed through the loop's own path (`train_step(state,
experiment.batch(step), key)`). After --warmup steps it times the rest (block_until_ready at both
ends), then times the compiled step alone on one batch already on the device. It reports:

  steps/s            loop (batch gathering included) and step alone
  FLOPs/step         XLA's cost analysis of the compiled step (what train.py's cost.json holds)
  achieved FLOP/s    FLOPs/step x steps/s
  MFU                achieved / the chip's dense peak (PEAKS below; null for a chip not listed)
  speed-up           bfloat16 steps/s / float32 steps/s
  loss agreement     each metric averaged over the last --window steps, bfloat16 vs float32

into OUT/readiness.json and OUT/readiness.md, rewritten after every measurement, the hardware
named (device kind, JAX version). No measurement starts once --budget_s has passed, and a running
one stops there, so a lent machine's 10-minute command limit returns what was measured.
`--train_split=test`: only CIFAR-10's test batch is at hand (the whole archive is larger than what
travels to a lent machine); its 10,000 images then stand in as training images too, which changes
no speed and is the same for both dtypes.
"""
import importlib.util
import json
import os
import platform
import sys
import time

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

FLAGS = flags.FLAGS

# Dense (no sparsity) peak FLOP/s of one chip, from the vendors' datasheets. On NVIDIA GPUs JAX's
# default precision runs float32 matrix products and convolutions on TF32 tensor cores, on TPUs as
# one bfloat16 pass, so those are the float32 peaks MFU is set against ('fp32_cuda_cores' is the
# non-tensor figure, for reference). NVIDIA lists tensor-core figures with 2:4 sparsity: halved
# here.
PEAKS = (
    # (device_kind must contain all of these, name, {dtype: FLOP/s}, source)
    (('H200', 'NVL'), 'NVIDIA H200 NVL',
     {'bfloat16': 835.5e12, 'float32': 417.5e12, 'fp32_cuda_cores': 60e12},
     'NVIDIA H200 datasheet: BF16 1,671 / TF32 835 TFLOPS with sparsity, FP32 60 TFLOPS'),
    (('H200',), 'NVIDIA H200 SXM',
     {'bfloat16': 989.5e12, 'float32': 494.5e12, 'fp32_cuda_cores': 67e12},
     'NVIDIA H200 datasheet: BF16 1,979 / TF32 989 TFLOPS with sparsity, FP32 67 TFLOPS'),
    (('H100', 'PCIe'), 'NVIDIA H100 PCIe',
     {'bfloat16': 756.5e12, 'float32': 378e12, 'fp32_cuda_cores': 51e12},
     'NVIDIA H100 datasheet: BF16 1,513 / TF32 756 TFLOPS with sparsity, FP32 51 TFLOPS'),
    (('H100', 'NVL'), 'NVIDIA H100 NVL',
     {'bfloat16': 835.5e12, 'float32': 417.5e12, 'fp32_cuda_cores': 60e12},
     'NVIDIA H100 datasheet: BF16 1,671 / TF32 835 TFLOPS with sparsity, FP32 60 TFLOPS'),
    (('H100',), 'NVIDIA H100 SXM',
     {'bfloat16': 989.5e12, 'float32': 494.5e12, 'fp32_cuda_cores': 67e12},
     'NVIDIA H100 datasheet: BF16 1,979 / TF32 989 TFLOPS with sparsity, FP32 67 TFLOPS'),
    (('TPU v5 lite',), 'TPU v5e', {'bfloat16': 197e12, 'float32': 197e12},
     'Google Cloud TPU v5e: 197 TFLOPS bf16 per chip'),
    (('TPU v5e',), 'TPU v5e', {'bfloat16': 197e12, 'float32': 197e12},
     'Google Cloud TPU v5e: 197 TFLOPS bf16 per chip'),
    (('TPU v5',), 'TPU v5p', {'bfloat16': 459e12, 'float32': 459e12},
     'Google Cloud TPU v5p: 459 TFLOPS bf16 per chip'),
    (('TPU v4',), 'TPU v4', {'bfloat16': 275e12, 'float32': 275e12},
     'Google Cloud TPU v4: 275 TFLOPS bf16 per chip'),
)


def peak_for(device_kind):
  """(name, {dtype: peak FLOP/s}, source) of the first PEAKS row whose words device_kind holds;
  None for a chip not listed (a CPU among them): its MFU is reported as null."""
  for words, name, peaks, source in PEAKS:
    if all(w in device_kind for w in words):
      return name, peaks, source
  return None


def mfu(achieved_flops_per_sec, device_kind, dtype):
  """achieved / peak for the chip and dtype, or None when the peak is unknown."""
  found = peak_for(device_kind)
  if found is None or dtype not in found[1]:
    return None
  return achieved_flops_per_sec / found[1][dtype]


def step_cost(compiled):
  """FLOPs and bytes per step from XLA's cost analysis, read as genjax.train.record_cost does."""
  analysis = compiled.cost_analysis()
  if isinstance(analysis, (list, tuple)):  # older JAX: one dict per computation
    analysis = analysis[0] if analysis else {}
  analysis = analysis or {}
  return (float(analysis.get('flops', float('nan'))),
          float(analysis.get('bytes accessed', float('nan'))))


def hardware():
  import flax
  import jax
  import jaxlib
  device = jax.local_devices()[0]
  found = peak_for(device.device_kind)
  return {'device_kind': device.device_kind, 'platform': device.platform,
          'local_device_count': jax.local_device_count(), 'devices_used': 1,
          'jax_version': jax.__version__, 'jaxlib_version': jaxlib.__version__,
          'flax_version': flax.__version__, 'python': platform.python_version(),
          'cpu_count': os.cpu_count(), 'xla_flags': os.environ.get('XLA_FLAGS', ''),
          'peak_name': found[0] if found else None,
          'peak_flops_per_sec': found[1] if found else None,
          'peak_source': found[2] if found else
          f'{device.device_kind!r} is not in the peak table: MFU is null'}


def load_config(name, variant, dtype, batch_size, cifar_dir):
  spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, 'configs', name + '.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config(variant)
  config.train.compute_dtype = dtype
  if batch_size:
    config.train.batch_size = batch_size
  config.data.source_dir = cifar_dir
  return config


def measure(config, splits, deadline, steps, warmup, step_only_steps, window):
  """One short run of `config` on one chip: timings, cost, the final metrics. Stops early (and
  says so) at `deadline` (time.monotonic())."""
  import jax
  import jax.numpy as jnp
  import numpy as np

  from genjax import parallel
  from genjax.configs_check import validate_config
  from genjax.experiments.adversarial import AdversarialExperiment

  validate_config(config)
  mesh = parallel.data_mesh(jax.local_devices()[:1])
  experiment = AdversarialExperiment(config, mesh, splits=splits)
  state = jax.device_put(experiment.init_state(), parallel.replicated(mesh))
  param_dtypes = sorted({str(leaf.dtype) for leaf in jax.tree.leaves((state.g.params,
                                                                       state.d.params))})
  key = experiment.keys['train']
  t0 = time.monotonic()
  step_fn = jax.jit(experiment.train_step, donate_argnums=0).lower(
      state, experiment.batch(0), key).compile()
  compile_s = time.monotonic() - t0
  flops, bytes_accessed = step_cost(step_fn)

  history, truncated, t_start, timed_from = [], False, None, None
  for step in range(steps):
    if step == warmup:
      jax.block_until_ready(state)
      t_start, timed_from = time.monotonic(), step
    state, metrics = step_fn(state, experiment.batch(step), key)
    history.append(metrics)
    if step % 10 == 9 and time.monotonic() > deadline:
      truncated = step + 1 < steps
      break
  jax.block_until_ready(state)
  steps_run = len(history)
  loop_rate = ((steps_run - timed_from) / (time.monotonic() - t_start)
               if t_start is not None and steps_run > timed_from else None)

  step_only_rate = None
  if not truncated and step_only_steps > 0:
    batch = jax.block_until_ready(experiment.batch(steps_run))
    t0 = time.monotonic()
    for _ in range(step_only_steps):
      state, _ = step_fn(state, batch, key)
    jax.block_until_ready(state)
    step_only_rate = step_only_steps / (time.monotonic() - t0)

  last = history[-min(window, steps_run):]
  final = {k: float(np.mean(jax.device_get(jnp.stack([m[k] for m in last])))) for k in last[0]}
  return {'config': config.method.name, 'compute_dtype': config.train.compute_dtype,
          'batch_size': config.train.batch_size, 'n_critic': config.method.n_critic,
          'param_dtypes': param_dtypes, 'compile_s': compile_s,
          'steps_run': steps_run, 'timed_steps': (steps_run - timed_from) if loop_rate else 0,
          'truncated': truncated, 'steps_per_sec': loop_rate,
          'step_only_steps_per_sec': step_only_rate,
          'flops_per_step': flops, 'bytes_accessed_per_step': bytes_accessed,
          'final_metrics': final, 'final_window': len(last),
          'finite': bool(all(np.isfinite(v) for v in final.values()))}


def add_utilization(record, device_kind):
  for rate_key, suffix in (('steps_per_sec', ''), ('step_only_steps_per_sec', '_step_only')):
    rate = record[rate_key]
    achieved = rate * record['flops_per_step'] if rate else None
    record['achieved_flops_per_sec' + suffix] = achieved
    record['mfu' + suffix] = (mfu(achieved, device_kind, record['compute_dtype'])
                              if achieved else None)
  return record


def compare(base, other, rtol, atol):
  """The other dtype against the baseline: speed-up and each final metric's difference."""
  result = {'baseline': base['compute_dtype'], 'compute_dtype': other['compute_dtype'],
            'speedup': (other['steps_per_sec'] / base['steps_per_sec']
                        if other['steps_per_sec'] and base['steps_per_sec'] else None),
            'speedup_step_only': (other['step_only_steps_per_sec'] / base['step_only_steps_per_sec']
                                  if other['step_only_steps_per_sec']
                                  and base['step_only_steps_per_sec'] else None),
            'same_steps': base['steps_run'] == other['steps_run'], 'rtol': rtol, 'atol': atol,
            'metrics': {}}
  for name, b in base['final_metrics'].items():
    o = other['final_metrics'].get(name)
    if o is None:
      continue
    diff = abs(o - b)
    result['metrics'][name] = {
        'baseline': b, 'value': o, 'abs_diff': diff,
        'rel_diff': diff / abs(b) if b else None,
        'close': bool(diff <= atol or (b != 0 and diff <= rtol * abs(b)))}
  result['all_close'] = bool(result['same_steps'] and result['metrics']
                             and all(m['close'] for m in result['metrics'].values()))
  return result


def _fmt(value, spec):
  return '—' if value is None else format(value, spec)


def markdown(report):
  h = report['hardware']
  lines = [f"# Accelerator readiness: {h['device_kind']} ({h['platform']}), JAX {h['jax_version']}",
           '',
           f"One chip; CIFAR-10 from `{report['data']['source']}` ({report['data']['train_split']} "
           f"split as training images); {report['settings']['steps']} steps per run from each "
           f"config's seed, the first {report['settings']['warmup']} untimed. Peak: "
           f"{h['peak_source']}.", '',
           '| config | dtype | batch | steps/s | steps/s (step alone) | GFLOPs/step | TFLOP/s '
           '| MFU | MFU (step alone) | compile s |',
           '|---|---|---|---|---|---|---|---|---|---|']
  for r in report['runs']:
    if 'error' in r or 'skipped' in r:
      lines.append(f"| {r['name']} | {r['compute_dtype']} | | {r.get('error') or r['skipped']} "
                   '| | | | | | |')
      continue
    lines.append(
        f"| {r['name']} | {r['compute_dtype']} | {r['batch_size']} | "
        f"{_fmt(r['steps_per_sec'], '.2f')} | {_fmt(r['step_only_steps_per_sec'], '.2f')} | "
        f"{r['flops_per_step'] / 1e9:.3f} | "
        f"{_fmt(r['achieved_flops_per_sec'] and r['achieved_flops_per_sec'] / 1e12, '.3f')} | "
        f"{_fmt(r['mfu'] and 100 * r['mfu'], '.2f')}{'%' if r['mfu'] else ''} | "
        f"{_fmt(r['mfu_step_only'] and 100 * r['mfu_step_only'], '.2f')}"
        f"{'%' if r['mfu_step_only'] else ''} | {r['compile_s']:.1f} |")
  if report['comparisons']:
    lines += ['', f"Against {report['settings']['dtypes'][0]}: metrics averaged over the last "
              f"{report['settings']['window']} steps of each run; close = |diff| <= "
              f"{report['settings']['rtol']} x |baseline| or <= {report['settings']['atol']}.", '',
              '| config | dtype | speed-up | speed-up (step alone) | metric | baseline | value '
              '| rel. diff | close |', '|---|---|---|---|---|---|---|---|---|']
    for c in report['comparisons']:
      for i, (name, m) in enumerate(sorted(c['metrics'].items())):
        head = (f"| {c['name']} | {c['compute_dtype']} | {_fmt(c['speedup'], '.2f')} | "
                f"{_fmt(c['speedup_step_only'], '.2f')} |" if i == 0 else '| | | | |')
        lines.append(f"{head} {name} | {m['baseline']:.4g} | {m['value']:.4g} | "
                     f"{_fmt(m['rel_diff'], '.3f')} | {'yes' if m['close'] else 'NO'} |")
  if report['notes']:
    lines += [''] + [f'- {n}' for n in report['notes']]
  return '\n'.join(lines) + '\n'


def write(report, out):
  os.makedirs(out, exist_ok=True)
  for name, text in (('readiness.json', json.dumps(report, indent=2)),
                     ('readiness.md', markdown(report))):
    path = os.path.join(out, name)
    with open(path + '.tmp', 'w') as f:
      f.write(text)
    os.replace(path + '.tmp', path)


def read_splits(cifar_dir, train_split):
  from genjax.data import raw
  test = raw.read_cifar10(cifar_dir, 'test')
  return {'train': test if train_split == 'test' else raw.read_cifar10(cifar_dir, 'train'),
          'test': test}


def run(cifar_dir, out, configs, dtypes, variant='', batch_size=None, steps=200, warmup=10,
        step_only_steps=50, window=20, rtol=0.1, atol=0.05, budget_s=540, train_split='train'):
  """Measures every (config, dtype); returns the report written to OUT."""
  from genjax.errors import GenjaxError
  t0 = time.monotonic()
  deadline = t0 + budget_s
  hw = hardware()
  report = {'hardware': hw, 'data': {'source': cifar_dir, 'train_split': train_split},
            'settings': {'configs': list(configs), 'dtypes': list(dtypes), 'variant': variant,
                         'batch_size': batch_size, 'steps': steps, 'warmup': warmup,
                         'step_only_steps': step_only_steps, 'window': window, 'rtol': rtol,
                         'atol': atol, 'budget_s': budget_s},
            'runs': [], 'comparisons': [], 'notes': [], 'complete': False}
  if hw['peak_name'] is None:
    report['notes'].append(hw['peak_source'])
  splits = read_splits(cifar_dir, train_split)
  report['data']['read_s'] = time.monotonic() - t0
  write(report, out)
  for name in configs:
    by_dtype = {}
    for dtype in dtypes:
      entry = {'name': name, 'compute_dtype': dtype}
      if time.monotonic() > deadline:
        entry['skipped'] = f'budget of {budget_s:.0f} s spent'
      else:
        try:
          config = load_config(name, variant, dtype, batch_size, cifar_dir)
          entry.update(add_utilization(
              measure(config, splits, deadline, steps, warmup, step_only_steps, window),
              hw['device_kind']))
          by_dtype[dtype] = entry
        except GenjaxError as e:
          entry['error'] = f'{type(e).__name__}: {e}'
      report['runs'].append(entry)
      print(json.dumps({k: v for k, v in entry.items() if k != 'final_metrics'}), flush=True)
      write(report, out)
    base = by_dtype.get(dtypes[0])
    for dtype in dtypes[1:]:
      if base and dtype in by_dtype:
        report['comparisons'].append({'name': name, **compare(base, by_dtype[dtype], rtol, atol)})
    write(report, out)
  if any(r.get('truncated') for r in report['runs']):
    report['notes'].append('A run marked truncated stopped at the budget: its numbers cover fewer '
                           'steps.')
  report['elapsed_s'] = time.monotonic() - t0
  report['complete'] = all('skipped' not in r and 'error' not in r and not r.get('truncated')
                           for r in report['runs'])
  write(report, out)
  return report


def define_flags():
  """The command line (defined here, not at import, so tests can import the functions)."""
  flags.DEFINE_string('cifar_dir', None, 'Directory of the original CIFAR-10 files: the binary or '
                      'python archive, its extracted folder, or (--train_split=test) a folder with '
                      'only cifar-10-batches-bin/test_batch.bin.')
  flags.DEFINE_enum('train_split', 'train', ['train', 'test'],
                    'The split the training batches come from (test: only the test batch is here).')
  flags.DEFINE_string('out', os.environ.get('OUT'), 'Where readiness.json and readiness.md go '
                      '(default: $OUT).')
  flags.DEFINE_list('configs', ['dcgan_cifar', 'wgan_cifar', 'wgan_gp_cifar'],
                    'Config files in configs/, without .py.')
  flags.DEFINE_list('dtypes', ['float32', 'bfloat16'], 'train.compute_dtype values; the first is '
                    'the baseline of the speed-up and the loss comparison.')
  flags.DEFINE_string('variant', '', "Config variant ('smoke': tiny networks, for tests).")
  flags.DEFINE_integer('batch_size', None, 'Overrides train.batch_size.')
  flags.DEFINE_integer('steps', 200, 'Steps of each short run (from the config\'s seed).',
                       lower_bound=1)
  flags.DEFINE_integer('warmup', 10, 'First steps of a run left out of the timing.',
                       lower_bound=0)
  flags.DEFINE_integer('step_only_steps', 50, 'Steps of the compiled step alone on one batch.',
                       lower_bound=0)
  flags.DEFINE_integer('window', 20, 'Last steps whose metrics are averaged for the comparison.',
                       lower_bound=1)
  flags.DEFINE_float('rtol', 0.1, 'A metric agrees when |bf16 - f32| <= rtol |f32| or <= atol.')
  flags.DEFINE_float('atol', 0.05, 'See rtol (for metrics near 0, e.g. a WGAN critic\'s estimate).')
  flags.DEFINE_float('budget_s', 540, 'No measurement starts, and a running one stops, after this '
                     'many seconds.')


def main(argv):
  del argv
  from genjax.errors import GenjaxError
  if not FLAGS.cifar_dir or not FLAGS.out:
    sys.exit('error: give --cifar_dir and --out (or set $OUT).')
  try:
    report = run(FLAGS.cifar_dir, FLAGS.out, FLAGS.configs, FLAGS.dtypes, FLAGS.variant,
                 FLAGS.batch_size, FLAGS.steps, FLAGS.warmup, FLAGS.step_only_steps, FLAGS.window,
                 FLAGS.rtol, FLAGS.atol, FLAGS.budget_s, FLAGS.train_split)
  except GenjaxError as e:
    sys.exit(f'error: {e}')
  print(markdown(report))


if __name__ == '__main__':
  define_flags()
  app.run(main)
