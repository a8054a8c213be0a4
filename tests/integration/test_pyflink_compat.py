"""PyFlink-style programs run with ``yflink run`` print what PyFlink prints.

Each ``tests/pyflink_compat/programs/<name>.py`` is written the way PyFlink programs are (PyFlink's examples
and documentation snippets, with ``pyflink`` imports changed to ``yflink``); ``<name>.out`` holds the lines
PyFlink prints, derived from Flink's documented semantics (each file's comments say how). Lines are compared
as a multiset after dropping the ``N> `` subtask prefix, since subtasks interleave. On the standalone cluster
the job's prints land in the TaskManagers' ``.out`` files and the client's own prints on its stdout, as in Flink.

``YFLINK_PYFLINK_EXAMPLES=<flink>/flink-python/pyflink/examples/datastream`` also runs PyFlink's own examples
(imports rewritten on the fly by :mod:`tests.pyflink_compat.convert`) against the outputs in
:data:`tests.pyflink_compat.expected.PYFLINK_EXAMPLES`.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.conftest import Cluster, strip_subtask_prefix
from tests.pyflink_compat.convert import convert_file
from tests.pyflink_compat.expected import PYFLINK_EXAMPLES

pytestmark = pytest.mark.integration

PROGRAMS = Path(__file__).resolve().parents[1] / "pyflink_compat" / "programs"


def expected_lines(path: Path) -> Counter[str]:
    return Counter(line for line in path.read_text().splitlines() if line.strip() and not line.startswith("# "))


def printed_lines(cluster: Cluster, result: object) -> Counter[str]:
    """What the program printed: the client's stdout, plus the TaskManagers' on a standalone cluster."""
    stdout: str = result.stdout  # type: ignore[attr-defined]
    text = stdout + ("\n" + result.job_output if cluster.mode == "standalone" else "")  # type: ignore[attr-defined]
    return Counter(strip_subtask_prefix(line) for line in text.splitlines()
                   if line.strip() and not line.startswith("Job has been submitted"))


@pytest.mark.parametrize("name", sorted(p.stem for p in PROGRAMS.glob("*.py")))
def test_program_prints_what_pyflink_prints(cluster: Cluster, name: str) -> None:
    result = cluster.run(PROGRAMS / f"{name}.py")
    assert result.returncode == 0, result.stderr
    assert printed_lines(cluster, result) == expected_lines(PROGRAMS / f"{name}.out")


@pytest.mark.skipif(not os.environ.get("YFLINK_PYFLINK_EXAMPLES"),
                    reason="set YFLINK_PYFLINK_EXAMPLES to flink-python/pyflink/examples/datastream")
@pytest.mark.parametrize("example", sorted(PYFLINK_EXAMPLES))
def test_pyflink_example_with_imports_changed(cluster: Cluster, example: str, tmp_path: Path) -> None:
    source = Path(os.environ["YFLINK_PYFLINK_EXAMPLES"]) / example
    if not source.exists():
        pytest.skip(f"{source} not found")
    converted = convert_file(source, tmp_path / source.name)
    result = cluster.run(converted)
    assert result.returncode == 0, result.stderr
    assert printed_lines(cluster, result) == Counter(PYFLINK_EXAMPLES[example])
