"""Change ``pyflink`` to ``yflink`` in a PyFlink program's imports (the only change a PyFlink program needs).

::

    python -m tests.pyflink_compat.convert job.py converted_job.py

Import statements (``from pyflink... import``, ``import pyflink...``) and qualified names that start with
``pyflink.`` are rewritten; strings and comments that merely mention PyFlink are left alone.
"""

from __future__ import annotations

import io
import sys
import tokenize
from pathlib import Path


def convert_source(source: str) -> str:
    """``source`` with every ``pyflink`` name token (a module path, not text in strings) renamed ``yflink``."""
    tokens = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string == "pyflink":
            token = token._replace(string="yflink")
        tokens.append(token)
    return tokenize.untokenize(tokens)


def convert_file(source: Path, target: Path) -> Path:
    """Write the converted ``source`` to ``target`` and return ``target``."""
    target.write_text(convert_source(Path(source).read_text()))
    return target


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m tests.pyflink_compat.convert PYFLINK_PROGRAM.py OUTPUT.py")
    convert_file(Path(sys.argv[1]), Path(sys.argv[2]))
