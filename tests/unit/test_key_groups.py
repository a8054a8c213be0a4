"""Key groups: Flink's murmur hash and key-group assignment ("Stateful Stream Processing": key groups)."""

import pytest

from yflink.state.key_groups import (
    assign_key_to_operator,
    assign_to_key_group,
    key_group_range,
    murmur_hash,
    operator_index_for_key_group,
    stable_hash,
)

# Values computed with Flink's MathUtils.murmurHash (Java 17) on the same inputs.
JAVA_MURMUR = [
    (0, 593689054), (1, 68075478), (42, 1134849565), (-7, 206585249), (123456789, 1088346449),
    (-(2**31), 1718298732), (2**31 - 1, 1653689534), (99162322, 1715862179),
]


@pytest.mark.parametrize("code,expected", JAVA_MURMUR)
def test_murmur_hash_matches_flink(code: int, expected: int) -> None:
    assert murmur_hash(code) == expected


@pytest.mark.parametrize("max_parallelism", [128, 256, 1000])
@pytest.mark.parametrize("parallelism", [1, 2, 3, 7, 64])
def test_key_group_ranges_partition_all_key_groups(max_parallelism: int, parallelism: int) -> None:
    owners = [operator_index_for_key_group(max_parallelism, parallelism, kg) for kg in range(max_parallelism)]
    covered = []
    for i in range(parallelism):
        r = key_group_range(max_parallelism, parallelism, i)
        assert all(owners[kg] == i for kg in r)
        covered.extend(r)
    assert covered == list(range(max_parallelism))


def test_stable_hash_is_deterministic_and_typed() -> None:
    assert stable_hash("hello") == stable_hash("hello")
    assert stable_hash(5) == 5  # Java Long.hashCode of a small long
    assert stable_hash(-1) == 0  # Long.hashCode(-1) == 0
    assert stable_hash(("a", 1)) == (31 * (31 * 1 + stable_hash("a")) + 1) & 0xFFFFFFFF
    assert stable_hash(None) == 0


def test_rescaling_moves_whole_key_groups() -> None:
    keys = [f"key-{i}" for i in range(2000)]
    for key in keys:
        kg = assign_to_key_group(key, 128)
        for p in (1, 2, 3, 4):
            assert assign_key_to_operator(key, 128, p) == operator_index_for_key_group(128, p, kg)


def test_key_group_range_rejects_bad_parallelism() -> None:
    with pytest.raises(ValueError, match="parallelism"):
        key_group_range(128, 129, 0)
