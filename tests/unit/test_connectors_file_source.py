"""FileSource: listing, line-aligned splits, every line exactly once at any parallelism, formats, monitoring."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import cloudpickle  # type: ignore[import-untyped]
import pytest

from yflink.datastream.connectors import FileEnumeratorProvider, FileSource, StreamFormat
from yflink.datastream.connectors.file_reading import (
    FileSourceSplit,
    LineSplitReader,
    create_splits,
    enumerate_files,
)
from yflink.streaming.operators.base import TaskInfo


def task_info(index: int, parallelism: int) -> TaskInfo:
    return TaskInfo("job", "job", "source", index, parallelism, 128)


def read_subtask(source: Any, index: int, parallelism: int, max_records: int = 1000) -> list[Any]:
    """Everything one subtask reads, through a cloudpickled copy of the source (as the runtime ships it)."""
    reader = cloudpickle.loads(cloudpickle.dumps(source)).create_reader()
    reader.open(task_info(index, parallelism))
    out: list[Any] = []
    try:
        while (batch := reader.poll_batch(max_records)) is not None:
            values, timestamps = batch
            assert timestamps is None
            assert len(values) <= max_records
            out.extend(values)
    finally:
        reader.close()
    return out


def read_all(source: Any, parallelism: int, max_records: int = 1000) -> list[list[Any]]:
    return [read_subtask(source, i, parallelism, max_records) for i in range(parallelism)]


def random_lines(rng: random.Random, n: int) -> list[str]:
    alphabet = "abc xyzé€\t"
    return [f"{i}:" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for i in range(n)]


def text_source(*paths: Any, min_split_size: int | None = None) -> FileSource:
    source = FileSource.for_record_stream_format(StreamFormat.text_line_format(), *map(str, paths)).build()
    if min_split_size is not None:
        source.min_split_size = min_split_size
    return source


@pytest.mark.parametrize("parallelism", [1, 2, 3, 5, 8])
def test_every_line_exactly_once_at_any_parallelism(tmp_path: Path, parallelism: int) -> None:
    rng = random.Random(parallelism)
    expected: list[str] = []
    for name in ["a.txt", "sub/b.txt", "sub/deeper/c.txt", "d.txt"]:
        lines = random_lines(rng, rng.randint(50, 400))
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        trailing_newline = name != "d.txt"  # the last line of d.txt has no terminator
        path.write_text("\n".join(lines) + ("\n" if trailing_newline else ""), encoding="utf-8")
        expected += lines
    # Tiny splits: files are cut in the middle of lines (and of multi-byte characters).
    parts = read_all(text_source(tmp_path, min_split_size=97), parallelism, max_records=33)
    got = [line for part in parts for line in part]
    assert sorted(got) == sorted(expected)
    assert len(got) == len(expected)


def test_one_big_file_is_read_in_parallel(tmp_path: Path) -> None:
    lines = [f"line {i} " + "x" * (i % 50) for i in range(20_000)]
    (tmp_path / "big.txt").write_text("\n".join(lines) + "\n")
    source = text_source(tmp_path / "big.txt", min_split_size=1024)
    first, second = read_all(source, 2)
    assert first and second  # both subtasks got a share
    assert 0.3 < len(first) / len(lines) < 0.7
    assert sorted(first + second) == sorted(lines)


def test_a_subtask_reads_its_splits_in_file_order(tmp_path: Path) -> None:
    lines = [str(i) for i in range(1000)]
    (tmp_path / "f.txt").write_text("\n".join(lines) + "\n")
    assert read_all(text_source(tmp_path), 1) == [lines]


@pytest.mark.parametrize("cut", range(0, 12))
def test_split_boundaries_at_every_position(tmp_path: Path, cut: int) -> None:
    data = b"ab\ncd\n\nefg\nh"
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    got: list[str] = []
    for offset, length in [(0, cut), (cut, len(data) - cut)]:
        reader = LineSplitReader(FileSourceSplit(str(path), offset, length), "utf-8", chunk_bytes=2)
        reader.open()
        while (lines := reader.read_chunk()) is not None:
            got += lines
        reader.close()
    assert got == ["ab", "cd", "", "efg", "h"]


def test_line_terminators_like_java_readline(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"a\r\nb\rc\n\nd\r\n")
    assert read_all(text_source(tmp_path), 1) == [["a", "b", "c", "", "d"]]


def test_lines_longer_than_a_chunk(tmp_path: Path) -> None:
    long_line = "z" * 50_000
    path = tmp_path / "f.txt"
    path.write_text(f"short\n{long_line}\nend\n")
    reader = LineSplitReader(FileSourceSplit(str(path), 0, os.path.getsize(path)), "utf-8", chunk_bytes=1000)
    reader.open()
    got: list[str] = []
    while (lines := reader.read_chunk()) is not None:
        got += lines
    reader.close()
    assert got == ["short", long_line, "end"]


def test_hidden_files_and_directories_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "visible.txt").write_text("yes\n")
    (tmp_path / ".hidden.txt").write_text("no\n")
    (tmp_path / "_SUCCESS").write_text("no\n")
    (tmp_path / "_tmp").mkdir()
    (tmp_path / "_tmp" / "x.txt").write_text("no\n")
    (tmp_path / ".part-1.inprogress.abc").write_text("no\n")
    assert read_all(text_source(tmp_path), 1) == [["yes"]]


def test_listing_is_sorted_and_deduplicated(tmp_path: Path) -> None:
    for name in ["b", "a", "c"]:
        (tmp_path / name).write_text(name + "\n")
    files = enumerate_files([str(tmp_path), str(tmp_path / "a"), "file://" + str(tmp_path / "b")])
    assert [os.path.basename(p) for p, _ in files] == ["a", "b", "c"]


def test_missing_path_fails_at_build_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        text_source(tmp_path / "nope")


def test_unsupported_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="hdfs"):
        text_source("hdfs://namenode/x")


def test_compressed_files_are_decompressed_and_not_split(tmp_path: Path) -> None:
    lines = [f"row {i}" for i in range(5000)]
    with gzip.open(tmp_path / "a.gz", "wt") as f:
        f.write("\n".join(lines[:2500]) + "\n")
    with bz2.open(tmp_path / "b.bz2", "wt") as f:
        f.write("\n".join(lines[2500:]) + "\n")
    splits = create_splits(enumerate_files([str(tmp_path)]), 4, min_split_bytes=10)
    assert [s.length for s in splits] == [None, None]
    parts = read_all(text_source(tmp_path, min_split_size=10), 3)
    assert sorted(line for part in parts for line in part) == sorted(lines)


def test_non_splittable_enumerator_gives_one_split_per_file(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x\n" * 10_000)
    source = (FileSource.for_record_stream_format(StreamFormat.text_line_format(), str(tmp_path))
              .set_file_enumerator(FileEnumeratorProvider.default_non_splittable_file_enumerator()).build())
    source.min_split_size = 10
    first, second = read_all(source, 2)
    assert (len(first), len(second)) == (10_000, 0)


def test_splits_are_balanced_for_static_assignment(tmp_path: Path) -> None:
    files = [(str(tmp_path / "one"), 100 << 20)]
    splits = create_splits(files, parallelism=2)
    assert len(splits) == 8  # SPLITS_PER_SUBTASK per subtask
    assert sum(s.length or 0 for s in splits) == 100 << 20
    assert all(a.end == b.offset for a, b in zip(splits, splits[1:], strict=False))


def test_latin1_charset(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes("grüße\nçà\n".encode("latin-1"))
    source = FileSource.for_record_stream_format(StreamFormat.text_line_format("ISO-8859-1"), str(tmp_path)).build()
    assert read_all(source, 1) == [["grüße", "çà"]]


def test_charsets_that_cannot_be_split_on_newline_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="ASCII-compatible"):
        StreamFormat.text_line_format("UTF-16")
    with pytest.raises(ValueError, match="unknown charset"):
        StreamFormat.text_line_format("no-such-charset")


def test_json_lines_format(tmp_path: Path) -> None:
    records = [{"id": i, "name": f"n{i}", "tags": ["a", "b"][: i % 3]} for i in range(3000)]
    text = "\n".join(json.dumps(r) for r in records[:1500]) + "\n\n   \n" + "\n".join(
        json.dumps(r) for r in records[1500:]) + "\n"
    (tmp_path / "f.jsonl").write_text(text)
    source = FileSource.for_record_stream_format(StreamFormat.json_lines_format(), str(tmp_path)).build()
    source.min_split_size = 500
    parts = read_all(source, 3)
    got = sorted((r for part in parts for r in part), key=lambda r: r["id"])
    assert got == records


def test_json_lines_format_names_the_file_of_a_bad_line(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"ok": 1}\n{"broken": \n')
    source = FileSource.for_record_stream_format(StreamFormat.json_lines_format(), str(tmp_path)).build()
    with pytest.raises(ValueError, match="bad.jsonl"):
        read_all(source, 1)


def test_position_attributes_track_progress(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("".join(f"{i}\n" for i in range(100)))
    reader = text_source(tmp_path).create_reader()
    reader.open(task_info(0, 1))
    batch = reader.poll_batch(30)
    assert batch is not None and batch[0] == [str(i) for i in range(30)]
    assert (reader.split_index, reader.records_in_chunk) == (0, 30)
    reader.close()


def test_bounded_and_continuous_modes(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("a\n")
    assert text_source(tmp_path).is_bounded()
    continuous = (FileSource.for_record_stream_format(StreamFormat.text_line_format(), str(tmp_path))
                  .monitor_continuously(timedelta(milliseconds=1)).build())
    assert not continuous.is_bounded()


def test_continuous_monitoring_reads_new_files_once(tmp_path: Path) -> None:
    (tmp_path / "1.txt").write_text("one\n")
    source = (FileSource.for_record_stream_format(StreamFormat.text_line_format(), str(tmp_path))
              .monitor_continuously(1).build())  # list the directory every 1 ms
    readers = [source.create_reader() for _ in range(2)]
    for i, reader in enumerate(readers):
        reader.open(task_info(i, 2))

    def poll_until(count: int, timeout_s: float = 10.0) -> list[str]:
        """Poll both readers until ``count`` lines came (or the deadline passed)."""
        out: list[str] = []
        deadline = time.monotonic() + timeout_s
        while len(out) < count and time.monotonic() < deadline:
            for reader in readers:
                batch = reader.poll_batch(100)
                assert batch is not None  # an unbounded source never ends
                out += batch[0]
        return out

    assert poll_until(1) == ["one"]
    (tmp_path / "2.txt").write_text("two\nthree\n")
    assert sorted(poll_until(2)) == ["three", "two"]
    assert poll_until(1, timeout_s=0.05) == []  # nothing is read twice
    for reader in readers:
        reader.close()
