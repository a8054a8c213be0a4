"""Every DataStream operator through the test harness: outputs, timestamps, state, timers, errors, print."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from yflink.common import Row, Types, WatermarkStrategy
from yflink.common.execution_config import GLOBAL_JOB_PARAMETERS
from yflink.datastream import (
    FilterFunction,
    FlatMapFunction,
    KeyedProcessFunction,
    ListStateDescriptor,
    MapFunction,
    MapStateDescriptor,
    ProcessFunction,
    ReduceFunction,
    RuntimeContext,
    SinkFunction,
    SourceFunction,
    TimeDomain,
    ValueStateDescriptor,
)
from yflink.datastream.connectors.collection import CollectionSource
from yflink.streaming.operators.process import KeyedProcessOperator, ProcessOperator
from yflink.streaming.operators.reduce import AggregationFunction, AggregationType, StreamGroupedReduce
from yflink.streaming.operators.simple import (
    PrintSinkOperator,
    SinkFunctionOperator,
    StreamFilter,
    StreamFlatMap,
    StreamMap,
    TimestampsAndWatermarksOperator,
    print_prefix,
)
from yflink.streaming.operators.sources import SourceFunctionOperator, WatermarkingSourceOperator
from yflink.streaming.operators.udf import MAX_WATERMARK, MIN_WATERMARK, UserFunctionError
from yflink.testing import OneInputOperatorTestHarness as Harness


def run(operator: Any, values: list[Any], timestamps: list[int] | None = None, **kwargs: Any) -> Harness:
    harness = Harness(operator, **kwargs)
    harness.open()
    harness.process_elements(values, timestamps)
    harness.end_input()
    harness.close()
    return harness


# --- map / flat_map / filter -------------------------------------------------------------------------------
class Lifecycle(MapFunction):
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.subtask = -1

    def open(self, runtime_context: RuntimeContext) -> None:
        self.calls.append("open")
        self.subtask = runtime_context.get_index_of_this_subtask()
        self.suffix = runtime_context.get_job_parameter("suffix", "?")

    def map(self, value: Any) -> Any:
        return f"{value}{self.suffix}{self.subtask}"

    def close(self) -> None:
        self.calls.append("close")


def test_map_with_lambda_keeps_timestamps() -> None:
    harness = run(StreamMap(lambda x: x * 2), [1, 2, 3], [10, 20, 30])
    assert harness.get_output_with_timestamps() == [(2, 10), (4, 20), (6, 30)]
    assert harness.output.batches == 1


def test_map_function_lifecycle_and_runtime_context() -> None:
    harness = Harness(StreamMap(Lifecycle()), parallelism=4, subtask_index=2,
                      job_parameters={GLOBAL_JOB_PARAMETERS: str({"suffix": "!"})})
    harness.process_elements(["a"])
    harness.close()
    assert harness.get_output() == ["a!2"]
    assert harness.operator.function.calls == ["open", "close"]


def test_flat_map_generator_and_list() -> None:
    def split(line: str) -> Any:
        yield from line.split()

    assert run(StreamFlatMap(split), ["a b", "", "c"]).get_output() == ["a", "b", "c"]
    with_ts = run(StreamFlatMap(lambda s: list(s)), ["ab", "c"], [1, 2])
    assert with_ts.get_output_with_timestamps() == [("a", 1), ("b", 1), ("c", 2)]

    class Repeat(FlatMapFunction):
        def flat_map(self, value: Any) -> Any:
            return [value] * value

    assert run(StreamFlatMap(Repeat()), [1, 0, 2]).get_output() == [1, 2, 2]


def test_filter_with_and_without_timestamps() -> None:
    assert run(StreamFilter(lambda x: x % 2), [1, 2, 3]).get_output() == [1, 3]
    assert run(StreamFilter(lambda x: x > 1), [1, 2, 3], [5, 6, 7]).get_output_with_timestamps() == [(2, 6), (3, 7)]

    class Positive(FilterFunction):
        def filter(self, value: Any) -> bool:
            return value > 0

    assert run(StreamFilter(Positive()), [-1, 4]).get_output() == [4]


def test_empty_results_emit_nothing() -> None:
    harness = run(StreamFilter(lambda x: False), [1, 2])
    assert harness.get_output() == [] and harness.output.batches == 0


def test_user_error_names_function_file_and_operator() -> None:
    def split(line: str) -> Any:
        raise ValueError("bad line")

    harness = Harness(StreamFlatMap(split))
    with pytest.raises(UserFunctionError) as info:
        harness.process_elements(["x"])
    message = str(info.value)
    assert "Error in user function" in message and "split" in message and "test_api_operators.py:" in message
    assert "of operator 'FlatMap'" in message and "ValueError: bad line" in message
    assert isinstance(info.value.__cause__, ValueError)


def test_user_error_of_a_function_object() -> None:
    class Broken(MapFunction):
        def map(self, value: Any) -> Any:
            return 1 / 0

    with pytest.raises(UserFunctionError, match=r"'test_user_error_of_a_function_object.<locals>.Broken.map' "
                                                r"\(test_api_operators.py:\d+\) of operator 'Map'"):
        run(StreamMap(Broken(), name="Map"), [1])


# --- process -----------------------------------------------------------------------------------------------
class Tagger(ProcessFunction):
    def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Any:
        yield (value, ctx.timestamp(), ctx.timer_service().current_watermark())


def test_process_function_sees_timestamps_and_watermark() -> None:
    harness = Harness(ProcessOperator(Tagger()))
    harness.process_elements(["a"])
    harness.process_watermark(100)
    harness.process_elements(["b"], [150])
    assert harness.get_events() == [("record", ("a", None, MIN_WATERMARK), None), ("watermark", 100),
                                    ("record", ("b", 150, 100), 150)]


def test_timers_need_a_keyed_stream() -> None:
    class SetsTimer(ProcessFunction):
        def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Any:
            ctx.timer_service().register_event_time_timer(5)

    with pytest.raises(UserFunctionError, match="only supported on a keyed streams"):
        run(ProcessOperator(SetsTimer()), [1])


def test_keyed_state_on_a_non_keyed_stream_is_an_error() -> None:
    class WantsState(MapFunction):
        def open(self, runtime_context: RuntimeContext) -> None:
            runtime_context.get_state(ValueStateDescriptor("s", Types.INT()))

        def map(self, value: Any) -> Any:
            return value

    with pytest.raises(UserFunctionError, match="keyed stream"):
        run(StreamMap(WantsState()), [1])


# --- keyed process: state and timers ---------------------------------------------------------------------
class CountPerKey(KeyedProcessFunction):
    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))
        self.seen = runtime_context.get_list_state(ListStateDescriptor("seen", Types.STRING()))

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
        count = (self.count.value() or 0) + 1
        self.count.update(count)
        self.seen.add(value[1])
        yield ctx.get_current_key(), count, list(self.seen.get())


def test_keyed_process_value_and_list_state_per_key() -> None:
    harness = run(KeyedProcessOperator(CountPerKey(), lambda v: v[0]), [("a", "x"), ("b", "y"), ("a", "z")])
    assert harness.get_output() == [("a", 1, ["x"]), ("b", 1, ["y"]), ("a", 2, ["x", "z"])]
    tables = harness.keyed_backend.tables()
    assert tables["count"] == {"a": 2, "b": 1}
    groups = harness.keyed_backend.snapshot_by_key_group()
    assert sum(len(states.get("count", {})) for states in groups.values()) == 2


class Timeout(KeyedProcessFunction):
    """Emits (key, "timeout", time) 10 ms after each key's last element (event time)."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.last = runtime_context.get_state(ValueStateDescriptor("last", Types.LONG()))

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
        timestamp = ctx.timestamp()
        assert timestamp is not None
        previous = self.last.value()
        if previous is not None:
            ctx.timer_service().delete_event_time_timer(previous + 10)
        self.last.update(timestamp)
        ctx.timer_service().register_event_time_timer(timestamp + 10)
        ctx.timer_service().register_event_time_timer(timestamp + 10)  # twice: fires once
        return []

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Any:
        assert ctx.time_domain() is TimeDomain.EVENT_TIME
        yield ctx.get_current_key(), "timeout", timestamp, self.last.value()


