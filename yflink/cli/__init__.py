"""The ``yflink`` command line: :func:`yflink.cli.main.main` (console script ``yflink``, also ``python -m yflink``)."""
