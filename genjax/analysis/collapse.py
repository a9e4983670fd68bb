"""Mode collapse seen through a classifier: how the samples spread over the classes.

A generator that collapses (Goodfellow 2016's "Helvetica scenario") puts most samples in few
classes: the entropy of its class histogram falls from log(10) towards 0, the classes it covers
fall, and the largest class's share grows.
"""
import numpy as np

COVERED_SHARE = 0.01  # a class counts as covered when it holds >= 1% of the samples
KEYS = ('class_entropy', 'classes_covered', 'max_class_share')


def class_statistics(predicted, num_classes=10, covered_share=COVERED_SHARE):
  """{'class_entropy' (nats), 'classes_covered', 'max_class_share'} of predicted labels [N]."""
  counts = np.bincount(np.asarray(predicted), minlength=num_classes)[:num_classes]
  share = counts / counts.sum()
  nonzero = share[share > 0]
  return {'class_entropy': max(0.0, float(-np.sum(nonzero * np.log(nonzero)))),
          'classes_covered': int(np.sum(share >= covered_share)),
          'max_class_share': float(share.max())}


def collapse_warning(history, current, num_classes=10):
  """A warning line when the samples cover fewer classes than at an earlier evaluation of the
  run, or when one class holds over half of them; else None. `history`: the run's earlier
  class_statistics dicts, oldest first."""
  best = max([h['classes_covered'] for h in history], default=0)
  if current['classes_covered'] < best or current['max_class_share'] > 0.5:
    return (f'mode collapse? the samples cover {current["classes_covered"]} of {num_classes} '
            f'classes (largest class {current["max_class_share"]:.0%} of them, class entropy '
            f'{current["class_entropy"]:.2f} nats of {np.log(num_classes):.2f})')
  return None


def history_from_metrics(rows, prefix='test/'):
  """The class_statistics dicts a run logged (metrics.jsonl rows, oldest first), so that a
  resumed run's warnings compare with the evaluations before the resume."""
  return [{k: row[prefix + k] for k in KEYS} for row in rows
          if all(prefix + k in row for k in KEYS)]
