"""Checkpoints and savepoints: the pure foundations the tasks and the JobMaster are wired to.

Modules, by responsibility:

* :mod:`~yflink.checkpoint.options`: a job's checkpoint settings (Flink's keys, validated once);
* :mod:`~yflink.checkpoint.barriers`: the in-band events, ``CheckpointBarrier`` and ``CancelCheckpointMarker``;
* :mod:`~yflink.checkpoint.barrier_handler`: barrier alignment (exactly-once) and tracking (at-least-once) at a
  task's input, as a pure state machine;
* :mod:`~yflink.checkpoint.handles`, :mod:`~yflink.checkpoint.metadata`: state handles and the versioned
  ``_metadata`` format;
* :mod:`~yflink.checkpoint.storage`, :mod:`~yflink.checkpoint.shared_registry`: Flink's directory layout on one
  filesystem interface (:mod:`yflink.fs`), reference counting of shared (incremental) files;
* :mod:`~yflink.checkpoint.coordinator` (+ ``pending``, ``store``, ``failure_manager``): the JobMaster's
  CheckpointCoordinator as a pure state machine, and :mod:`~yflink.checkpoint.driver` running it on asyncio;
* :mod:`~yflink.checkpoint.assignment`, :mod:`~yflink.checkpoint.task_state`, :mod:`~yflink.checkpoint.operator_ids`:
  restore, with rescaling, by stable operator id;
* :mod:`~yflink.checkpoint.restart_strategy`: none, fixed-delay, failure-rate, exponential-delay.

See docs/architecture.md, "Checkpointing (foundations)".
"""
