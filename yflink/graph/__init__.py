"""Transformations -> StreamGraph -> JobGraph (chaining), and the partitioners on the edges."""
