"""Deployments: the embedded local cluster, standalone clusters (later: YARN)."""
