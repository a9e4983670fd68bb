"""Sweeps: expansion, run states, bad sweep files, the dry run, and (slow) a real sweep on MNIST
that trains, evaluates, skips what is done on a rerun, and reports."""
import csv
import io
import json
import os
import subprocess
import sys

import pytest

from genjax import sweeps
from genjax.errors import ConfigError
from tests.conftest import REPO

SMOKE = os.path.join(REPO, 'configs', 'sweeps', 'smoke.py')


def write_sweep(tmp_path, body):
  path = tmp_path / 'my_sweep.py'
  path.write_text('from genjax.sweeps import Sweep, product, zip_settings\n\n'
                  'def get_sweep():\n  return ' + body + '\n')
  return str(path)


def test_product_and_zip():
  assert sweeps.product({'a': [1, 2], 'b': ['x', 'y']}) == [
      {'a': 1, 'b': 'x'}, {'a': 1, 'b': 'y'}, {'a': 2, 'b': 'x'}, {'a': 2, 'b': 'y'}]
  assert sweeps.zip_settings({'a': [1, 2], 'b': ['x', 'y']}) == [{'a': 1, 'b': 'x'},
                                                                 {'a': 2, 'b': 'y'}]
  with pytest.raises(ConfigError, match='one length'):
    sweeps.zip_settings({'a': [1, 2], 'b': ['x']})


def test_expand_names_each_run_by_its_overrides_and_seed(tmp_path):
  sweep = sweeps.Sweep(config='configs/vae_mnist.py', seeds=(3, 4),
                       settings=sweeps.product({'optim.name': ['sgd', 'adam'],
                                                'method.name': ['vae']}),
                       fixed={'train.num_steps': 10})
  runs = sweeps.expand(sweep, str(tmp_path))
  assert [r.name for r in runs] == [
      'optim.name=sgd,method.name=vae,seed=3', 'optim.name=sgd,method.name=vae,seed=4',
      'optim.name=adam,method.name=vae,seed=3', 'optim.name=adam,method.name=vae,seed=4']
  assert runs[1].overrides == {'train.num_steps': 10, 'optim.name': 'sgd', 'method.name': 'vae',
                               'seed': 4}
  assert len({r.workdir for r in runs}) == 4
  short = sweeps.expand(sweeps.Sweep(config='c.py', settings=[{'method.k': 5}]), '/r')
  assert short[0].name == 'k=5,seed=0'


def test_build_config_applies_overrides_and_refuses_unknown_keys():
  sweep = sweeps.Sweep(config='configs/vae_mnist.py', settings=[{}])
  config = sweeps.build_config(sweep, {'optim.name': 'rmsprop', 'train.num_steps': 7, 'seed': 2})
  assert (config.optim.name, config.train.num_steps, config.seed) == ('rmsprop', 7, 2)
  with pytest.raises(ConfigError, match='train.num_stepz'):
    sweeps.build_config(sweep, {'train.num_stepz': 7})
  with pytest.raises(ConfigError, match='optimm.name'):
    sweeps.build_config(sweep, {'optimm.name': 'sgd'})
  with pytest.raises(ConfigError, match='train.num_steps'):
    sweeps.build_config(sweep, {'train.num_steps': 'many'})


@pytest.mark.parametrize('body, message', [
    ("Sweep(config='configs/vae_mnist.py', settings=[{'method.k': 1}, {'method.k': 1}])",
     'two settings are the same'),
    ("Sweep(config='configs/vae_mnist.py', settings=[{'seed': 1}])", 'seeds are set by'),
    ("Sweep(config='configs/vae_mnist.py', settings=[{}], seeds=(1, 1))", 'repeat a seed'),
    ("Sweep(config='configs/vae_mnist.py', settings=[])", 'at least one setting'),
    ("{'config': 'x'}", 'not a Sweep'),
    ("undefined_name", 'NameError'),
])
def test_bad_sweep_files_are_refused(tmp_path, body, message):
  with pytest.raises(ConfigError, match=message):
    sweeps.load_sweep(write_sweep(tmp_path, body))


def test_missing_sweep_file_is_refused(tmp_path):
  with pytest.raises(ConfigError, match='does not exist'):
    sweeps.load_sweep(str(tmp_path / 'nope.py'))


def test_run_state_follows_what_is_on_disk(tmp_path):
  spec = sweeps.RunSpec(name='r', workdir=str(tmp_path / 'r'), setting={}, seed=0, overrides={})
  assert sweeps.run_state(spec, 100, {}) == 'new'
  os.makedirs(tmp_path / 'r' / 'checkpoints' / '50')
  os.makedirs(tmp_path / 'r' / 'checkpoints' / '100.orbax-checkpoint-tmp-1')  # unfinished write
  assert sweeps.run_state(spec, 100, {}) == 'partial'
  os.makedirs(tmp_path / 'r' / 'checkpoints' / '100')
  assert sweeps.run_state(spec, 100, {}) == 'trained'
  (tmp_path / 'r' / 'eval.json').write_text(json.dumps({'step': 50, 'eval_config': {}}))
  assert sweeps.run_state(spec, 100, {}) == 'trained'  # an eval of an older checkpoint
  (tmp_path / 'r' / 'eval.json').write_text(json.dumps(
      {'step': 100, 'eval_config': {'metrics': 'nll'}}))
  assert sweeps.run_state(spec, 100, {}) == 'done'
  assert sweeps.run_state(spec, 100, {'metrics': 'fid'}) == 'trained'  # other eval settings
  assert sweeps.run_state(spec, 200, {}) == 'partial'  # more steps asked for: resume
  (tmp_path / 'r' / 'diverged.json').write_text('{}')
  assert sweeps.run_state(spec, 200, {}) == 'diverged'


