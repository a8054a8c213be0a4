"""``python -m yflink``: the ``yflink`` command line."""

from yflink.cli.main import main

if __name__ == "__main__":
    main()
