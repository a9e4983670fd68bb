"""Each committed study report equals what launch/report.py regenerates from the committed runs,
and its README shows that table: no number in results/ablations is typed by hand."""
import os

import pytest

from genjax import report
from tests.conftest import REPO

ABLATIONS = os.path.join(REPO, 'results', 'ablations')
COMMITTED = sorted(d for d in (os.listdir(ABLATIONS) if os.path.isdir(ABLATIONS) else [])
                   if os.path.isdir(os.path.join(ABLATIONS, d, 'runs')))


@pytest.mark.parametrize('name', COMMITTED)
def test_committed_report_regenerates(name, tmp_path):
  here = os.path.join(ABLATIONS, name)
  report.write_report(os.path.join(here, 'runs'), str(tmp_path))
  for table in ('results.csv', 'summary.csv', 'table.md'):
    with open(os.path.join(here, table)) as f, open(tmp_path / table) as g:
      assert f.read() == g.read(), f'{name}/{table} differs from what its runs regenerate'
  with open(os.path.join(here, 'README.md')) as f:
    readme = f.read()
  with open(tmp_path / 'table.md') as f:
    assert f'{report.BEGIN}\n{f.read()}{report.END}' in readme
