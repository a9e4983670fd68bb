"""Each committed study report equals what launch/report.py regenerates from the committed runs,
and its README shows that table: no number in results/ablations or results/cifar10 is typed by
hand (results/cifar10/README.md shows its table through genjax.readme_tables, from these files)."""
import os

import pytest

from genjax import report
from tests.conftest import REPO

RESULTS = os.path.join(REPO, 'results')
ABLATIONS = os.path.join(RESULTS, 'ablations')
COMMITTED = sorted(os.path.join('ablations', d)
                   for d in (os.listdir(ABLATIONS) if os.path.isdir(ABLATIONS) else [])
                   if os.path.isdir(os.path.join(ABLATIONS, d, 'runs')))
COMMITTED += ['cifar10'] if os.path.isdir(os.path.join(RESULTS, 'cifar10', 'runs')) else []


@pytest.mark.parametrize('name', COMMITTED)
def test_committed_report_regenerates(name, tmp_path):
  here = os.path.join(RESULTS, name)
  report.write_report(os.path.join(here, 'runs'), str(tmp_path))
  for table in ('results.csv', 'summary.csv', 'table.md'):
    with open(os.path.join(here, table)) as f, open(tmp_path / table) as g:
      assert f.read() == g.read(), f'{name}/{table} differs from what its runs regenerate'
  if name.startswith('ablations'):
    with open(os.path.join(here, 'README.md')) as f:
      readme = f.read()
    with open(tmp_path / 'table.md') as f:
      assert f'{report.BEGIN}\n{f.read()}{report.END}' in readme
