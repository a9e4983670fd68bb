"""Runs notebooks in a Jupyter kernel started in each notebook's own folder and saves them with
their outputs: python -m genjax.notebooks results/overview.ipynb notebooks/latent_spaces.ipynb"""
import os
import sys


def execute(path, timeout=1800, save=True):
  """Executes every cell of the notebook at `path` (cwd: its folder); returns the notebook.
  Raises nbclient's CellExecutionError on the first failing cell."""
  import nbformat
  from nbclient import NotebookClient
  notebook = nbformat.read(path, as_version=4)
  client = NotebookClient(notebook, timeout=timeout, kernel_name='python3',
                          resources={'metadata': {'path': os.path.dirname(path) or '.'}})
  client.execute()
  if save:
    nbformat.write(notebook, path)
  return notebook


def image_outputs(notebook):
  return sum('image/png' in out.get('data', {}) for cell in notebook.cells
             if cell.cell_type == 'code' for out in cell.get('outputs', []))


def main(paths):
  for path in paths:
    notebook = execute(path)
    print(f'{path}: {len(notebook.cells)} cells run, {image_outputs(notebook)} figures')


if __name__ == '__main__':
  main(sys.argv[1:] or ['results/overview.ipynb', 'notebooks/latent_spaces.ipynb'])