def test_event_time_timers_fire_on_watermarks_per_key() -> None:
    harness = Harness(KeyedProcessOperator(Timeout(), lambda v: v))
    harness.process_elements(["a", "b", "a"], [1, 2, 5])
    harness.process_watermark(12)
    assert harness.get_events() == [("record", ("b", "timeout", 12, 2), 12), ("watermark", 12)]
    harness.end_input()  # end of input fires the rest, as Flink's final watermark does
    assert harness.get_output()[-1] == ("a", "timeout", 15, 5)
    assert harness.get_output_with_timestamps()[-1][1] == 15


def test_processing_time_timers_fire_when_due() -> None:
    class Alarm(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
            ctx.timer_service().register_processing_time_timer(1000)

        def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Any:
            yield ctx.get_current_key(), ctx.time_domain(), timestamp

    harness = Harness(KeyedProcessOperator(Alarm(), lambda v: v))
    harness.process_elements(["k"])
    harness.operator.on_processing_time(999)
    assert harness.get_output() == []
    harness.operator.on_processing_time(1000)
    assert harness.get_output_with_timestamps() == [(("k", TimeDomain.PROCESSING_TIME, 1000), None)]


def test_map_state_and_keyed_map() -> None:
    class Distinct(MapFunction):
        def open(self, runtime_context: RuntimeContext) -> None:
            self.words = runtime_context.get_map_state(MapStateDescriptor("w", Types.STRING(), Types.INT()))

        def map(self, value: Any) -> Any:
            new = value[1] not in self.words
            self.words[value[1]] = 1
            return value[0], value[1], new, sorted(self.words.keys())

    harness = run(StreamMap(Distinct(), key_selector=lambda v: v[0]), [("u1", "x"), ("u2", "x"), ("u1", "x")])
    assert harness.get_output() == [("u1", "x", True, ["x"]), ("u2", "x", True, ["x"]), ("u1", "x", False, ["x"])]


# --- reduce and aggregations -------------------------------------------------------------------------------
def keyed(function: Any, values: list[Any], key: Any = lambda v: v[0], **kwargs: Any) -> list[Any]:
    return run(StreamGroupedReduce(function, key), values, **kwargs).get_output()


def test_reduce_emits_rolling_aggregate_per_key() -> None:
    out = keyed(lambda a, b: (a[0], a[1] + b[1]), [("a", 1), ("b", 5), ("a", 2), ("a", 3)])
    assert out == [("a", 1), ("b", 5), ("a", 3), ("a", 6)]

    class Concat(ReduceFunction):
        def reduce(self, value1: Any, value2: Any) -> Any:
            return value1 + value2

    assert keyed(Concat(), ["x", "y", "x"], key=lambda v: v) == ["x", "y", "xx"]


def test_reduce_keeps_timestamps() -> None:
    harness = run(StreamGroupedReduce(lambda a, b: a + b, lambda v: "k"), [1, 2], [7, 8])
    assert harness.get_output_with_timestamps() == [(1, 7), (3, 8)]


def agg(kind: AggregationType, position: Any) -> AggregationFunction:
    return AggregationFunction(kind, position)


def test_sum_min_max_on_tuples_keep_first_record_fields() -> None:
    data = [("a", 3, "first"), ("a", 1, "second"), ("a", 5, "third")]
    assert keyed(agg(AggregationType.SUM, 1), data) == [("a", 3, "first"), ("a", 4, "first"), ("a", 9, "first")]
    assert keyed(agg(AggregationType.MIN, 1), data) == [("a", 3, "first"), ("a", 1, "first"), ("a", 1, "first")]
    assert keyed(agg(AggregationType.MAX, 1), data) == [("a", 3, "first"), ("a", 3, "first"), ("a", 5, "first")]


def test_min_by_max_by_keep_whole_records_first_on_ties() -> None:
    data = [("a", 3, "first"), ("a", 1, "second"), ("a", 1, "third"), ("a", 5, "fourth")]
    assert keyed(agg(AggregationType.MIN_BY, 1), data)[1:] == [("a", 1, "second")] * 3
    assert keyed(agg(AggregationType.MAX_BY, 1), data)[-1] == ("a", 5, "fourth")
    assert keyed(agg(AggregationType.MAX_BY, 1), data)[:3] == [("a", 3, "first")] * 3


def test_aggregations_on_rows_and_lists_copy_instead_of_mutating() -> None:
    rows = [Row(key="a", value=1), Row(key="a", value=2)]
    out = keyed(agg(AggregationType.SUM, "value"), rows, key=lambda r: r.key)
    assert [r.value for r in out] == [1, 3] and out[1].key == "a"
    assert rows[0].value == 1 and out[0] is rows[0] and out[1] is not rows[0]
    lists = keyed(agg(AggregationType.SUM, 1), [["a", 1], ["a", 2]])
    assert lists == [["a", 1], ["a", 3]]


def test_aggregations_on_basic_types_use_position_zero() -> None:
    assert keyed(agg(AggregationType.SUM, 0), [1, 2, 3], key=lambda v: "k") == [1, 3, 6]
    assert keyed(agg(AggregationType.MAX, 0), [2, 1, 3], key=lambda v: "k") == [2, 2, 3]
    with pytest.raises(UserFunctionError, match="basic type"):
        keyed(agg(AggregationType.SUM, 1), [1, 2], key=lambda v: "k")
    with pytest.raises(TypeError, match="int or str"):
        agg(AggregationType.SUM, 1.5)


def test_key_selector_errors_name_the_selector() -> None:
    def bad_key(value: Any) -> Any:
        return value["missing"]

    with pytest.raises(UserFunctionError, match="bad_key"):
        keyed(lambda a, b: a, [{"x": 1}], key=bad_key)


# --- print -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("identifier, index, parallelism, expected", [
    (None, 0, 1, ""), (None, 2, 4, "3> "), ("out", 0, 1, "out> "), ("out", 1, 2, "out:2> "),
])
def test_print_prefix_is_flinks(identifier: Any, index: int, parallelism: int, expected: str) -> None:
    assert print_prefix(identifier, index, parallelism) == expected


