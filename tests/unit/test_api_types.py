"""Types, Row, time and watermark strategies of yflink.common (PyFlink's pyflink.common)."""

from __future__ import annotations

import datetime
import pickle
from decimal import Decimal

import cloudpickle
import pytest

from yflink.common import (
    Configuration,
    Duration,
    ExecutionConfig,
    Instant,
    Row,
    RowKind,
    Time,
    Types,
    WatermarkStrategy,
)
from yflink.common.typeinfo import java_double_string, java_float_string
from yflink.state.key_groups import assign_to_key_group


# --- Row ----------------------------------------------------------------------------------------------
def test_row_positional_access_and_repr() -> None:
    row = Row(1, "a")
    assert row[0] == 1 and row[1] == "a" and len(row) == 2 and list(row) == [1, "a"]
    assert repr(row) == "<Row(1, 'a')>"
    assert row.get_row_kind() is RowKind.INSERT


def test_named_row_sorts_fields_by_name_like_pyflink() -> None:
    row = Row(name="Alice", age=11)
    assert repr(row) == "Row(age=11, name='Alice')"
    assert row.name == "Alice" and row["age"] == 11 and row[0] == 11
    assert row.as_dict() == {"age": 11, "name": "Alice"}


def test_row_as_class_and_nested_as_dict() -> None:
    person = Row("name", "age")
    alice = person("Alice", 11)
    assert alice.name == "Alice" and alice.age == 11
    outer = Row(key=1, value=Row(name="a", age=2))
    assert outer.as_dict(recursive=True) == {"key": 1, "value": {"name": "a", "age": 2}}
    with pytest.raises(TypeError):
        Row(1, 2).as_dict()


def test_row_setitem_and_unknown_attribute() -> None:
    row = Row(a=1, b=2)
    row[0] = 5
    row["b"] = 7
    assert list(row) == [5, 7]
    with pytest.raises(AttributeError):
        _ = row.missing


def test_row_equality_hash_and_pickle() -> None:
    assert Row(1, "a") == Row(1, "a")
    assert Row(1, "a") != (1, "a")
    assert Row(a=1) != Row(1)
    updated = Row(1, "a")
    updated.set_row_kind(RowKind.UPDATE_AFTER)
    assert updated != Row(1, "a")
    counts = {Row(1, "a"): 1}
    assert counts[Row(1, "a")] == 1
    named = Row(name="x", v=1)
    for dumps, loads in ((pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)):
        copy = loads(dumps(named))
        assert copy == named and copy.name == "x"


def test_row_key_group_is_stable() -> None:
    assert assign_to_key_group(Row(1, "a"), 128) == assign_to_key_group(pickle.loads(pickle.dumps(Row(1, "a"))), 128)


# --- display strings (how Flink's print sink shows values) -------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    (1.0, "1.0"), (1e7, "1.0E7"), (1e-4, "1.0E-4"), (0.001, "0.001"), (123.456, "123.456"),
    (1234567.0, "1234567.0"), (12345678.9, "1.23456789E7"), (-0.5, "-0.5"), (0.0, "0.0"), (-0.0, "-0.0"),
    (float("nan"), "NaN"), (float("inf"), "Infinity"), (100.0, "100.0"),
])
def test_java_double_to_string(value: float, expected: str) -> None:
    assert java_double_string(value) == expected


def test_java_float_to_string_uses_float32_digits() -> None:
    assert java_float_string(0.1) == "0.1"
    assert java_float_string(1.1) == "1.1"
    assert java_float_string(16777216.0) == "1.6777216E7"


def test_tuple_display_is_java_tuple_to_string() -> None:
    assert Types.TUPLE([Types.STRING(), Types.INT()]).to_display_string(("a", 1)) == "(a,1)"
    nested = Types.TUPLE([Types.STRING(), Types.TUPLE([Types.INT(), Types.DOUBLE()])])
    assert nested.to_display_string(("a", (1, 2.0))) == "(a,(1,2.0))"


def test_row_display_is_flink_row_to_string() -> None:
    row_type = Types.ROW([Types.STRING(), Types.INT(), Types.BOOLEAN()])
    assert row_type.to_display_string(Row("a", 1, True)) == "+I[a, 1, true]"
    assert row_type.to_display_string(("b", 2, None)) == "+I[b, 2, null]"
    deleted = Row("a", 1, False)
    deleted.set_row_kind(RowKind.DELETE)
    assert row_type.to_display_string(deleted) == "-D[a, 1, false]"
    named = Types.ROW_NAMED(["word", "count"], [Types.STRING(), Types.LONG()])
    assert named.to_display_string(Row(count=3, word="x")) == "+I[x, 3]"


