"""launch/plot.py on real smoke runs: a VAE with a 2-D latent and a DCGAN, every figure that
applies, with the numbers they report; a trained VAE's codes separate the digits."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO


def launch(script, *args):
  return subprocess.run([sys.executable, os.path.join(REPO, 'launch', script), *args],
                        capture_output=True, text=True, timeout=1800, cwd=REPO)


@pytest.fixture(scope='module')
def runs(tmp_path_factory, mnist_dir, tfds_dir, mnist_arrays):
  del mnist_arrays  # the TFDS copy is prepared first
  root = tmp_path_factory.mktemp('analysis')
  data = [f'--config.data.source_dir={mnist_dir}', f'--config.data.tfds_data_dir={tfds_dir}']
  vae = str(root / 'vae2d')
  result = launch('train.py', '--config=configs/vae_mnist.py', f'--workdir={vae}', *data,
                  '--figures',
                  '--config.model.latent_dim=2', '--config.train.num_steps=3000',
                  '--config.train.eval_every=1000', '--config.train.checkpoint_every=1000')
  assert result.returncode == 0, result.stderr[-2000:]
  gan = str(root / 'dcgan')
  result = launch('train.py', '--config=configs/dcgan_mnist.py:smoke', f'--workdir={gan}', *data,
                  '--figures',
                  '--config.train.num_steps=40', '--config.train.eval_every=20',
                  '--config.train.checkpoint_every=20', '--config.train.log_every=10')
  assert result.returncode == 0, result.stderr[-2000:]
  return vae, gan


def numbers(out, name):
  with open(os.path.join(out, f'{name}.json')) as f:
    return json.load(f)


@pytest.mark.slow
def test_training_ends_with_the_cheap_figures(runs):
  vae, gan = runs
  assert sorted(f for f in os.listdir(os.path.join(vae, 'figures')) if f.endswith('.png')) == [
      'curves.png', 'interpolation.png', 'manifold.png', 'progress.png']
  assert sorted(f for f in os.listdir(os.path.join(gan, 'figures')) if f.endswith('.png')) == [
      'curves.png', 'interpolation.png', 'mode_collapse.png', 'progress.png']


@pytest.mark.slow
def test_vae_figures(runs, tmp_path):
  vae, _ = runs
  out = str(tmp_path / 'vae')
  result = launch('plot.py', f'--workdir={vae}', '--figure=all', f'--out={out}')
  assert result.returncode == 0, result.stderr[-2000:]
  drawn = sorted(f[:-4] for f in os.listdir(out) if f.endswith('.png'))
  assert drawn == ['curves', 'interpolation', 'manifold', 'pca', 'progress', 'tsne']
  for name in drawn:
    assert os.path.getsize(os.path.join(out, f'{name}.png')) > 10_000
  assert numbers(out, 'progress')['steps'] == [1000, 2000, 3000]
  # One epoch already separates the digits in the 2-D latent and in t-SNE of it.
  assert numbers(out, 'manifold')['knn10_accuracy_latent'] >= 0.6
  tsne = numbers(out, 'tsne')
  assert tsne['knn10_accuracy'] >= 0.6 and tsne['perplexity'] == 30.0
  assert sum(numbers(out, 'pca')['explained_variance_ratio']) == pytest.approx(1.0)  # 2-D latent
  result = launch('plot.py', f'--workdir={vae}', '--figure=traversal', f'--out={out}')
  assert result.returncode == 2 and result.stderr.startswith('error: figure')


@pytest.mark.slow
def test_a_trained_vae_embeds_the_digits_apart(tmp_path, mnist_dir, tfds_dir, mnist_arrays):
  """Two epochs of the 50-D VAE: t-SNE of 2,000 test codes keeps digits together (kNN-10 label
  accuracy in the 2-D embedding >= 0.8). Measured with the same t-SNE: the untrained encoder's
  codes 0.67, one epoch 0.83, the raw pixels 0.87."""
  del mnist_arrays
  vae = str(tmp_path / 'vae')
  result = launch('train.py', '--config=configs/vae_mnist.py', f'--workdir={vae}',
                  f'--config.data.source_dir={mnist_dir}',
                  f'--config.data.tfds_data_dir={tfds_dir}', '--config.train.num_steps=6000',
                  '--config.train.eval_every=6000', '--config.train.checkpoint_every=6000')
  assert result.returncode == 0, result.stderr[-2000:]
  out = str(tmp_path / 'figures')
  result = launch('plot.py', f'--workdir={vae}', '--figure=tsne', f'--out={out}')
  assert result.returncode == 0, result.stderr[-2000:]
  tsne = numbers(out, 'tsne')
  assert tsne['num_points'] == 2000 and tsne['knn10_accuracy'] >= 0.8, tsne


@pytest.mark.slow
def test_gan_figures_and_mode_collapse_keys(runs, tmp_path):
  _, gan = runs
  with open(os.path.join(gan, 'metrics.jsonl')) as f:
    rows = [json.loads(line) for line in f if line.strip()]
  logged = [r for r in rows if 'test/classes_covered' in r]
  assert [r['step'] for r in logged] == [20, 40]
  for r in logged:
    assert 1 <= r['test/classes_covered'] <= 10 and 0 < r['test/max_class_share'] <= 1
  out = str(tmp_path / 'gan')
  result = launch('plot.py', f'--workdir={gan}', '--figure=all', f'--out={out}')
  assert result.returncode == 0, result.stderr[-2000:]
  drawn = sorted(f[:-4] for f in os.listdir(out) if f.endswith('.png'))
  assert drawn == ['curves', 'interpolation', 'mode_collapse', 'neighbors', 'pca', 'progress',
                   'tsne']
  tsne = numbers(out, 'tsne')
  assert 0 <= tsne['fraction_of_real_classes_reached'] <= 1
  assert tsne['num_points'] == 2000
  assert numbers(out, 'neighbors')['nn_distance_ratio_samples_over_test'] > 0
  bad = launch('plot.py', f'--workdir={gan}', '--figure=nope', f'--out={out}')
  assert bad.returncode == 2 and 'unknown figure' in bad.stderr


def test_eval_curves_reads_each_evaluation_folder_with_its_sample_count(tmp_path):
  """eval_curves: the run's own evaluations (evals/) and a curve at fewer samples
  (evals_2000/, launch/evaluate.py --evals_dir) drawn as separate lines, labelled with their
  sample counts; the numbers it reports are the files' values by step."""
  from genjax import results
  from genjax.analysis import figures
  run = tmp_path / 'run'
  files = {'evals': {5000: (10000, 41.5)}, 'evals_2000': {2500: (2000, 70.25), 5000: (2000, 46.0)}}
  for folder, by_step in files.items():
    (run / folder).mkdir(parents=True)
    for step, (n, fid) in by_step.items():
      (run / folder / f'step_{step:08d}.json').write_text(json.dumps(
          {'step': step, 'num_samples': n, 'fid_inception': fid, 'kid_inception': fid / 1000,
           'kid_inception_std': 0.1, 'inception_score': None}))
  (run / 'config.json').write_text(json.dumps({'seed': 0}))
  fig, numbers = figures.eval_curves([results.load_run(str(run))])
  assert numbers == {
      'evals, 10000 samples:fid_inception': {'5000': 41.5},
      'evals, 10000 samples:kid_inception': {'5000': 0.0415},
      'evals_2000, 2000 samples:fid_inception': {'2500': 70.25, '5000': 46.0},
      'evals_2000, 2000 samples:kid_inception': {'2500': 0.07025, '5000': 0.046}}
  assert len(fig.axes) == 2  # FID and KID; no precision / recall in these files
  other = tmp_path / 'other'
  (other / 'evals').mkdir(parents=True)
  (other / 'evals' / 'step_00005000.json').write_text(json.dumps(
      {'step': 5000, 'num_samples': 10000, 'fid_inception': 60.0}))
  (other / 'config.json').write_text(json.dumps({'seed': 1}))
  _, both = figures.eval_curves([results.load_run(str(run)), results.load_run(str(other))])
  assert both['other: evals, 10000 samples:fid_inception'] == {'5000': 60.0}  # runs named
  assert both['run: evals_2000, 2000 samples:fid_inception'] == {'2500': 70.25, '5000': 46.0}
  empty = tmp_path / 'empty'
  empty.mkdir()
  (empty / 'config.json').write_text(json.dumps({'seed': 0}))
  with pytest.raises(ValueError, match='no saved sample-quality evaluations'):
    figures.eval_curves([results.load_run(str(empty))])


def test_a_long_run_name_fits_the_figure_it_titles():
  """A sweep's run name (~100 characters) was clipped at both edges of progress.png's 7-inch
  title; broken after its commas it fits: the rendered title lies inside the figure, and every
  part of the name is still there, in order."""
  import matplotlib.pyplot as plt
  from genjax.analysis import figures
  name = ('name=dcgan,num_steps=10000,eval_every=2500,checkpoint_every=2500,keep_checkpoints=5,'
          'seed=0')
  text = f'{name}: fixed latents at each checkpoint'
  for fontsize in (8, 9):
    fig, ax = plt.subplots(figsize=(7, 2))
    fitted = figures._fit(text, fig, fontsize)
    assert ''.join(fitted.split()) == ''.join(text.split()) and fitted.count('\n') >= 1
    fig.canvas.draw()
    box = ax.set_title(fitted, fontsize=fontsize).get_window_extent(fig.canvas.get_renderer())
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width, (fontsize, box)
    unfitted = ax.set_title(text, fontsize=fontsize).get_window_extent(fig.canvas.get_renderer())
    assert unfitted.width > fig.bbox.width  # the failure the test is about
    plt.close(fig)
  assert figures._fit('short title', plt.figure(figsize=(7, 2)), 9) == 'short title'
