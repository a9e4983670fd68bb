"""Runs the hardening probes and kill -9 trials on real MNIST and writes results/reliability.md.

  python results/reliability.py --source_dir=../shared/data/mnist [--out=results/reliability.md]
      [--parts=probes,kills]

Every row of the table is measured by this run (exit status, seconds, the first error or warning
line, what the workdir holds afterwards); nothing is typed. On a loaded 2-core CPU the probes take
~15 minutes and the kill -9 trials ~15 more.
"""
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # results/ is one level down
sys.path.insert(0, os.path.join(REPO, 'launch'))
import common  # noqa: E402,F401  (launch/'s set-up; runs from a checkout without installation)
from absl import app, flags

from genjax.fault_injection import flip_middle, largest_file, metrics_rows

flags.DEFINE_string('source_dir', os.path.join(REPO, '..', 'shared', 'data', 'mnist'),
                    'The original MNIST files.')
flags.DEFINE_string('out', os.path.join(REPO, 'results', 'reliability.md'), 'The table.')
flags.DEFINE_list('kills', ['after', 'during', 'after', 'during', 'during'],
                  'The kill -9 trials of the WGAN-GP run, in order: "after" kills a restart as soon '
                  'as it has finished a new checkpoint, "during" as soon as it has started writing '
                  'one (an Orbax temporary folder appears) while an older one exists.')
flags.DEFINE_list('parts', ['probes', 'kills'],
                  'What to run: the probes, the kill -9 trials, or both. A part not run keeps its '
                  'section of --out as it is.')
FLAGS = flags.FLAGS
IWAE = os.path.join(REPO, 'configs', 'iwae_mnist.py:smoke')
WGAN_GP = os.path.join(REPO, 'configs', 'wgan_gp_mnist.py:smoke')


class Probe:

  def __init__(self, tmp, source_dir):
    self.tmp, self.source_dir, self.rows = tmp, source_dir, []
    self.env = dict(os.environ, TFDS_DATA_DIR=os.path.join(tmp, 'tfds'))

  def cmd(self, script, *args):
    return [sys.executable, os.path.join(REPO, 'launch', script), *args]

  def train_cmd(self, workdir, *args, config=IWAE, source_dir=None):
    return self.cmd('train.py', f'--config={config}', f'--workdir={workdir}',
                    f'--config.data.source_dir={source_dir or self.source_dir}', *args)

  def run(self, command, timeout=900):
    t0 = time.monotonic()
    p = subprocess.run(command, capture_output=True, text=True, env=self.env, timeout=timeout)
    return p.returncode, time.monotonic() - t0, p.stdout + p.stderr

  def start(self, command, log):
    return subprocess.Popen(command, stdout=open(log, 'a'), stderr=subprocess.STDOUT, env=self.env)

  def add(self, probe, expected, rc, seconds, output, extra='', ok=None):
    lines = [l for l in output.splitlines() if l.startswith('error: ')]
    warned = [l.split('] ', 1)[-1] for l in output.splitlines()
              if l.startswith('W') and ('damaged' in l or 'Fell back' in l)]
    said = lines[0] if lines else (warned[0] if warned else '')
    tracebacks = output.count('Traceback')
    if ok is None:
      ok = rc == 2 and len(lines) == 1 and not tracebacks
    self.rows.append(dict(probe=probe, expected=expected, rc=rc, seconds=round(seconds, 1),
                          said=said[:220], extra=extra, tracebacks=tracebacks, ok=bool(ok)))
    print(json.dumps(self.rows[-1]), flush=True)


def listing(path):
  return sorted(os.listdir(path)) if os.path.isdir(path) else ('(absent)' if not os.path.exists(path)
                                                              else '(a file)')


