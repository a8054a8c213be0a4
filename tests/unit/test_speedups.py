"""The compiled keyed-shuffle routing (yflink/_speedups.c) agrees with the pure-Python code bit for bit.

A key's hash decides which subtask owns it and where its state goes on rescaling: the C and Python versions must
never disagree, or a job would route a key to a subtask that does not hold its state.
"""

from __future__ import annotations

import enum
import operator
import random
from typing import Any

import pytest

from yflink.common.types import Row
from yflink.graph.partitioners import KeyGroupStreamPartitioner
from yflink.state import key_groups
from yflink.state.key_groups import _stable_hash_py, assign_key_to_operator, fast_key_selector

speedups = key_groups.speedups
needs_speedups = pytest.mark.skipif(speedups is None, reason="yflink._speedups was not built (no C compiler)")


class Color(enum.IntEnum):
    RED = 3


class Word(str):
    pass


def sample_keys() -> list[Any]:
    rng = random.Random(11)
    keys: list[Any] = ["", "a", "w123", "straße", "日本語", "emoji \U0001f600", "\ud800 lone surrogate",
                       0, 1, -1, 2**31, -(2**31), 2**63 - 1, 2**64, -(2**70), 12345678901234567890,
                       True, False, None, b"", b"bytes\x00\xff",
                       0.0, -0.0, 1.5, -2.25, float("inf"), float("-inf"), 1e300,
                       ("a", 1), ("a", ("b", 2.5, None)), (), Row(1, "x"), Color.RED, Word("w1"), frozenset({1})]
    for _ in range(300):
        keys.append("".join(rng.choice("abcxyz0123é") for _ in range(rng.randrange(0, 12))))
        keys.append(rng.randrange(-(2**80), 2**80))
        keys.append((rng.randrange(100), f"k{rng.randrange(50)}"))
    return keys


@needs_speedups
def test_stable_hash_in_c_equals_the_python_code() -> None:
    assert speedups is not None
    deep = deeply_nested(40)  # deeper than the C recursion limit: the Python fallback, same result
    for key in [*sample_keys(), bytearray(b"ba"), ["a", 1], {"k": 1}, deep]:  # unhashable keys hash by their bytes
        assert speedups.stable_hash(key) == _stable_hash_py(key), key


@needs_speedups
@pytest.mark.parametrize("channels, max_parallelism",
                         [(2, 128), (3, 128), (7, 32768), (4, 4), (3, 100), (5, 7), (128, 128)])
