"""Keyed and operator state: key groups, state backends, snapshots."""