def test_print_shows_typed_and_untyped_values(capsys: pytest.CaptureFixture[str]) -> None:
    run(PrintSinkOperator(None, Types.TUPLE([Types.STRING(), Types.INT()])), [("a", 1), ("b", 2)])
    assert capsys.readouterr().out == "(a,1)\n(b,2)\n"
    run(PrintSinkOperator("id", None), [("a", 1), "text"], parallelism=2, subtask_index=1)
    assert capsys.readouterr().out == "id:2> ('a', 1)\nid:2> text\n"
    run(PrintSinkOperator(None, Types.ROW([Types.STRING(), Types.BOOLEAN()])), [Row("x", True)], parallelism=3)
    assert capsys.readouterr().out == "1> +I[x, true]\n"


# --- sinks and sources -------------------------------------------------------------------------------------
class ListSink(SinkFunction):
    def __init__(self) -> None:
        self.items: list[Any] = []
        self.finished = False

    def invoke(self, value: Any, context: SinkFunction.Context) -> None:
        self.items.append((value, context.timestamp()))

    def finish(self) -> None:
        self.finished = True


def test_sink_function_invoke_and_finish() -> None:
    harness = run(SinkFunctionOperator(ListSink()), ["a", "b"], [1, 2])
    sink = harness.operator.function
    assert sink.items == [("a", 1), ("b", 2)] and sink.finished