@pytest.mark.parametrize("with_timestamps", [False, True])
def test_route_in_c_sends_every_record_where_the_python_code_does(channels: int, max_parallelism: int,
                                                                   with_timestamps: bool,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    records = [(key, i) for i, key in enumerate(sample_keys())]
    timestamps = list(range(1000, 1000 + len(records))) if with_timestamps else None
    partitioner = KeyGroupStreamPartitioner(lambda r: r[0], max_parallelism)
    partitioner.setup(channels)
    compiled = partitioner.route(records, timestamps)
    monkeypatch.setattr("yflink.graph.partitioners.speedups", None)
    python = partitioner.route(records, timestamps)
    assert compiled == python
    for channel, values, ts in compiled:  # and both agree with Flink's rule, record by record
        for value in values:
            assert assign_key_to_operator(value[0], max_parallelism, channels) == channel
        if with_timestamps:
            assert ts == [1000 + v[1] for v in values]


def test_route_names_the_record_whose_key_is_not_hashable() -> None:
    partitioner = KeyGroupStreamPartitioner(lambda r: r[0], 128)
    partitioner.setup(2)
    with pytest.raises(TypeError, match=r"key \['x'\] of record \(\['x'\], 2\) is not hashable"):
        partitioner.route([("ok", 1), (["x"], 2)], None)
    with pytest.raises(TypeError, match="is not hashable"):
        partitioner.route([(("t", ["nested"]), 1)], None)


def test_route_passes_the_key_selectors_own_error_on() -> None:
    def explode(record: Any) -> Any:
        raise KeyError("no field")

    partitioner = KeyGroupStreamPartitioner(explode, 128)
    partitioner.setup(2)
    with pytest.raises(KeyError, match="no field"):
        partitioner.route([("a", 1)], None)


def test_fast_key_selector_turns_only_plain_subscript_lambdas_into_itemgetters() -> None:
    assert isinstance(fast_key_selector(lambda r: r[0]), operator.itemgetter)
    getter = fast_key_selector(lambda r: r["name"])
    assert isinstance(getter, operator.itemgetter) and getter({"name": "n"}) == "n"
    assert fast_key_selector(lambda r: r[-1])((1, 2, 3)) == 3

    def field_one(record: Any) -> Any:
        return record[1]

    assert isinstance(fast_key_selector(field_one), operator.itemgetter)
    for source in ("lambda t: t[0]", "from __future__ import annotations\nf = lambda t: t[0]"):
        scope: dict[str, Any] = {}
        exec(compile(source if "\n" in source else f"f = {source}", "<job>", "exec"), scope)  # with or without
        assert isinstance(fast_key_selector(scope["f"]), operator.itemgetter)  # __future__ flags in the job file
    exec(compile("def g(*t):\n    return t[0]\ndef h():\n    yield 1\n", "<job>", "exec"), scope)
    assert fast_key_selector(scope["g"]) is scope["g"] and fast_key_selector(scope["h"]) is scope["h"]
    index = 0
    not_plain = [lambda r: r[0] + 1, lambda r: r[index], lambda r: r[0][1], lambda r: r.name,
                 lambda r, other=1: r[0], lambda r: (r[0],), lambda r: r[0:1], lambda r: r[None]]
    for fn in not_plain:
        assert fast_key_selector(fn) is fn
    bound = Word("x").upper
    assert fast_key_selector(bound) is bound
    # the same errors as the lambda: IndexError, TypeError
    with pytest.raises(IndexError):
        fast_key_selector(lambda r: r[5])((1,))
    with pytest.raises(TypeError):
        fast_key_selector(lambda r: r[0])(None)


def deeply_nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = (value,)
    return value


def codec_batches() -> list[tuple[list[Any], Any]]:
    rng = random.Random(5)
    words = [(f"w{rng.randrange(5000)}", rng.randrange(1, 9)) for _ in range(2000)]
    mixed: list[Any] = ["", "x" * 300, "ü" * 3, "日本", 0, -1, 2**31, -(2**31) - 1, 2**63 - 1, -(2**63), 1.5, -0.0,
                        float("inf"), None, True, False, b"", b"\x00\xff" * 200, (), ("a", (1, (2.5, None)), b"b"),
                        (True, False, "€")]
    return [(words, None), (words, list(range(len(words)))), (mixed, None), (mixed, [-(2**63)] * len(mixed)),
            ([], None), ([], [])]


@needs_speedups
def test_compact_codec_round_trips_values_and_their_exact_types() -> None:
    assert speedups is not None
    for values, timestamps in codec_batches():
        payload = speedups.encode_batch(values, timestamps)
        assert payload is not None
        got_values, got_timestamps = speedups.decode_batch(payload)
        assert got_values == values and got_timestamps == timestamps
        assert [repr(v) for v in got_values] == [repr(v) for v in values]  # -0.0, True vs 1, bytes vs str


@needs_speedups
@pytest.mark.parametrize("values, timestamps", [
    ([[1, 2]], None), ([{"k": 1}], None), ([2**64], None), ([Row(1, 2)], None), ([Word("w")], None),
    ([Color.RED], None), (["\ud800"], None), ([("a", [1])], None), ([1], [1.5]), ([1], [2**64]), ([1, 2], [1]),
    ([deeply_nested(17)], None)])
def test_compact_codec_declines_what_it_cannot_keep_exactly(values: list[Any], timestamps: Any) -> None:
    assert speedups is not None
    assert speedups.encode_batch(values, timestamps) is None


@needs_speedups
def test_compact_codec_rejects_malformed_payloads() -> None:
    assert speedups is not None
    good = speedups.encode_batch([("abc", 1), "é", (2.5, None)], [1, 2, 3])
    assert good is not None
    for bad in (b"", b"X" + good[1:], good[:-1], good + b"\x00", good[:7], good[:2] + b"\xff\xff\xff\x7f" + good[6:]):
        with pytest.raises(ValueError, match="malformed payload"):
            speedups.decode_batch(bad)
    for cut in range(len(good)):  # every truncation fails cleanly
        with pytest.raises(ValueError):
            speedups.decode_batch(good[:cut])
    non_ascii = speedups.encode_batch(["abc"], None)
    assert non_ascii is not None
    with pytest.raises(ValueError, match="malformed payload"):
        speedups.decode_batch(non_ascii.replace(b"abc", b"a\xffc"))


@needs_speedups
def test_decoded_short_keys_are_shared_objects_and_colliding_ones_stay_distinct() -> None:
    assert speedups is not None
    words = [f"key{i}" for i in range(20000)]  # more keys than cache slots: collisions must not mix them up
    payload = speedups.encode_batch([(w, i) for i, w in enumerate(words)], None)
    assert payload is not None
    first, _ = speedups.decode_batch(payload)
    second, _ = speedups.decode_batch(payload)
    assert [k for k, _ in first] == words and [k for k, _ in second] == words
    assert any(a[0] is b[0] for a, b in zip(first, second))  # recently decoded keys come back as the same object
    long_key = "k" * 40  # longer than the cache's limit: a new object each time, still equal
    again = speedups.encode_batch([long_key], None)
    assert again is not None
    assert speedups.decode_batch(again)[0] == [long_key]


@needs_speedups
def test_route_reads_tuple_fields_directly_and_calls_the_selector_for_anything_else() -> None:
    partitioner = KeyGroupStreamPartitioner(lambda r: r[1], 128)
    partitioner.setup(3)
    records: list[Any] = [("a", "k1"), ["b", "k2"], ("c", "k3", 3), {1: "k4"}]  # tuple, list, longer tuple, dict
    routed = partitioner.route(records, None)
    assert sorted(v for _, values, _ in routed for v in map(repr, values)) == sorted(map(repr, records))
    for channel, values, _ in routed:
        for value in values:
            assert assign_key_to_operator(value[1], 128, 3) == channel
    with pytest.raises(IndexError):  # a tuple too short: the itemgetter's own error
        partitioner.route([("only",)], None)


@needs_speedups
def test_route_refuses_a_batch_its_key_selector_changes() -> None:
    assert speedups is not None
    batch: list[Any] = [("a", 1), ("b", 2)]

    def growing(record: Any) -> Any:
        batch.append(("c", 3))
        return record[0]

    with pytest.raises(RuntimeError, match="changed while it was routed"):
        speedups.route_key_groups(batch, growing, 2, 128)
