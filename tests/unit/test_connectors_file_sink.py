"""FileSink: part file names, buckets, rolling, in-progress -> pending -> finished, encoders."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import cloudpickle  # type: ignore[import-untyped]
import pytest

from yflink.common import Row
from yflink.common.serialization import Encoder, SimpleStringSchema
from yflink.datastream.connectors import BucketAssigner, FileSink, OutputFileConfig, RollingPolicy
from yflink.datastream.connectors.file_writing import (
    DateTimeBucketAssigner,
    PendingFile,
    commit,
    java_date_pattern_to_strftime,
)
from yflink.streaming.operators.base import TaskInfo

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def open_writer(sink: FileSink, index: int = 0, parallelism: int = 1) -> Any:
    writer = cloudpickle.loads(cloudpickle.dumps(sink)).create_writer()
    writer.open(TaskInfo("job", "job", "sink", index, parallelism, 128))
    return writer


def all_files(base: Path) -> list[str]:
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())


def base_path_sink(base: Path, **rolling: int) -> FileSink:
    builder = (FileSink.for_row_format(str(base), Encoder.simple_string_encoder())
               .with_bucket_assigner(BucketAssigner.base_path_bucket_assigner()))
    if rolling:
        builder = builder.with_rolling_policy(RollingPolicy.default_rolling_policy(**rolling))
    return builder.build()


def test_files_are_in_progress_until_the_end_of_input(tmp_path: Path) -> None:
    writer = open_writer(base_path_sink(tmp_path))
    writer.write_batch(["a", ("b", 1), 3], None)
    writer.flush(False)
    [in_progress] = all_files(tmp_path)
    assert re.fullmatch(rf"\.part-{UUID}-0\.inprogress\.{UUID}", in_progress)
    writer.write_batch(["d"], None)
    writer.flush(True)
    writer.close()
    [finished] = all_files(tmp_path)
    assert re.fullmatch(rf"part-{UUID}-0", finished)
    assert (tmp_path / finished).read_text() == "a\n(b,1)\n3\nd\n"


def test_part_files_roll_by_size_and_count_up(tmp_path: Path) -> None:
    writer = open_writer(base_path_sink(tmp_path, part_size=10))
    for i in range(5):
        writer.write_batch([f"record-{i}"], None)  # 9 bytes each: every file exceeds 10 bytes after two
    writer.flush(True)
    files = all_files(tmp_path)
    assert [int(f.rsplit("-", 1)[1]) for f in files] == [0, 1, 2]
    uids = {f[len("part-"):-len("-0")] for f in files}
    assert len(uids) == 1  # one uid per subtask
    assert "".join((tmp_path / f).read_text() for f in files) == "".join(f"record-{i}\n" for i in range(5))


def test_subtasks_write_distinct_files(tmp_path: Path) -> None:
    sink = base_path_sink(tmp_path)
    writers = [open_writer(sink, i, 2) for i in range(2)]
    for i, writer in enumerate(writers):
        writer.write_batch([f"from {i}"], None)
        writer.flush(True)
        writer.close()
    files = all_files(tmp_path)
    assert len(files) == 2
    assert sorted((tmp_path / f).read_text() for f in files) == ["from 0\n", "from 1\n"]


def test_prefix_suffix_and_date_time_buckets(tmp_path: Path) -> None:
    sink = (FileSink.for_row_format(str(tmp_path), Encoder.simple_string_encoder())
            .with_output_file_config(OutputFileConfig.builder().with_part_prefix("pre").with_part_suffix(".ext")
                                     .build())
            .build())  # default bucket assigner: yyyy-MM-dd--HH
    writer = open_writer(sink)
    writer.write_batch(["x"], None)
    writer.flush(True)
    [path] = all_files(tmp_path)
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\d--\d\d/pre-{UUID}-0\.ext", path)


def test_date_time_bucket_assigner_formats_like_java() -> None:
    assigner = BucketAssigner.date_time_bucket_assigner("yyyy-MM-dd--HH", "UTC")
    assert assigner.get_bucket_id(None, 1_700_000_000_000) == "2023-11-14--22"
    custom = DateTimeBucketAssigner("yyyy/MM/dd/'hour='HH", "UTC")
    assert custom.get_bucket_id(None, 1_700_000_000_000) == "2023/11/14/hour=22"
    assert java_date_pattern_to_strftime("yy%mm") == "%y%%%M"
    with pytest.raises(ValueError, match="EEE"):
        java_date_pattern_to_strftime("EEE")
    with pytest.raises(ValueError, match="zone"):
        BucketAssigner.date_time_bucket_assigner(timezone_id="Mars/Olympus")


def test_element_dependent_bucket_assigner(tmp_path: Path) -> None:
    class ByParity(BucketAssigner):
        def get_bucket_id(self, element: Any, current_time_ms: int) -> str:
            return "even" if element % 2 == 0 else "odd"

    sink = FileSink.for_row_format(str(tmp_path), Encoder.simple_string_encoder()).with_bucket_assigner(
        ByParity()).build()
    writer = open_writer(sink)
    writer.write_batch(list(range(6)), None)
    writer.flush(True)
    files = all_files(tmp_path)
    assert [f.split("/")[0] for f in files] == ["even", "odd"]
    assert [(tmp_path / f).read_text() for f in files] == ["0\n2\n4\n", "1\n3\n5\n"]


def test_rolling_on_processing_time(tmp_path: Path) -> None:
    writer = open_writer(base_path_sink(tmp_path, rollover_interval=1000))
    writer.write_batch(["a"], None)
    part = writer.buckets[""].in_progress
    writer.on_processing_time(part.info.creation_time + 999)
    assert writer.buckets[""].in_progress is part
    writer.on_processing_time(part.info.creation_time + 1000)
    assert writer.buckets[""].in_progress is None  # closed: pending, not yet visible
    assert writer.prepare_commit(flush=False)[0].final_path.endswith("-0")
    writer.close()


def test_on_checkpoint_rolling_policy_rolls_only_on_checkpoint(tmp_path: Path) -> None:
    sink = (FileSink.for_row_format(str(tmp_path), Encoder.simple_string_encoder())
            .with_bucket_assigner(BucketAssigner.base_path_bucket_assigner())
            .with_rolling_policy(RollingPolicy.on_checkpoint_rolling_policy()).build())
    writer = open_writer(sink)
    writer.write_batch(["a" * 1000], None)
    writer.on_processing_time(10**15)
    assert writer.buckets[""].in_progress is not None
    pending = writer.prepare_commit(flush=False)  # what a checkpoint will do
    assert len(pending) == 1 and not os.path.exists(pending[0].final_path)
    commit(pending)
    assert os.path.exists(pending[0].final_path)
    writer.close()


def test_commit_is_idempotent_and_reports_lost_files(tmp_path: Path) -> None:
    (tmp_path / ".p.inprogress").write_text("x")
    pending = [PendingFile(str(tmp_path / ".p.inprogress"), str(tmp_path / "p"))]
    commit(pending)
    commit(pending)  # a retried commit is a no-op
    assert (tmp_path / "p").read_text() == "x"
    with pytest.raises(FileNotFoundError, match="gone"):
        commit([PendingFile(str(tmp_path / ".q.inprogress"), str(tmp_path / "q"))])


def test_close_without_end_of_input_leaves_nothing_visible(tmp_path: Path) -> None:
    writer = open_writer(base_path_sink(tmp_path))
    writer.write_batch(["a"], None)
    writer.close()
    assert all(f.startswith(".") for f in all_files(tmp_path))


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="Encoder"):
        FileSink.for_row_format(str(tmp_path), "not an encoder")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        RollingPolicy.default_rolling_policy(part_size=0)
    with pytest.raises(ValueError, match="'/'"):
        OutputFileConfig("a/b", "")


def test_simple_string_encoder_and_schema() -> None:
    encoder = Encoder.simple_string_encoder()
    assert encoder.encode(("a", 1)) == b"(a,1)\n"  # as Flink writes a Tuple2
    assert encoder.encode_batch(["ü", "", 2, 1e7, None, Row("a", 1)]) == "ü\n\n2\n1.0E7\nnull\n+I[a, 1]\n".encode()
    assert encoder.encode_batch([]) == b""
    assert Encoder.simple_string_encoder("ISO-8859-1").encode("ü") == b"\xfc\n"
    schema = SimpleStringSchema()
    assert schema.deserialize(schema.serialize("héllo")) == "héllo"
