"""Test helpers that ship with yflink: run operators without a cluster.

:class:`~yflink.testing.harness.OneInputOperatorTestHarness` drives one operator through ``setup``,
``open``, ``process_batch``/``process_watermark``, ``end_input`` and ``close`` and collects its output;
:class:`~yflink.testing.harness.TwoInputOperatorTestHarness` does the same for two-input operators. Both take
and restore snapshots of keyed and operator state and set processing time by hand.
:class:`~yflink.testing.local_runner.LocalGraphRunner` runs a whole bounded job in this process.
"""

from yflink.testing.harness import CollectingOutput, OneInputOperatorTestHarness, TwoInputOperatorTestHarness
from yflink.testing.local_runner import LocalGraphRunner

__all__ = ["CollectingOutput", "LocalGraphRunner", "OneInputOperatorTestHarness", "TwoInputOperatorTestHarness"]
