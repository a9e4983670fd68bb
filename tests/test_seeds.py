"""Seeds as an axis (train.num_seeds): seed i of an S-seed run is the run of seed i on its own,
for IWAE and for a GAN with BatchNorm; an S-seed run resumes exactly; evaluation and
genjax.results read it as S runs; sweeps can stack their seeds."""
import json
import os

import jax
import numpy as np
import pytest

from genjax import evaluate, results, sweeps
from genjax.experiments import seeds as seeds_lib
from genjax.train import train_and_evaluate
from tests.test_adversarial_train import rows, smoke_config

STEPS = dict(num_steps=12, log_every=3, checkpoint_every=6, eval_every=12)
CONFIGS = {'iwae_mnist': {}, 'dcgan_mnist': {}}  # IWAE; DCGAN: BatchNorm in G and D


def config_for(name, mnist_dir, tfds_dir, **overrides):
  config = smoke_config(name, mnist_dir, tfds_dir, **STEPS)
  config.seed = 3
  if name == 'iwae_mnist':
    config.eval.update(metrics='nll', nll_num_samples=20, nll_chunk=20, nll_test_examples=40)
  config.update_from_flattened_dict(overrides)
  return config


def final_state(workdir):
  return evaluate.restore_run(workdir)[1]


@pytest.fixture(scope='module')
def separate(tmp_path_factory, mnist_dir, tfds_dir, mnist_arrays):
  """name -> {seed: workdir} of one-seed runs of seeds 3 and 4."""
  del mnist_arrays
  out = {}
  for name in CONFIGS:
    out[name] = {}
    for seed in (3, 4):
      workdir = str(tmp_path_factory.mktemp(f'{name}_seed{seed}'))
      train_and_evaluate(config_for(name, mnist_dir, tfds_dir, seed=seed), workdir)
      out[name][seed] = workdir
  return out


@pytest.fixture(scope='module')
def stacked(tmp_path_factory, mnist_dir, tfds_dir, mnist_arrays):
  """name -> workdir of a 2-seed run (seeds 3 and 4) on the default CPU seed axis (scan)."""
  del mnist_arrays
  out = {}
  for name in CONFIGS:
    workdir = str(tmp_path_factory.mktemp(f'{name}_stacked'))
    train_and_evaluate(config_for(name, mnist_dir, tfds_dir, **{'train.num_seeds': 2}), workdir)
    out[name] = workdir
  return out


def strip_seed(logged):
  return [{k: v for k, v in r.items() if k != 'seed'} for r in logged]


@pytest.mark.slow  # trains six short runs
@pytest.mark.parametrize('name', list(CONFIGS))
def test_each_seed_of_a_stacked_run_is_its_own_run(name, separate, stacked):
  logged = rows(stacked[name])
  assert {r['seed'] for r in logged} == {3, 4}
  state = final_state(stacked[name])
  for index, seed in enumerate((3, 4)):
    own = rows(separate[name][seed])
    mine = strip_seed([r for r in logged if r['seed'] == seed])
    assert [r['step'] for r in mine] == [r['step'] for r in own]
    alone = final_state(separate[name][seed])
    ours = seeds_lib.member(state, index)
    if name == 'iwae_mnist':  # every logged number and array, bit for bit
      assert mine == own
      for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(alone)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    else:  # the loop body's BatchNorm step rounds a few last bits differently (training rows
      # ~3e-8 relative, the quick evaluation's D outputs on test images up to ~7e-6)
      for a, b in zip(mine, own):
        assert a.keys() == b.keys()
        for k, v in b.items():
          assert a[k] == pytest.approx(v, rel=1e-4, abs=1e-7), (a['step'], k)
      # A bias before BatchNorm has a true gradient of 0: what is computed is rounding noise,
      # which Adam turns into steps of up to the learning rate (2e-4) either way. Those leaves
      # differ by up to 12 such steps; every other leaf (kernels ~N(0, 0.02) at initialization,
      # different for another seed) stays within that too.
      for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(alone)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-3, atol=12 * 2e-4)
  # and the two seeds are different runs
  first = [r for r in logged if r['seed'] == 3]
  second = [r for r in logged if r['seed'] == 4]
  assert first[-1] != {**second[-1], 'seed': 3}