def test_basic_display_strings() -> None:
    assert Types.BOOLEAN().to_display_string(True) == "true"
    assert Types.STRING().to_display_string(None) == "null"
    assert Types.LONG().to_display_string(42) == "42"
    assert Types.DOUBLE().to_display_string(2) == "2.0"
    assert Types.FLOAT().to_display_string(0.1) == "0.1"
    assert Types.BIG_DEC().to_display_string(Decimal("1.50")) == "1.50"
    assert Types.LIST(Types.INT()).to_display_string([1, 2]) == "[1, 2]"
    assert Types.MAP(Types.STRING(), Types.INT()).to_display_string({"a": 1}) == "{a=1}"
    assert Types.SQL_DATE().to_display_string(datetime.date(2024, 1, 31)) == "2024-01-31"
    assert Types.SQL_TIMESTAMP().to_display_string(datetime.datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02 03:04:05.0"
    assert Types.SQL_TIMESTAMP().to_display_string(datetime.datetime(2024, 1, 2, 3, 4, 5, 120000)) \
        == "2024-01-02 03:04:05.12"
    assert Types.INSTANT().to_display_string(Instant.of_epoch_milli(1500)) == "1970-01-01T00:00:01.500Z"


def test_untyped_display_is_python_str() -> None:
    pickled = Types.PICKLED_BYTE_ARRAY()
    assert pickled.to_display_string(("a", 1)) == "('a', 1)"
    assert pickled.to_display_string("text") == "text"
    assert pickled.to_display_string(Row(1, "a")) == "<Row(1, 'a')>"


def test_type_equality_and_repr_like_pyflink() -> None:
    assert Types.INT() == Types.INT() and Types.INT() != Types.LONG()
    assert Types.TUPLE([Types.INT()]) == Types.TUPLE([Types.INT()])
    assert repr(Types.ROW_NAMED(["a"], [Types.STRING()])) == "RowTypeInfo(a: String)"
    assert Types.ROW([Types.INT(), Types.STRING()]).get_field_names() == ["f0", "f1"]


def test_normalize_gives_pyflink_shapes() -> None:
    row = Types.ROW_NAMED(["a", "b"], [Types.INT(), Types.STRING()])._normalize((1, "x"))
    assert isinstance(row, Row) and row.a == 1 and row.b == "x"
    assert Types.ROW_NAMED(["a", "b"], [Types.INT(), Types.STRING()])._normalize({"b": "y", "a": 2}).b == "y"
    assert Types.TUPLE([Types.INT(), Types.INT()])._normalize([1, 2]) == (1, 2)


# --- time and watermark strategies ---------------------------------------------------------------------------
def test_duration_and_time() -> None:
    assert Duration.of_seconds(2).to_milliseconds() == 2000
    assert Duration.of_minutes(1) == Duration.of_millis(60_000)
    assert Duration.of_nanos(1_500_000).to_milliseconds() == 1
    assert Time.seconds(3).to_milliseconds() == 3000 and Time.minutes(1) == Time.milliseconds(60_000)
    assert Instant.of_epoch_milli(1234).to_epoch_milli() == 1234


def test_watermark_strategies() -> None:
    assert WatermarkStrategy.for_monotonous_timestamps().max_out_of_orderness_ms == 0
    bounded = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(5)).with_idleness(
        Duration.of_seconds(30))
    assert bounded.max_out_of_orderness_ms == 5000 and bounded.idle_timeout_ms == 30_000
    assert not WatermarkStrategy.no_watermarks().generates_watermarks
    with_assigner = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda v, ts: v[1])
    assigner = with_assigner.get_timestamp_assigner()
    assert assigner is not None and assigner.extract_timestamp(("a", 7), -1) == 7


def test_execution_config_writes_configuration() -> None:
    conf = Configuration()
    config = ExecutionConfig(conf)
    config.set_parallelism(3).set_max_parallelism(64).set_auto_watermark_interval(50)
    config.set_global_job_parameters({"input": "/tmp/x"})
    assert conf.get_integer("parallelism.default", 0) == 3
    assert conf.get_integer("pipeline.max-parallelism", 0) == 64
    assert config.get_auto_watermark_interval() == 50
    assert config.get_global_job_parameters() == {"input": "/tmp/x"}
    with pytest.raises(ValueError):
        config.set_parallelism(0)


def test_global_job_parameters_in_every_shape() -> None:
    from yflink.common.execution_config import job_parameters_from

    assert job_parameters_from({"pipeline.global-job-parameters": {"a": 1}}) == {"a": "1"}
    assert job_parameters_from({"pipeline.global-job-parameters": "{'a': 'x'}"}) == {"a": "x"}
    assert job_parameters_from({"pipeline.global-job-parameters": "a:1,b:2"}) == {"a": "1", "b": "2"}
    assert job_parameters_from({"pipeline.global-job-parameters.input": "/data", "other": "x"}) == {"input": "/data"}
