"""Test helpers that ship with yflink: run operators without a cluster.

:class:`~yflink.testing.harness.OneInputOperatorTestHarness` drives one operator through ``setup``,
``open``, ``process_batch``/``process_watermark``, ``end_input`` and ``close`` and collects its output.
"""

from yflink.testing.harness import CollectingOutput, OneInputOperatorTestHarness

__all__ = ["CollectingOutput", "OneInputOperatorTestHarness"]
