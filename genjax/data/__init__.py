"""Datasets: TFDS (online or prepared from local original files) and on-device batching."""
from genjax.data.loading import load_split

__all__ = ["load_split"]