def test_a_copied_run_evaluated_at_its_last_step_is_done_without_checkpoints(tmp_path):
  """launch/report.py --copy_runs keeps a run's small files: copied into a sweep root on a
  fresh machine, the finished runs count as done and only the others are trained."""
  spec = sweeps.RunSpec(name='r', workdir=str(tmp_path / 'r'), setting={}, seed=0, overrides={})
  os.makedirs(tmp_path / 'r')
  (tmp_path / 'r' / 'config.json').write_text('{}')
  (tmp_path / 'r' / 'eval.json').write_text(json.dumps(
      {'step': 100, 'eval_config': {'num_samples': 5000}}))
  assert sweeps.run_state(spec, 100, {'num_samples': 5000}) == 'done'
  assert sweeps.run_state(spec, 100, {'num_samples': 1000}) == 'partial'  # other eval settings
  assert sweeps.run_state(spec, 200, {'num_samples': 5000}) == 'partial'  # more steps asked for


def test_a_setting_may_name_its_own_config_file(tmp_path):
  """The comparison of methods: each setting trains from its method's config; the file is
  neither an override, a column nor part of the run's name."""
  path = write_sweep(tmp_path, "Sweep(config='configs/dcgan_mnist.py', seeds=(0,), "
                     "fixed={'train.num_steps': 3}, settings=["
                     "{'config': 'configs/wgan_gp_mnist.py', 'method.name': 'wgan_gp'}, "
                     "{'method.name': 'dcgan'}, "
                     "{'config': 'configs/vae_mnist.py', 'method.name': 'vae'}])")
  out = io.StringIO()
  assert sweeps.run_sweep(path, str(tmp_path / 'root'), dry_run=True, out=out) == 0
  lines = out.getvalue().splitlines()
  assert [l.split('--config=')[1].split()[0] for l in lines] == [
      'configs/wgan_gp_mnist.py', 'configs/dcgan_mnist.py', 'configs/vae_mnist.py']
  assert [l.split('--workdir=')[1].split()[0].rsplit('/', 1)[1] for l in lines] == [
      'name=wgan_gp,seed=0', 'name=dcgan,seed=0', 'name=vae,seed=0']
  assert all('--config.config' not in l for l in lines)
  sweep = sweeps.load_sweep(path)
  runs = sweeps.expand(sweep, '/r')
  built = [sweeps.build_config(sweep, r.overrides, r.config) for r in runs]
  assert [(c.method.name, c.train.batch_size) for c in built] == [
      ('wgan_gp', 64), ('dcgan', 128), ('vae', 20)]
  assert built[0].method.n_critic == 5  # the WGAN-GP config's own value, not the base's
  sweeps.write_manifest(path, sweep, runs, str(tmp_path / 'm'))
  manifest = json.loads((tmp_path / 'm' / 'sweep.json').read_text())
  assert manifest['swept_keys'] == ['method.name']
  # Two config files with the same overrides would give two runs one workdir: refused.
  same = write_sweep(tmp_path, "Sweep(config='configs/dcgan_mnist.py', settings=["
                     "{'config': 'configs/gan_mnist.py'}, {'config': 'configs/wgan_mnist.py'}])")
  with pytest.raises(ConfigError, match='the same overrides'):
    sweeps.load_sweep(same)


def test_dry_run_prints_one_command_per_run_and_creates_nothing(tmp_path):
  out = io.StringIO()
  root = tmp_path / 'root'
  assert sweeps.run_sweep(SMOKE, str(root), parallel=2, dry_run=True, out=out) == 0
  lines = out.getvalue().splitlines()
  assert len(lines) == 4
  assert all('launch/train.py' in l and '--evaluate' in l for l in lines)
  assert all('intra_op_parallelism_threads=1' in l for l in lines)
  assert len({l.split('--workdir=')[1].split()[0] for l in lines}) == 4
  assert any('--config.method.name=iwae' in l and '--config.seed=1' in l for l in lines)
  assert not root.exists()


