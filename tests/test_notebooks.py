"""The committed notebooks run end to end in a real Jupyter kernel started in their own folder,
and are committed with their outputs (figures included); the overview's printed numbers, read
from committed files, are the ones its committed outputs show."""
import os

import nbformat
import pytest

from genjax import notebooks
from tests.conftest import REPO

BOOKS = ['results/overview.ipynb', 'notebooks/latent_spaces.ipynb']


def text_outputs(notebook):
  return [out.get('text', '') for cell in notebook.cells if cell.cell_type == 'code'
          for out in cell.get('outputs', []) if out.get('output_type') == 'stream']


@pytest.mark.parametrize('path', BOOKS)
def test_committed_with_figures(path):
  notebook = nbformat.read(os.path.join(REPO, path), as_version=4)
  assert notebooks.image_outputs(notebook) >= 2
  first = notebook.cells[0]
  assert first.cell_type == 'markdown' and 'python -m genjax.notebooks' in first.source


@pytest.mark.slow  # a Jupyter kernel runs the notebook
def test_overview_runs_in_a_kernel_and_matches_its_outputs():
  path = os.path.join(REPO, BOOKS[0])
  committed = nbformat.read(path, as_version=4)
  executed = notebooks.execute(path, timeout=600, save=False)
  assert notebooks.image_outputs(executed) == notebooks.image_outputs(committed)
  assert text_outputs(executed) == text_outputs(committed)


@pytest.mark.slow
def test_latent_spaces_runs_in_a_kernel(mnist_dir, monkeypatch):
  monkeypatch.setenv('GENJAX_DATA_DIR', mnist_dir)
  executed = notebooks.execute(os.path.join(REPO, BOOKS[1]), timeout=1500, save=False)
  assert notebooks.image_outputs(executed) >= 5
  accuracy = [line for text in text_outputs(executed) for line in text.splitlines()
              if line.startswith('kNN (k=10) label accuracy in the 2-D latent')]
  assert accuracy and float(accuracy[0].rsplit(' ', 1)[1]) >= 0.6
