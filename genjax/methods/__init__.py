"""Objectives and pure train steps, one small module per method."""
