"""Image grids as PNG files."""
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def grid(images_NHWC, cols):
  """Tiles N images into one [rows*H, cols*W, C] array, padding with white."""
  n, h, w, c = images_NHWC.shape
  rows = -(-n // cols)
  canvas = np.ones((rows * h, cols * w, c), np.float32)
  for i, img in enumerate(images_NHWC):
    r, q = divmod(i, cols)
    canvas[r * h:(r + 1) * h, q * w:(q + 1) * w] = img
  return canvas


def save_panels(path, panels, title=''):
  """Saves side-by-side grids: `panels` is a list of (caption, images [N, H, W, C] in [0, 1])."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  # A Figure of its own, not pyplot's: training draws files without touching the backend a
  # notebook or an application has chosen.
  fig = Figure(figsize=(4 * len(panels), 4.4))
  FigureCanvasAgg(fig)
  axes = fig.subplots(1, len(panels))
  for ax, (caption, images) in zip(np.atleast_1d(axes), panels):
    canvas = grid(np.clip(np.asarray(images, np.float32), 0, 1), cols=int(np.ceil(np.sqrt(len(images)))))
    ax.imshow(canvas.squeeze(-1) if canvas.shape[-1] == 1 else canvas, cmap='gray', vmin=0, vmax=1)
    ax.set_title(caption)
    ax.axis('off')
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
