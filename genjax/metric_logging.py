"""metrics.jsonl (for notebooks) beside clu's TensorBoard writer, and a console progress line."""
import json
import os
import time

from clu import metric_writers


class JsonlLog:
  """One JSON object per logged step. On resume, rows past the restored step are dropped, so the
  file of a resumed run equals that of an uninterrupted one."""

  def __init__(self, workdir, resume_step):
    self.path = os.path.join(workdir, 'metrics.jsonl')
    rows = []
    if os.path.exists(self.path):
      with open(self.path) as f:
        for line in f:
          try:
            row = json.loads(line)
          except json.JSONDecodeError:  # a line cut short by a kill
            continue
          if row.get('step', 0) <= resume_step:
            rows.append(row)
    with open(self.path + '.tmp', 'w') as f:
      f.writelines(json.dumps(r) + '\n' for r in rows)
    os.replace(self.path + '.tmp', self.path)

  def write(self, step, scalars):
    with open(self.path, 'a') as f:
      f.write(json.dumps({'step': int(step), **{k: float(v) for k, v in scalars.items()}}) + '\n')


class Writers:
  """Writes the same scalars to metrics.jsonl and TensorBoard."""

  def __init__(self, workdir, resume_step):
    self.jsonl = JsonlLog(workdir, resume_step)
    self.tb = metric_writers.create_default_writer(workdir, asynchronous=False)

  def write_scalars(self, step, scalars):
    self.jsonl.write(step, scalars)
    self.tb.write_scalars(int(step), scalars)

  def write_hparams(self, hparams):
    self.tb.write_hparams(hparams)

  def close(self):
    self.tb.flush()
    self.tb.close()


class Progress:
  """steps/s and ETA between two reports."""

  def __init__(self, start_step, num_steps):
    self.num_steps = num_steps
    self._last_step, self._last_time = start_step, time.monotonic()

  def update(self, step):
    now = time.monotonic()
    rate = (step - self._last_step) / max(now - self._last_time, 1e-9)
    self._last_step, self._last_time = step, now
    return {'steps_per_sec': rate, 'eta_seconds': (self.num_steps - step) / max(rate, 1e-9)}
