"""Small PyFlink API details that PyFlink programs rely on, found by running PyFlink's own examples
(``flink-python/pyflink/examples/datastream``) with their imports changed to yflink.

Source: PyFlink ``pyflink/datastream/functions.py`` (the window and broadcast functions are ``Generic``;
``IN``, ``OUT``, ``KEY``, ``W`` ... are importable type variables).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from yflink.datastream import ProcessWindowFunction, WindowFunction
from yflink.datastream.functions import (
    IN,
    KEY,
    OUT,
    AllWindowFunction,
    BroadcastProcessFunction,
    KeyedBroadcastProcessFunction,
    ProcessAllWindowFunction,
    W,
)
from yflink.datastream.window import CountWindow, TimeWindow


def test_window_functions_are_generic_as_in_pyflink() -> None:
    class Count(ProcessWindowFunction[tuple, tuple, str, TimeWindow]):
        def process(self, key: str, context: ProcessWindowFunction.Context[TimeWindow],
                    elements: Iterable[tuple]) -> Iterable[tuple]:
            return [(key, context.window().start, len(list(elements)))]

    class Sum(WindowFunction[tuple, tuple, str, CountWindow]):
        def apply(self, key: str, window: CountWindow, inputs: Iterable[tuple]) -> Iterable[tuple]:
            return [(key, sum(i[0] for i in inputs))]

    class PassThrough(AllWindowFunction[IN, IN, W]):
        def apply(self, window: Any, inputs: Iterable[Any]) -> Iterable[Any]:
            yield from inputs

    assert isinstance(Count(), ProcessWindowFunction)
    assert list(Sum().apply("a", CountWindow(0), [(1,), (2,)])) == [("a", 3)]
    assert list(PassThrough().apply(None, [1, 2])) == [1, 2]
    assert ProcessAllWindowFunction[int, int, TimeWindow].Context[TimeWindow] is not None
    assert BroadcastProcessFunction[int, str, OUT] is not None
    assert KeyedBroadcastProcessFunction[KEY, int, str, OUT] is not None


def test_partition_custom_sends_each_key_to_its_partition() -> None:
    """Flink documentation, "Operators" > Physical Partitioning > Custom Partitioning."""
    import pytest

    from yflink.common.errors import GraphError
    from yflink.datastream import Partitioner, StreamExecutionEnvironment
    from yflink.datastream.functions import KeySelector, ProcessFunction
    from yflink.testing.local_runner import LocalGraphRunner

    class ByKey(Partitioner):
        def partition(self, key: Any, num_partitions: int) -> int:
            return int(key) % num_partitions

    class First(KeySelector):
        def get_key(self, value: Any) -> Any:
            return value[0]

    class WhereAmI(ProcessFunction):
        def open(self, runtime_context: Any) -> None:
            self.index = runtime_context.get_index_of_this_subtask()

        def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Iterable[Any]:
            yield value[0], self.index

    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(3)
    data = env.from_collection([(i, "x") for i in range(12)])
    with_class = data.partition_custom(ByKey(), First()).process(WhereAmI())
    with_lambda = data.partition_custom(lambda key, n: (key + 1) % n, lambda v: v[0]).process(WhereAmI())
    runner = LocalGraphRunner(env.get_stream_graph()).run()
    assert sorted(runner.values_of(with_class)) == [(i, i % 3) for i in range(12)]
    assert sorted(runner.values_of(with_lambda)) == [(i, (i + 1) % 3) for i in range(12)]
    with pytest.raises(GraphError, match="Cannot override partitioning for KeyedStream"):
        data.key_by(lambda v: v[0]).partition_custom(ByKey(), First())
    with pytest.raises(TypeError):
        data.partition_custom(3, First())  # type: ignore[arg-type]


def test_type_serializer_is_generic_and_pickles_by_default() -> None:
    import io

    from yflink.common.serializer import TypeSerializer, VoidNamespace, VoidNamespaceSerializer

    class Windows(TypeSerializer[TimeWindow]):
        pass

    buffer = io.BytesIO()
    Windows().serialize(TimeWindow(0, 5), buffer)
    buffer.seek(0)
    assert Windows().deserialize(buffer) == TimeWindow(0, 5)
    assert Windows() == Windows()
    assert VoidNamespaceSerializer().deserialize(io.BytesIO()) == VoidNamespace()


def test_project_keeps_the_chosen_tuple_fields() -> None:
    """Flink ``DataStream.project`` (PyFlink ``project(*field_indexes)``): Tuple streams only."""
    import pytest

    from yflink.common import Types
    from yflink.datastream import StreamExecutionEnvironment
    from yflink.testing.local_runner import LocalGraphRunner

    env = StreamExecutionEnvironment.get_execution_environment()
    rows = env.from_collection([(1, "a", 2.5), (2, "b", 3.5)],
                               type_info=Types.TUPLE([Types.INT(), Types.STRING(), Types.DOUBLE()]))
    projected = rows.project(2, 0)
    assert projected.get_type() == Types.TUPLE([Types.DOUBLE(), Types.INT()])
    assert projected.get_name() == "Projection"
    assert sorted(LocalGraphRunner(env.get_stream_graph()).run().values_of(projected)) == [(2.5, 1), (3.5, 2)]
    with pytest.raises(IndexError):
        rows.project(3)
    with pytest.raises(TypeError, match="only supports Tuple"):
        env.from_collection([1, 2]).project(0)


def test_stream_time_characteristic_of_flink_1x_switches_periodic_watermarks() -> None:
    """Flink 1.12+ ``setStreamTimeCharacteristic``: event time by default; ProcessingTime sets the auto-watermark
    interval to 0, the others to 200 ms."""
    from yflink.datastream import StreamExecutionEnvironment, TimeCharacteristic

    env = StreamExecutionEnvironment.get_execution_environment()
    assert env.get_stream_time_characteristic() is TimeCharacteristic.EventTime
    env.set_stream_time_characteristic(TimeCharacteristic.ProcessingTime)
    assert env.get_config().get_auto_watermark_interval() == 0
    env.set_stream_time_characteristic(TimeCharacteristic.EventTime)
    assert env.get_config().get_auto_watermark_interval() == 200
    assert env.get_stream_time_characteristic() is TimeCharacteristic.EventTime


def test_job_client_answers_with_futures_as_pyflinks() -> None:
    """PyFlink ``JobClient``: ``get_job_status()``/``get_job_execution_result()``/``cancel()`` return futures."""
    import pytest

    from yflink.common import CompletableFuture, JobClient, JobExecutionResult, JobID, JobStatus

    class Direct:
        cancelled = False

        def get_job_id(self) -> str:
            return "ab" * 16

        def get_job_status(self) -> str:
            return "CANCELLING" if self.cancelled else "RUNNING"

        def cancel(self) -> None:
            self.cancelled = True

        def get_job_execution_result(self) -> JobExecutionResult:
            raise RuntimeError("job failed")

    client = JobClient(Direct())
    assert client.get_job_id() == JobID("ab" * 16) and str(client.get_job_id()) == "ab" * 16
    running = client.get_job_status()
    assert not running.done() and running.result() is JobStatus.RUNNING and running.done()
    assert client.cancel().result() is None
    assert client.get_job_status().result() is JobStatus.CANCELLING
    failed = client.get_job_execution_result()
    assert isinstance(failed.exception(), RuntimeError)
    with pytest.raises(RuntimeError, match="job failed"):
        failed.result()
    assert CompletableFuture(lambda: 3).result() == 3
    assert JobStatus.FAILED.is_globally_terminal_state() and JobStatus.SUSPENDED.is_terminal_state()
    assert not JobStatus.SUSPENDED.is_globally_terminal_state()
