"""Damage and comparisons that the hardening tests and results/reliability.py share: flipped bytes
in a checkpoint's largest file, and metrics.jsonl rows without their wall-clock columns."""
import json
import os

TIMING = ('time', 'per_sec', '/s', 'eta', 'seconds')


def flip_middle(path, count=256):
  """Inverts `count` bytes in the middle of the file at path (a damaged disk or copy)."""
  size = os.path.getsize(path)
  with open(path, 'r+b') as f:
    f.seek(size // 2)
    data = f.read(count)
    f.seek(size // 2)
    f.write(bytes(b ^ 0xFF for b in data))


def largest_file(directory):
  """The largest file below directory: in a checkpoint, one holding array data."""
  files = [os.path.join(r, n) for r, _, names in os.walk(directory) for n in names]
  return max(files, key=os.path.getsize)


def metrics_rows(path):
  """{step: row} from a metrics.jsonl, without the columns that measure wall-clock time (equal
  runs differ only there)."""
  out = {}
  with open(path) as f:
    for line in f:
      if line.strip():
        r = json.loads(line)
        out[r['step']] = {k: v for k, v in r.items() if not any(w in k for w in TIMING)}
  return out