@pytest.mark.slow
def test_vmapped_seeds_are_close_to_their_own_runs(tmp_path, mnist_dir, tfds_dir, separate):
  """vmap batches each operation over the seeds: the same runs up to float rounding, which a
  few steps do not amplify beyond a relative 1e-3."""
  config = config_for('iwae_mnist', mnist_dir, tfds_dir, **{'train.num_seeds': 2,
                                                             'train.seed_axis': 'vmap',
                                                             'train.num_steps': 6})
  train_and_evaluate(config, str(tmp_path))
  logged = rows(str(tmp_path))
  for seed in (3, 4):
    own = {r['step']: r for r in rows(separate['iwae_mnist'][seed]) if 'loss' in r}
    mine = [r for r in logged if r['seed'] == seed and 'loss' in r]
    assert [r['step'] for r in mine] == [3, 6]
    for r in mine:
      for key in ('elbo', 'iwae_bound', 'loss'):
        assert r[key] == pytest.approx(own[r['step']][key], rel=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize('name', list(CONFIGS))
def test_a_stacked_run_resumes_exactly(name, tmp_path, mnist_dir, tfds_dir, stacked):
  config = config_for(name, mnist_dir, tfds_dir, **{'train.num_seeds': 2, 'train.num_steps': 6})
  resumed = str(tmp_path)
  train_and_evaluate(config, resumed)
  config.train.num_steps = 12
  train_and_evaluate(config, resumed)
  train_rows = lambda w: [r for r in rows(w) if 'steps_per_sec' not in r and (
      'loss' in r or 'g_loss' in r)]
  assert train_rows(resumed) == train_rows(stacked[name])  # bit for bit, BatchNorm included
  for a, b in zip(jax.tree.leaves(final_state(resumed)), jax.tree.leaves(final_state(stacked[name]))):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.slow
def test_evaluation_and_results_read_a_stacked_run_as_runs(separate, stacked, mnist_dir):
  workdir = stacked['iwae_mnist']
  result = evaluate.evaluate(workdir, source_dir=mnist_dir)
  assert result['num_seeds'] == 2 and [r['seed'] for r in result['seeds']] == [3, 4]
  with open(os.path.join(workdir, 'eval.json')) as f:
    assert json.load(f)['seeds'] == result['seeds']
  own = evaluate.evaluate(separate['iwae_mnist'][4], source_dir=mnist_dir)
  mine = result['seeds'][1]
  numbers = [k for k, v in own.items() if isinstance(v, float) and 'seconds' not in k]
  assert 'nll' in numbers
  assert {k: mine[k] for k in numbers} == {k: own[k] for k in numbers}
  # genjax.results: one Run per seed, each read as the run of that seed alone would be
  runs = results.find_runs(workdir)  # not its parent: pytest's base folder holds other tests' runs
  ours = [r for r in runs if r.workdir == workdir]
  assert [r.seed for r in ours] == [3, 4] and [r.config['seed'] for r in ours] == [3, 4]
  assert all(r.workdir_seeds == 2 and r.config['train']['num_seeds'] == 1 for r in ours)
  alone = results.load_run(separate['iwae_mnist'][4])
  assert [r['step'] for r in ours[1].metrics] == [r['step'] for r in alone.metrics]
  assert ours[1].curve('elbo')[1].tolist() == alone.curve('elbo')[1].tolist()
  assert ours[1].eval['nll'] == own['nll'] and ours[1].eval['step'] == own['step']
  assert ours[0].eval['nll'] != ours[1].eval['nll']


def test_sweeps_stack_consecutive_seeds_into_one_run(tmp_path):
  sweep = sweeps.Sweep(config='configs/iwae_mnist.py:smoke',
                       settings=sweeps.product({'method.name': ['vae', 'iwae']}),
                       seeds=(0, 1, 2), stack_seeds=True)
  specs = sweeps.expand(sweep, str(tmp_path))
  assert [s.name for s in specs] == ['name=vae,seeds=0-2', 'name=iwae,seeds=0-2']
  assert specs[0].overrides == {'method.name': 'vae', 'seed': 0, 'train.num_seeds': 3}
  config = sweeps.build_config(sweep, specs[1].overrides)
  assert config.train.num_seeds == 3 and config.seed == 0
  path = tmp_path / 'gappy.py'
  path.write_text('from genjax.sweeps import Sweep\n'
                  'def get_sweep():\n'
                  '  return Sweep(config="configs/iwae_mnist.py:smoke", settings=[{}],\n'
                  '               seeds=(0, 2), stack_seeds=True)\n')
  with pytest.raises(sweeps.ConfigError, match='not consecutive'):
    sweeps.load_sweep(str(path))


def test_the_fast_check_knows_the_seed_axes():
  from genjax import configs_check
  assert tuple(configs_check.SEED_AXES) == seeds_lib.SEED_AXES


@pytest.mark.slow
def test_end_figures_are_drawn_for_each_seed(stacked):
  from genjax.analysis import plotting, restore
  workdir = stacked['iwae_mnist']
  plotting.end_of_training_figures(workdir)
  for seed in (3, 4):
    drawn = os.listdir(os.path.join(workdir, f'seed_{seed}', 'figures'))
    assert 'curves.png' in drawn and 'interpolation.png' in drawn
  second = restore.restore(workdir, seed=4)
  assert second.run.seed == 4 and second.step == 12
  alone = seeds_lib.member(final_state(workdir), 1)
  for a, b in zip(jax.tree.leaves(second.state), jax.tree.leaves(alone)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  assert jax.tree.leaves(second.at(6).state)[0].shape == jax.tree.leaves(alone)[0].shape
