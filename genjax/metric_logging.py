"""metrics.jsonl (for notebooks) beside clu's TensorBoard writer, and a console progress line.

clu's writers import TensorFlow. Where it is not installed (a GPU image with JAX alone), TensorBoard
files are skipped with one warning per process; metrics.jsonl and eval.json still hold every number.
"""
import json
import os
import time

from absl import logging

_warned_no_tensorboard = False


def clu_metric_writers():
  """clu.metric_writers, or None (after one warning per process) where it cannot be imported."""
  global _warned_no_tensorboard
  try:
    from clu import metric_writers
  except ImportError as e:
    if not _warned_no_tensorboard:
      _warned_no_tensorboard = True
      logging.warning('TensorBoard files skipped: clu\'s writers need TensorFlow, which could not '
                      'be imported (%s). metrics.jsonl and eval.json still hold every number.', e)
    return None
  return metric_writers


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
      f.write(json.dumps({'step': int(step), **{k: int(v) if k == 'seed' else float(v)
                                                 for k, v in scalars.items()}}) + '\n')


def trim_tensorboard(workdir, resume_step):
  """On resume: the run's earlier event files merged into one holding only steps <= resume_step
  (what a killed run logged past its checkpoint is logged again, and must not appear twice)."""
  import glob

  import tensorflow as tf
  from tensorboard.compat.proto import event_pb2
  paths = sorted(glob.glob(os.path.join(workdir, 'events.out.tfevents.*')))
  if not paths:
    return
  kept = []
  for path in paths:
    try:
      for record in tf.data.TFRecordDataset(path):
        event = event_pb2.Event.FromString(record.numpy())
        if event.step <= resume_step:
          kept.append(event)
    except tf.errors.DataLossError:  # a record cut short by a kill: the rest of that file is lost
      pass
  merged = os.path.join(workdir, f'events.out.tfevents.0000000000.history.{os.getpid()}.v2')
  with tf.io.TFRecordWriter(merged + '.tmp') as w:
    for event in sorted(kept, key=lambda e: (e.step, e.wall_time)):
      w.write(event.SerializeToString())
  os.replace(merged + '.tmp', merged)
  for path in paths:
    if path != merged:
      os.remove(path)


class Writers:
  """Writes the same scalars to metrics.jsonl and TensorBoard. The console gets one line per log
  step from the training loop (no clu LoggingWriter: it would print each step a second time and
  the hyper-parameters as one long line)."""

  def __init__(self, workdir, resume_step):
    self.jsonl = JsonlLog(workdir, resume_step)
    metric_writers = clu_metric_writers()
    self.tb = None
    if metric_writers is not None:
      if resume_step:
        trim_tensorboard(workdir, resume_step)
      self.tb = metric_writers.SummaryWriter(workdir)

  def write_scalars(self, step, scalars):
    """A row; one with a `seed` (a run of several vmapped seeds) goes to TensorBoard as
    seed_S/NAME, one curve per seed."""
    self.jsonl.write(step, scalars)
    if self.tb is not None:
      if 'seed' in scalars:
        seed = int(scalars['seed'])
        scalars = {f'seed_{seed}/{k}': v for k, v in scalars.items() if k != 'seed'}
      self.tb.write_scalars(int(step), scalars)

  def write_hparams(self, hparams):
    if self.tb is not None:
      self.tb.write_hparams(hparams)

  def close(self):
    if self.tb is not None:
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