class Counter(SourceFunction):
    def __init__(self, n: int, with_timestamps: bool = False) -> None:
        self.n = n
        self.with_timestamps = with_timestamps
        self.running = True

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        for i in range(self.n):
            if not self.running:
                return
            if self.with_timestamps:
                ctx.collect_with_timestamp(i, i * 10)
            else:
                ctx.collect(i)
        ctx.emit_watermark(self.n * 10)

    def cancel(self) -> None:
        self.running = False


def test_source_function_emits_everything_in_order() -> None:
    harness = Harness(SourceFunctionOperator(Counter(2000)))
    harness.run_source(max_records=300)
    harness.close()
    assert harness.get_output() == list(range(2000))
    assert harness.get_watermarks() == [20000]
    assert harness.get_events()[-1] == ("watermark", 20000)


def test_source_function_timestamps() -> None:
    harness = Harness(SourceFunctionOperator(Counter(3, with_timestamps=True)))
    harness.run_source()
    assert harness.get_output_with_timestamps() == [(0, 0), (1, 10), (2, 20)]


def test_source_function_cancel_on_close() -> None:
    started = threading.Event()

    class Endless(SourceFunction):
        running = True

        def run(self, ctx: SourceFunction.SourceContext) -> None:
            started.set()
            while self.running:
                ctx.collect(1)

        def cancel(self) -> None:
            self.running = False

    harness = Harness(SourceFunctionOperator(Endless()), copy_operator=False)  # the Event does not pickle
    harness.open()
    assert started.wait(5)
    assert harness.operator.emit_next(100) is not None
    harness.close()
    assert not harness.operator._thread.is_alive()