def test_runs_go_seed_by_seed_so_a_stopped_sweep_holds_every_setting(tmp_path):
  """A fake interpreter records the order the runs start in: every setting's seed 0 before any
  seed 1, so a sweep cut short (a session ends) has a first seed of each setting."""
  sweep = write_sweep(tmp_path, "Sweep(config='configs/vae_mnist.py', settings=product("
                      "{'method.k': [1, 5, 50]}), seeds=(0, 1))")
  order = tmp_path / 'order.txt'
  fake = tmp_path / 'fake_python'
  fake.write_text(f'#!/bin/sh\nfor a in "$@"; do case "$a" in --workdir=*) '
                  f'echo "${{a#--workdir=}}" >> {order};; esac; done\n')
  fake.chmod(0o755)
  root = tmp_path / 'root'
  assert sweeps.run_sweep(sweep, str(root), python=str(fake), out=io.StringIO()) == 0
  started = [os.path.basename(l) for l in order.read_text().split()]
  assert started == ['k=1,seed=0', 'k=5,seed=0', 'k=50,seed=0',
                     'k=1,seed=1', 'k=5,seed=1', 'k=50,seed=1']


def launch(script, *args, env=None):
  return subprocess.run([sys.executable, os.path.join(REPO, 'launch', script), *args],
                        capture_output=True, text=True, env=dict(os.environ, **(env or {})),
                        timeout=1200, cwd=REPO)


def test_sweep_launcher_refuses_a_bad_sweep_in_one_line(tmp_path):
  result = launch('sweep.py', f'--sweep={tmp_path}/none.py', f'--root={tmp_path}/r')
  assert result.returncode == 2
  assert result.stderr.strip().startswith('error: sweep file')
  assert len(result.stderr.strip().splitlines()) == 1
  bad = write_sweep(tmp_path, "Sweep(config='configs/vae_mnist.py', settings=[{'train.lr': 1}])")
  result = launch('sweep.py', f'--sweep={bad}', f'--root={tmp_path}/r')
  assert result.returncode == 2 and 'train.lr' in result.stderr
  assert not (tmp_path / 'r').exists()


@pytest.mark.slow
def test_smoke_sweep_trains_evaluates_skips_and_reports(tmp_path, mnist_dir, tfds_dir,
                                                        mnist_arrays):
  del mnist_arrays  # the TFDS copy is prepared once, before the runs share it
  root, env = str(tmp_path / 'sweep'), {'GENJAX_DATA_DIR': mnist_dir}
  tfds = [f'--sweep={SMOKE}', f'--root={root}', '--parallel=2']
  # The runs read TFDS from the session's data dir: the sweep passes overrides only, so point
  # TFDS there through its environment variable.
  env['TFDS_DATA_DIR'] = tfds_dir
  first = launch('sweep.py', *tfds, env=env)
  assert first.returncode == 0, first.stdout + first.stderr
  assert '4 to start' in first.stdout
  assert first.stdout.count(': done in') == 4  # one progress line per run
  evals = sorted(os.path.relpath(d, root) for d, _, f in os.walk(root) if 'eval.json' in f)
  assert len(evals) == 4
  stamp = {d: os.path.getmtime(os.path.join(root, d, 'eval.json')) for d in evals}
  second = launch('sweep.py', *tfds, env=env)
  assert second.returncode == 0, second.stdout + second.stderr
  assert '4 done' in second.stdout and ': done in' not in second.stdout
  assert stamp == {d: os.path.getmtime(os.path.join(root, d, 'eval.json')) for d in evals}

  out = str(tmp_path / 'report')
  report = launch('report.py', f'--root={root}', f'--out={out}')
  assert report.returncode == 0, report.stderr
  with open(os.path.join(out, 'results.csv')) as f:
    rows = list(csv.DictReader(f))
  assert sorted((r['method'], r['seed']) for r in rows) == [
      ('iwae', '0'), ('iwae', '1'), ('vae', '0'), ('vae', '1')]
  for r in rows:
    with open(os.path.join(root, r['run'], 'eval.json')) as f:
      assert float(r['nll']) == pytest.approx(json.load(f)['nll'], rel=1e-5)
    assert r['hardware'].startswith('cpu: ') and '1 XLA thread' in r['hardware']
  with open(os.path.join(out, 'summary.csv')) as f:
    summary = list(csv.DictReader(f))
  assert [(s['method'], s['n_seeds']) for s in summary] == [('vae', '2'), ('iwae', '2')]
  assert os.path.getsize(os.path.join(out, 'summary.png')) > 10_000
  assert os.path.getsize(os.path.join(out, 'curves.png')) > 10_000


@pytest.mark.parametrize('name', sorted(
    f[:-3] for f in os.listdir(os.path.join(REPO, 'configs', 'sweeps'))
    if f.endswith('.py') and not f.startswith('_')))
def test_every_committed_sweep_builds_valid_configs(name):
  """A study that runs for hours must not stop on a misspelt key or an impossible value in its
  last setting: every run of every committed sweep builds and passes the training checks."""
  from genjax.configs_check import validate_config
  sweep = sweeps.load_sweep(os.path.join(REPO, 'configs', 'sweeps', f'{name}.py'))
  runs = sweeps.expand(sweep, '/r')
  assert len({r.workdir for r in runs}) == len(runs)
  for run in runs:
    validate_config(sweeps.build_config(sweep, run.overrides, run.config))
