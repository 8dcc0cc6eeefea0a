"""Tier: one model call per task, on the tier's own queue."""