def test_source_function_error_fails_the_task() -> None:
    class Failing(SourceFunction):
        def run(self, ctx: SourceFunction.SourceContext) -> None:
            ctx.collect(1)
            raise OSError("connection lost")

        def cancel(self) -> None:
            pass

    harness = Harness(SourceFunctionOperator(Failing()))
    with pytest.raises(UserFunctionError, match="OSError: connection lost"):
        harness.run_source()
    assert harness.get_output() == [1]


# --- timestamps and watermarks -----------------------------------------------------------------------------
def test_timestamp_assigner_and_watermarks() -> None:
    from yflink.common import Duration

    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(5)) \
        .with_timestamp_assigner(lambda value, record_ts: value[1])
    harness = Harness(TimestampsAndWatermarksOperator(strategy, auto_watermark_interval_ms=0))
    harness.process_elements([("a", 100), ("b", 90)])
    harness.process_watermark(50)  # upstream watermarks are dropped
    harness.end_input()
    assert harness.get_output_with_timestamps() == [(("a", 100), 100), (("b", 90), 90)]
    assert harness.get_watermarks() == [94]  # periodic watermarks disabled; Flink's finish() emits the last one
    periodic = Harness(TimestampsAndWatermarksOperator(strategy, auto_watermark_interval_ms=1))
    periodic.process_elements([("a", 100)])
    periodic.end_input()
    periodic.process_watermark(MAX_WATERMARK)
    assert periodic.get_watermarks()[-2:] == [94, MAX_WATERMARK]


def test_watermarking_source() -> None:
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda v, ts: v)
    harness = Harness(WatermarkingSourceOperator(CollectionSource([5, 7, 6]), strategy, 1))
    harness.run_source()
    assert harness.get_output_with_timestamps() == [(5, 5), (7, 7), (6, 6)]
    assert harness.get_watermarks()[-1] == 6  # the last periodic watermark; the task adds MAX_WATERMARK


def test_reduce_in_batch_mode_emits_final_aggregates_at_end_of_input() -> None:
    operator = StreamGroupedReduce(agg(AggregationType.SUM, 1), lambda v: v[0])
    operator.batch_mode = True
    harness = Harness(operator)
    harness.process_elements([("a", 1), ("b", 5), ("a", 2)])
    assert harness.get_output() == []
    harness.end_input()
    assert harness.get_output_with_timestamps() == [(("a", 3), None), (("b", 5), None)]
