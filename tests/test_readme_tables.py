"""The tables the older results READMEs show equal what `python -m genjax.readme_tables` makes
from the committed files, and those files agree with the runs committed beside them: no number in
results/{iwae_mnist,adversarial,evaluation,infogan_mnist}/README.md tables is typed by hand."""
import csv
import json
import os

import pytest

from genjax import readme_tables
from tests.conftest import REPO

RESULTS = REPO / 'results'


@pytest.mark.parametrize('name', sorted(readme_tables.TABLES))
def test_committed_table_equals_what_its_files_give(name):
  assert readme_tables.committed(name) == readme_tables.TABLES[name][1](), (
      f'{name}: run python -m genjax.readme_tables')


def test_check_mode_finds_a_table_edited_by_hand(tmp_path, monkeypatch, capsys):
  copy = tmp_path / 'results'
  (copy / 'iwae_mnist').mkdir(parents=True)
  for f in ('README.md', 'results.csv'):
    (copy / 'iwae_mnist' / f).write_text((RESULTS / 'iwae_mnist' / f).read_text())
  monkeypatch.setattr(readme_tables, 'RESULTS', str(copy))
  monkeypatch.setattr(readme_tables, 'TABLES', {'iwae_mnist': readme_tables.TABLES['iwae_mnist']})
  assert readme_tables.main(['--check']) == 0
  readme = copy / 'iwae_mnist' / 'README.md'
  readme.write_text(readme.read_text().replace('| 91.84 |', '| 90.84 |'))
  assert readme_tables.main(['--check']) == 1
  assert 'iwae_mnist differs' in capsys.readouterr().out
  assert readme_tables.main([]) == 0 and '| 91.84 |' in readme.read_text()


def test_gan_sample_quality_rows_equal_the_committed_eval_files():
  """mnist_sample_quality.csv's GAN rows, as make_sample_quality_table.py rounds them, from the
  eval.json files committed in gan_family_mnist/."""
  with open(RESULTS / 'evaluation' / 'mnist_sample_quality.csv', newline='') as f:
    rows = {r['run']: r for r in csv.DictReader(f)}
  evals = sorted(os.listdir(RESULTS / 'evaluation' / 'gan_family_mnist'))
  evals = [e for e in evals if e.endswith('_eval.json')]
  assert len(evals) == 4
  for name in evals:
    with open(RESULTS / 'evaluation' / 'gan_family_mnist' / name) as f:
      result = json.load(f)
    row = rows[name[:-len('_eval.json')]]
    for m in ('fid', 'kid', 'precision', 'recall', 'density', 'coverage'):
      assert float(row[m]) == round(result[f'{m}_mnist_classifier'], 4), (name, m)
    assert float(row['classifier_score']) == round(result['classifier_score'], 3)
    assert float(row['class_histogram_min']) == min(result['class_histogram'])


def test_vae_iwae_sample_quality_nll_equals_the_likelihood_table():
  with open(RESULTS / 'iwae_mnist' / 'results.csv', newline='') as f:
    nll = {f"{r['method']}_k{r['k']}_l{r['layers']}_e20_s{r['seed']}": float(r['nll'])
           for r in csv.DictReader(f)}
  with open(RESULTS / 'evaluation' / 'vae_iwae_sample_quality.csv', newline='') as f:
    quality = list(csv.DictReader(f))
  assert sorted(r['run'] for r in quality) == sorted(nll)
  for r in quality:
    assert float(r['nll']) == nll[r['run']]


def test_infogan_results_csv_equals_its_runs():
  """results.csv's accuracies are the eval.json of the committed runs of the committed config."""
  with open(RESULTS / 'infogan_mnist' / 'results.csv', newline='') as f:
    table = sorted((r['hardware'].startswith('NVIDIA'), int(r['seed']),
                    float(r['categorical_accuracy'])) for r in csv.DictReader(f))
  runs = []
  for label, run in readme_tables._infogan_runs():
    runs.append((label.startswith('H200'), run.config['seed'], run.eval['categorical_accuracy']))
  assert table == sorted(runs)
