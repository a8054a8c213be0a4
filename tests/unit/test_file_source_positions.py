"""A FileSource reader resumes exactly where its snapshot says (Flink "FileSource": split state = offset and
records to skip), so a restored job reads every line exactly once."""

import random
from pathlib import Path

import pytest

from yflink.datastream.connectors import FileSource, StreamFormat, file_reading
from yflink.streaming.operators.base import TaskInfo


def _reader(path: Path, parallelism: int, index: int):  # type: ignore[no-untyped-def]
    source = FileSource.for_record_stream_format(StreamFormat.text_line_format(), str(path)) \
        .process_static_file_set().build()
    reader = source.create_reader()
    reader.open(TaskInfo("j", "job", "t", index, parallelism, 128))
    return reader


@pytest.mark.parametrize("chunk_bytes", [64, 1 << 16])
def test_snapshot_and_restore_resume_without_loss_or_duplicates(tmp_path: Path, chunk_bytes: int,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_reading, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(file_reading.LineSplitReader.__init__, "__defaults__", (chunk_bytes,))
    lines = [f"line {i} " + "x" * random.Random(i).randrange(40) for i in range(3000)]
    path = tmp_path / "input.txt"
    path.write_text("\n".join(lines) + "\n")
    rng = random.Random(5)
    for parallelism in (1, 2):
        got: list[str] = []
        for index in range(parallelism):
            reader = _reader(path, parallelism, index)
            while True:
                polled = reader.poll_batch(rng.randrange(1, 300))
                if polled is None:
                    break
                got.extend(polled[0])
                if rng.random() < 0.3:  # a checkpoint, then a failure: a new reader restores the snapshot
                    state = reader.snapshot_state()
                    reader.close()
                    reader = _reader(path, parallelism, index)
                    reader.restore_state(state)
            reader.close()
        assert sorted(got) == sorted(lines)