def probes(p):
  t = p.tmp
  # Bad input, refused before any work.
  w = os.path.join(t, 'lr')
  p.add('negative learning rate (IWAE)', 'exit 2, one line, < 10 s, workdir not created',
        *p.run(p.train_cmd(w, '--config.optim.learning_rate=-0.001')), f'workdir: {listing(w)}')
  w = os.path.join(t, 'clip')
  rc, s, out = p.run(p.train_cmd(w, '--config.method.gp_lambda=-10', config=WGAN_GP))
  p.add('negative gradient-penalty lambda (WGAN-GP)', 'exit 2, one line, < 10 s', rc, s, out,
        f'workdir: {listing(w)}')
  w = os.path.join(t, 'x')
  p.add('unknown config file', 'exit 2, one line, < 10 s',
        *p.run(p.cmd('train.py', '--config=configs/no_such_config.py', f'--workdir={w}')),
        f'workdir: {listing(w)}')
  f = os.path.join(t, 'file_not_dir')
  open(f, 'w').close()
  p.add('workdir is a file', 'exit 2, one line, < 10 s', *p.run(p.train_cmd(f)))

  # A good run, which also prepares the TFDS copy the next probes try to use as a stand-in.
  ok = os.path.join(t, 'ok')
  rc, s, out = p.run(p.train_cmd(ok, '--config.train.num_steps=200',
                                 '--config.train.checkpoint_every=50',
                                 '--config.train.keep_checkpoints=3'))
  p.add('reference: IWAE smoke, 200 steps, checkpoints 100/150/200', 'exit 0', rc, s, out,
        f'checkpoints: {listing(os.path.join(ok, "checkpoints"))}', ok=rc == 0)

  empty = os.path.join(t, 'empty')
  os.makedirs(empty)
  w = os.path.join(t, 'emp')
  p.add('empty source_dir, prepared TFDS copy present', 'exit 2, one line, workdir not created',
        *p.run(p.train_cmd(w, source_dir=empty)), f'workdir: {listing(w)}')
  cut = os.path.join(t, 'cut')
  shutil.copytree(p.source_dir, cut)
  for n in os.listdir(cut):
    os.chmod(os.path.join(cut, n), 0o644)
  victim = os.path.join(cut, next(n for n in os.listdir(cut) if n.startswith('t10k-images')))
  with open(victim, 'r+b') as fh:
    fh.truncate(os.path.getsize(victim) // 2)
  w = os.path.join(t, 'cutrun')
  p.add('truncated source file, prepared TFDS copy present', 'exit 2, one line',
        *p.run(p.train_cmd(w, source_dir=cut)), f'workdir: {listing(w)}')

  # Damaged checkpoints.
  d = os.path.join(t, 'flip')
  shutil.copytree(ok, d)
  flip_middle(largest_file(os.path.join(d, 'checkpoints', '200')))
  rc, s, out = p.run(p.cmd('evaluate.py', f'--workdir={d}', '--config.eval.metrics=nll',
                           '--config.eval.nll_num_samples=50'))
  ev = json.load(open(os.path.join(d, 'eval.json'))) if os.path.exists(
      os.path.join(d, 'eval.json')) else {}
  p.add('evaluate: 256 flipped bytes in checkpoint 200', 'fall back to 150 with a warning, '
        'finite metrics', rc, s, out, f'eval.json step {ev.get("step")}, nll {ev.get("nll")}',
        ok=rc == 0 and ev.get('step') == 150 and 'damaged' in out)
  rc, s, out = p.run(p.train_cmd(d, '--config.train.num_steps=200',
                                 '--config.train.checkpoint_every=50',
                                 '--config.train.keep_checkpoints=3'))
  same = metrics_rows(os.path.join(d, 'metrics.jsonl')) == metrics_rows(
      os.path.join(ok, 'metrics.jsonl'))
  p.add('train: resume with checkpoint 200 damaged', 'fall back to 150, warn, retrain to 200',
        rc, s, out, f'damaged_checkpoints/: {listing(os.path.join(d, "damaged_checkpoints"))}; '
        f'metrics.jsonl equal to the undamaged run: {same}', ok=rc == 0 and same)

  d = os.path.join(t, 'meta')
  shutil.copytree(ok, d)
  os.remove(os.path.join(d, 'checkpoints', '200', 'default', '_METADATA'))
  rc, s, out = p.run(p.train_cmd(d, '--config.train.num_steps=200',
                                 '--config.train.checkpoint_every=50',
                                 '--config.train.keep_checkpoints=3'))
  p.add('train: _METADATA deleted from checkpoint 200', 'fall back to 150, warn, retrain', rc, s,
        out, f'checkpoints: {listing(os.path.join(d, "checkpoints"))}', ok=rc == 0 and
        'damaged' in out)

  d = os.path.join(t, 'all')
  shutil.copytree(ok, d)
  for step in ('100', '150', '200'):
    flip_middle(largest_file(os.path.join(d, 'checkpoints', step)))
  before = open(os.path.join(d, 'config.json')).read()
  rc, s, out = p.run(p.train_cmd(d, '--config.train.num_steps=300',
                                 '--config.train.checkpoint_every=50'))
  kept = open(os.path.join(d, 'config.json')).read() == before
  p.add('train: every checkpoint damaged, num_steps changed', 'exit 2, one line, config.json '
        'untouched', rc, s, out, f'config.json unchanged: {kept}', ok=rc == 2 and kept)

  # One writer per workdir.
  w = os.path.join(t, 'w')
  first = p.start(p.train_cmd(w, '--config.train.num_steps=100000'), os.path.join(t, 'w1.log'))
  for _ in range(600):
    if os.path.exists(os.path.join(w, 'config.json')):
      break
    time.sleep(0.2)
  rc, s, out = p.run(p.train_cmd(w, '--config.train.num_steps=100000'))
  p.add('second training on a running workdir', 'exit 2, one line naming the pid', rc, s, out,
        f'first writer pid {first.pid} named: {str(first.pid) in out}',
        ok=rc == 2 and str(first.pid) in out)
  first.send_signal(signal.SIGKILL)
  first.wait()
  log = os.path.join(t, 'w2.log')
  t0 = time.monotonic()
  second = p.start(p.train_cmd(w, '--config.train.num_steps=100000'), log)
  trained = False
  for _ in range(1500):
    if 'step ' in open(log).read() and '/100000' in open(log).read():
      trained = True
      break
    if second.poll() is not None:
      break
    time.sleep(0.2)
  second.send_signal(signal.SIGKILL)
  second.wait()
  p.add('rerun after kill -9 of the writer (lock file left behind)', 'trains', 0 if trained else 1,
        time.monotonic() - t0, open(log).read(), f'lock file present: '
        f'{os.path.exists(os.path.join(w, "train.lock"))}; trained: {trained}', ok=trained)


def _checkpoints(workdir):
  """(finished steps, steps being written) in WORKDIR/checkpoints: Orbax writes step N into
  'N.orbax-checkpoint-tmp-*' and renames it to 'N' when the write has finished."""
  try:
    names = os.listdir(os.path.join(workdir, 'checkpoints'))
  except FileNotFoundError:
    return [], []
  finished = sorted(int(n) for n in names if n.isdigit())
  writing = sorted(n for n in names if '.orbax-checkpoint-tmp' in n and n.split('.')[0].isdigit())
  return finished, writing


def _step(tmp_name):
  return int(tmp_name.split('.')[0])


def _kill_when(proc, workdir, mode, timeout=1800):
  """Polls the checkpoints every 2 ms and kills proc (-9) at the first moment that fits mode:
  'after', a checkpoint newer than those there at the start has finished; 'during', this process
  has started a write (a temporary folder not there at the start: one an earlier kill left does
  not count) while at least one finished checkpoint exists. Returns (finished, writing) seen just
  before the kill, or None when the run ended first."""
  start_finished, start_writing = (set(x) for x in _checkpoints(workdir))
  t0 = time.monotonic()
  while proc.poll() is None and time.monotonic() - t0 < timeout:
    finished, writing = _checkpoints(workdir)
    new_writes = [n for n in writing if n not in start_writing]
    if (mode == 'after' and set(finished) - start_finished and not new_writes) or (
        mode == 'during' and finished and new_writes
        and max(map(_step, new_writes)) > max(finished)):
      proc.send_signal(signal.SIGKILL)
      proc.wait()
      return finished, writing
    time.sleep(0.002)
  proc.kill()
  proc.wait()
  return None


def kill_loop(p, kills):
  """A WGAN-GP run (n_critic 5, a checkpoint every 3 steps) killed -9 len(kills) times, each kill
  after a checkpoint exists, some in the middle of a checkpoint write; each restart must resume
  from the newest finished checkpoint, and the final run must log what an uninterrupted run
  logs."""
  t = p.tmp
  args = ['--config.train.num_steps=24', '--config.train.checkpoint_every=3',
          '--config.train.log_every=3']
  g0, g1 = os.path.join(t, 'g0'), os.path.join(t, 'g1')
  rc, s, out = p.run(p.train_cmd(g0, *args, config=WGAN_GP))
  p.add('reference: WGAN-GP smoke (n_critic 5), 24 steps', 'exit 0', rc, s, out, ok=rc == 0)
  log = os.path.join(t, 'g1.log')
  trials = []
  for mode in kills:
    t0 = time.monotonic()
    proc = p.start(p.train_cmd(g1, *args, config=WGAN_GP), log)
    seen = _kill_when(proc, g1, mode)
    after, left = _checkpoints(g1)
    trials.append(dict(mode=mode, seen=seen, after=after, left=left, seconds=time.monotonic() - t0,
                       rc=proc.returncode))
  rc, s, out = p.run(p.train_cmd(g1, *args, config=WGAN_GP))
  with open(log) as f:
    resumed = [int(l.split('at step ')[1].split(' ')[0]) for l in f if 'Resuming from' in l]
  resumed += [int(l.split('at step ')[1].split(' ')[0]) for l in out.splitlines()
              if 'Resuming from' in l]
  for i, trial in enumerate(trials):
    seen, after = trial['seen'], trial['after']
    newest = max(after) if after else None
    next_resume = resumed[i] if i < len(resumed) else None
    if seen is None:
      p.add(f'WGAN-GP kill -9 #{i + 1} ({trial["mode"]} a checkpoint write)', 'killed after a '
            'checkpoint exists', trial['rc'], trial['seconds'], '', 'the run ended before the '
            'kill', ok=False)
      continue
    cut = trial['mode'] == 'during' and bool(set(seen[1]) & set(trial['left']))
    what = (f'during the write of checkpoint {max(map(_step, seen[1]))}'
            if trial['mode'] == 'during' else
            f'just after checkpoint {max(seen[0])} finished')
    p.add(f'WGAN-GP kill -9 #{i + 1}, {what}', 'the next start resumes from the newest finished '
          'checkpoint', trial['rc'], trial['seconds'], '',
          f'finished checkpoints after the kill: {after}; unfinished write left behind: '
          f'{trial["left"] or "none"}{" (the kill cut the write)" if cut else ""}; next start '
          f'resumed from step {next_resume}',
          ok=trial['rc'] == -signal.SIGKILL and newest is not None and next_resume == newest)
  same = rc == 0 and metrics_rows(os.path.join(g0, 'metrics.jsonl')) == metrics_rows(
      os.path.join(g1, 'metrics.jsonl'))
  p.add(f'WGAN-GP final run after {len(kills)} kills', 'metrics.jsonl equal to the '
        'uninterrupted run', rc, s, out, f'equal: {same}; resumed from steps {resumed}', ok=same)


PARTS = {'probes': ('Probes', probes), 'kills': ('kill -9 trials', kill_loop)}
INTRO = [
    '# Reliability probes',
    '',
    'Written by `python results/reliability.py` (the probes of `../shared/acceptance/hardening` and '
    'more, on real MNIST; every cell measured by that run). A probe passes when it does what the '
    '"expected" column says; refusals must be exit status 2 with exactly one `error:` line and '
    'no traceback. `--parts=probes` or `--parts=kills` reruns one section and keeps the other.',
    '',
]


def _markers(part):
  return f'<!-- reliability:{part} -->', f'<!-- /reliability:{part} -->'


def section(part, rows, seconds):
  """The markdown of one part: its machine, duration, table and pass count, between markers."""
  begin, end = _markers(part)
  lines = [
      begin,
      f'## {PARTS[part][0]}',
      '',
      f'Machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; '
      f'this part took {seconds / 60:.1f} min; {time.strftime("%Y-%m-%d %H:%M")}.',
      '',
      '| probe | expected | exit | s | passed | first error / warning line | afterwards |',
      '|---|---|---|---|---|---|---|',
  ]
  esc = lambda x: str(x).replace('|', '\\|').replace('\n', ' ')
  for r in rows:
    lines.append(f'| {esc(r["probe"])} | {esc(r["expected"])} | {r["rc"]} | {r["seconds"]} | '
                 f'{"yes" if r["ok"] else "**NO**"} | {esc(r["said"])} | {esc(r["extra"])} |')
  passed = sum(r['ok'] for r in rows)
  lines += ['', f'{passed} of {len(rows)} passed.', end]
  return '\n'.join(lines)


def kept_section(path, part):
  """The section of an earlier --out for a part not rerun."""
  begin, end = _markers(part)
  text = open(path).read() if os.path.exists(path) else ''
  if begin not in text or end not in text:
    raise SystemExit(f'{path} has no {part} section to keep: run with --parts={part} too')
  return begin + text.split(begin, 1)[1].split(end, 1)[0] + end


def main(argv):
  del argv
  unknown = set(FLAGS.parts) - set(PARTS)
  if unknown:
    raise SystemExit(f'--parts: unknown {sorted(unknown)}; choose from {sorted(PARTS)}')
  tmp = tempfile.mkdtemp(prefix='genjax_reliability_')
  sections, ok = [], True
  try:
    p = Probe(tmp, os.path.abspath(FLAGS.source_dir))
    for part, (_, run) in PARTS.items():
      if part not in FLAGS.parts:
        sections.append(kept_section(FLAGS.out, part))
        continue
      t0, p.rows = time.monotonic(), []
      if part == 'kills':
        run(p, FLAGS.kills)
      else:
        run(p)
      ok &= all(r['ok'] for r in p.rows)
      sections.append(section(part, p.rows, time.monotonic() - t0))
  finally:
    shutil.rmtree(tmp, ignore_errors=True)
  with open(FLAGS.out, 'w') as f:
    f.write('\n'.join(INTRO) + '\n\n'.join(sections) + '\n')
  print(f'wrote {FLAGS.out}')
  sys.exit(0 if ok else 1)


if __name__ == '__main__':
  app.run(main)
