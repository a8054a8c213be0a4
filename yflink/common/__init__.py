"""Classes shared by the DataStream API and the runtime (PyFlink ``pyflink.common``).

``from yflink.common import Configuration, Row, Types, WatermarkStrategy, Duration`` works as in PyFlink.
``Encoder`` and ``SimpleStringSchema`` live in :mod:`yflink.common.serialization` and are re-exported here
lazily, so this package imports nothing of the connectors.
"""

from typing import Any

from yflink.common.configuration import Configuration
from yflink.common.execution_config import ExecutionConfig
from yflink.common.job_execution_result import JobExecutionResult
from yflink.common.time import Duration, Instant, Time
from yflink.common.typeinfo import TypeInformation, Types
from yflink.common.types import Row, RowKind
from yflink.common.watermark_strategy import TimestampAssigner, WatermarkStrategy

__all__ = [
    "CompletableFuture",
    "Configuration",
    "DeserializationSchema",
    "Duration",
    "Encoder",
    "ExecutionConfig",
    "Instant",
    "JobClient",
    "JobExecutionResult",
    "JobID",
    "JobStatus",
    "Row",
    "RowKind",
    "SerializationSchema",
    "SimpleStringSchema",
    "Time",
    "TimestampAssigner",
    "TypeInformation",
    "Types",
    "WatermarkStrategy",
]

_LAZY = {"Encoder": "yflink.common.serialization", "SimpleStringSchema": "yflink.common.serialization",
         "SerializationSchema": "yflink.common.serialization", "DeserializationSchema": "yflink.common.serialization",
         "CompletableFuture": "yflink.common.job_client", "JobClient": "yflink.common.job_client",
         "JobStatus": "yflink.common.job_client", "JobID": "yflink.common.ids"}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'yflink.common' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(module_name), name)
