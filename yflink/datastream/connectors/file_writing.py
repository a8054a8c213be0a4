"""How ``FileSink`` writes part files: buckets, rolling policies, part file names, pending files and commits
(the machinery behind :mod:`yflink.datastream.connectors.file_system`).

A part file lives through three states (Flink ``FileSink``):

- *in-progress*: open for writing, as the hidden file ``<bucket dir>/.<part name>.inprogress.<uuid>``;
- *pending*: closed by the rolling policy (or at a flush), waiting for a commit: a :class:`PendingFile`;
- *finished*: committed, renamed to ``<bucket dir>/<part name>``; readers see only finished files.

The writer's two-phase shape is ready for checkpoints: :meth:`FileSinkWriter.prepare_commit` closes what must be
closed and returns the pending files (Flink's committables, to be stored in the checkpoint), and
:func:`commit` renames them (Flink's ``FileCommitter``, to run when the checkpoint completes). Commits are
idempotent: committing a file that was already renamed is a no-op, so a commit can be retried after a failure.

Source of the semantics: Flink ``FileWriter``, ``FileWriterBucket``, ``FileCommitter``, ``DefaultRollingPolicy``,
``OnCheckpointRollingPolicy``, ``DateTimeBucketAssigner``, ``BasePathBucketAssigner``, ``OutputFileConfig``,
``LocalRecoverableWriter`` (the in-progress file name).
"""

from __future__ import annotations

import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from yflink.common.serialization import Encoder
from yflink.datastream.connectors.base import SinkWriter
from yflink.streaming.operators.base import TaskInfo

# ---- bucket assigners ----------------------------------------------------------------------------------------


class BucketAssigner:
    """Decides the bucket (sub-directory of the base path) each record goes to (PyFlink ``BucketAssigner``).

    Subclasses implement :meth:`get_bucket_id`. When :attr:`element_independent` is True the bucket depends only
    on the time, and the writer asks once per batch.
    """

    #: True when :meth:`get_bucket_id` ignores ``element`` (the writer then asks once per batch).
    element_independent = False

    def get_bucket_id(self, element: Any, current_time_ms: int) -> str:
        """The bucket id (a relative directory path; ``""`` is the base path itself) for ``element`` at
        processing time ``current_time_ms`` (ms since the epoch)."""
        raise NotImplementedError

    @staticmethod
    def base_path_bucket_assigner() -> BasePathBucketAssigner:
        """No bucketing: all part files go directly into the base path."""
        return BasePathBucketAssigner()

    @staticmethod
    def date_time_bucket_assigner(format_str: str = "yyyy-MM-dd--HH",
                                  timezone_id: str | None = None) -> DateTimeBucketAssigner:
        """Buckets by the current processing time formatted with ``format_str``.

        Args:
            format_str: a Java ``DateTimeFormatter`` pattern; yflink supports the fields ``yyyy``/``uuuu``, ``yy``,
                ``MM``, ``dd``, ``HH``, ``mm``, ``ss`` and literal text (``'quoted'`` or punctuation).
            timezone_id: an IANA zone such as ``"America/Los_Angeles"`` or ``"UTC"``; None for the local zone.
        """
        return DateTimeBucketAssigner(format_str, timezone_id)


class BasePathBucketAssigner(BucketAssigner):
    """Every record goes into the base path (Flink ``BasePathBucketAssigner``)."""

    element_independent = True

    def get_bucket_id(self, element: Any, current_time_ms: int) -> str:
        return ""


_JAVA_FIELDS = {"yyyy": "%Y", "uuuu": "%Y", "yy": "%y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M",
                "ss": "%S"}


def java_date_pattern_to_strftime(pattern: str) -> str:
    """Translate a Java ``DateTimeFormatter`` pattern (the subset listed in
    :meth:`BucketAssigner.date_time_bucket_assigner`) to a ``strftime`` format.

    Raises:
        ValueError: the pattern uses a field yflink does not support.
    """
    out = []
    for token in re.finditer(r"'[^']*'|([A-Za-z])\1*|[^A-Za-z']+", pattern):
        text = token.group(0)
        if text.startswith("'"):
            out.append((text[1:-1] or "'").replace("%", "%%"))
        elif text[0].isalpha():
            if text not in _JAVA_FIELDS:
                raise ValueError(f"date-time bucket format {pattern!r}: field {text!r} is not supported; use "
                                 f"{', '.join(sorted(_JAVA_FIELDS))} and literal text")
            out.append(_JAVA_FIELDS[text])
        else:
            out.append(text.replace("%", "%%"))
    return "".join(out)


class DateTimeBucketAssigner(BucketAssigner):
    """Buckets by processing time (Flink ``DateTimeBucketAssigner``, default ``yyyy-MM-dd--HH``: one bucket per
    hour)."""

    element_independent = True

    def __init__(self, format_str: str = "yyyy-MM-dd--HH", timezone_id: str | None = None) -> None:
        self.format_str = format_str
        self.timezone_id = timezone_id
        self._strftime = java_date_pattern_to_strftime(format_str)
        if timezone_id is not None:
            self._zone()  # fail early on an unknown zone

    def _zone(self) -> Any:
        if self.timezone_id is None:
            return None
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            return ZoneInfo(self.timezone_id)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone_id!r}: use an IANA name such as 'UTC' or "
                             "'Europe/Berlin'") from None

    def get_bucket_id(self, element: Any, current_time_ms: int) -> str:
        zone = self._zone()
        moment = datetime.fromtimestamp(current_time_ms / 1000.0, zone)
        return moment.strftime(self._strftime)


# ---- rolling policies ----------------------------------------------------------------------------------------


@dataclass
class PartFileInfo:
    """What a rolling policy may know about an in-progress part file (Flink ``PartFileInfo``).

    Attributes:
        bucket_id: the bucket the file belongs to.
        creation_time: when the file was opened, ms since the epoch.
        last_update_time: when it was last written, ms since the epoch.
        size: bytes written so far.
    """

    bucket_id: str
    creation_time: int
    last_update_time: int
    size: int = 0


class RollingPolicy:
    """Decides when an in-progress part file is closed and a new one started (PyFlink ``RollingPolicy``)."""

    def should_roll_on_event(self, part: PartFileInfo) -> bool:
        """Checked before writing more records into ``part``."""
        raise NotImplementedError

    def should_roll_on_processing_time(self, part: PartFileInfo, current_time_ms: int) -> bool:
        """Checked every bucket-check interval."""
        raise NotImplementedError

    def should_roll_on_checkpoint(self, part: PartFileInfo) -> bool:
        """Checked at every checkpoint (and flush)."""
        raise NotImplementedError

    @staticmethod
    def default_rolling_policy(part_size: int = 1024 * 1024 * 128, rollover_interval: int = 60 * 1000,
                               inactivity_interval: int = 60 * 1000) -> DefaultRollingPolicy:
        """Roll when the file exceeds ``part_size`` bytes, is older than ``rollover_interval`` ms, or was not
        written for ``inactivity_interval`` ms (Flink ``DefaultRollingPolicy``)."""
        return DefaultRollingPolicy(part_size, rollover_interval, inactivity_interval)

    @staticmethod
    def on_checkpoint_rolling_policy() -> OnCheckpointRollingPolicy:
        """Roll only at checkpoints (Flink ``OnCheckpointRollingPolicy``)."""
        return OnCheckpointRollingPolicy()


class DefaultRollingPolicy(RollingPolicy):
    """See :meth:`RollingPolicy.default_rolling_policy`. Sizes in bytes, intervals in ms."""

    def __init__(self, part_size: int = 1024 * 1024 * 128, rollover_interval: int = 60 * 1000,
                 inactivity_interval: int = 60 * 1000) -> None:
        if part_size <= 0 or rollover_interval <= 0 or inactivity_interval <= 0:
            raise ValueError("part_size, rollover_interval and inactivity_interval must be positive, got "
                             f"{part_size} bytes, {rollover_interval} ms, {inactivity_interval} ms")
        self.part_size = part_size
        self.rollover_interval = rollover_interval
        self.inactivity_interval = inactivity_interval

    def should_roll_on_event(self, part: PartFileInfo) -> bool:
        return part.size > self.part_size

    def should_roll_on_processing_time(self, part: PartFileInfo, current_time_ms: int) -> bool:
        return (current_time_ms - part.creation_time >= self.rollover_interval
                or current_time_ms - part.last_update_time >= self.inactivity_interval)

    def should_roll_on_checkpoint(self, part: PartFileInfo) -> bool:
        return part.size > self.part_size


class OnCheckpointRollingPolicy(RollingPolicy):
    """See :meth:`RollingPolicy.on_checkpoint_rolling_policy`."""

    def should_roll_on_event(self, part: PartFileInfo) -> bool:
        return False

    def should_roll_on_processing_time(self, part: PartFileInfo, current_time_ms: int) -> bool:
        return False

    def should_roll_on_checkpoint(self, part: PartFileInfo) -> bool:
        return True


# ---- part file names -----------------------------------------------------------------------------------------


class OutputFileConfig:
    """Prefix and suffix of part file names (PyFlink ``OutputFileConfig``): ``<prefix>-<uid>-<n><suffix>``."""

    def __init__(self, part_prefix: str = "part", part_suffix: str = "") -> None:
        if "/" in part_prefix or "/" in part_suffix:
            raise ValueError(f"part prefix and suffix must not contain '/', got {part_prefix!r}, {part_suffix!r}")
        self.part_prefix = part_prefix
        self.part_suffix = part_suffix

    def get_part_prefix(self) -> str:
        return self.part_prefix

    def get_part_suffix(self) -> str:
        return self.part_suffix

    @staticmethod
    def builder() -> OutputFileConfig.OutputFileConfigBuilder:
        return OutputFileConfig.OutputFileConfigBuilder()

    class OutputFileConfigBuilder:
        """Builds an :class:`OutputFileConfig` (defaults: prefix ``part``, no suffix)."""

        def __init__(self) -> None:
            self.part_prefix = "part"
            self.part_suffix = ""

        def with_part_prefix(self, prefix: str) -> OutputFileConfig.OutputFileConfigBuilder:
            self.part_prefix = prefix
            return self

        def with_part_suffix(self, suffix: str) -> OutputFileConfig.OutputFileConfigBuilder:
            self.part_suffix = suffix
            return self

        def build(self) -> OutputFileConfig:
            return OutputFileConfig(self.part_prefix, self.part_suffix)


# ---- writing and committing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingFile:
    """A closed part file waiting to be committed (Flink ``FileSinkCommittable``): rename ``in_progress_path`` to
    ``final_path``."""

    in_progress_path: str
    final_path: str


def commit(pending_files: list[PendingFile]) -> None:
    """Make pending files visible by renaming them to their final names (Flink ``FileCommitter``); idempotent.

    Raises:
        FileNotFoundError: neither the in-progress file nor the final file exists (the data is lost).
    """
    for pending in pending_files:
        try:
            os.replace(pending.in_progress_path, pending.final_path)
        except FileNotFoundError:
            if not os.path.exists(pending.final_path):
                raise FileNotFoundError(f"FileSink: cannot commit {pending.final_path!r}: its in-progress file "
                                        f"{pending.in_progress_path!r} is gone") from None


class _InProgressPart:
    """An open part file."""

    def __init__(self, final_path: str, now_ms: int, bucket_id: str) -> None:
        directory, name = os.path.split(final_path)
        self.final_path = final_path
        self.path = os.path.join(directory, f".{name}.inprogress.{uuid.uuid4()}")
        self.info = PartFileInfo(bucket_id, now_ms, now_ms)
        self.file: IO[bytes] = open(self.path, "xb")  # noqa: SIM115 (closed by close_for_commit/dispose)

    def write(self, data: bytes, now_ms: int) -> None:
        self.file.write(data)
        self.info.size += len(data)
        self.info.last_update_time = now_ms

    def close_for_commit(self) -> PendingFile:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        return PendingFile(self.path, self.final_path)


class _Bucket:
    """One bucket directory of one writer (Flink ``FileWriterBucket``)."""

    def __init__(self, bucket_id: str, path: str, uid: str, config: OutputFileConfig) -> None:
        self.bucket_id = bucket_id
        self.path = path
        self.uid = uid
        self.config = config
        self.part_counter = 0
        self.in_progress: _InProgressPart | None = None
        self.pending: list[PendingFile] = []

    def write(self, data: bytes, now_ms: int, policy: RollingPolicy) -> None:
        part = self.in_progress
        if part is None or policy.should_roll_on_event(part.info):
            self.close_part()
            part = self.in_progress = self._open_part(now_ms)
        part.write(data, now_ms)

    def _open_part(self, now_ms: int) -> _InProgressPart:
        os.makedirs(self.path, exist_ok=True)
        name = f"{self.config.part_prefix}-{self.uid}-{self.part_counter}{self.config.part_suffix}"
        self.part_counter += 1
        return _InProgressPart(os.path.join(self.path, name), now_ms, self.bucket_id)

    def close_part(self) -> None:
        if self.in_progress is not None:
            self.pending.append(self.in_progress.close_for_commit())
            self.in_progress = None

    def take_pending(self) -> list[PendingFile]:
        pending, self.pending = self.pending, []
        return pending

    def dispose(self) -> None:
        """Close the open file without committing it (it stays as a hidden in-progress file)."""
        if self.in_progress is not None:
            self.in_progress.file.close()
            self.in_progress = None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class FileSinkWriter(SinkWriter):
    """Writes one sink subtask's part files (Flink ``FileWriter``).

    Args:
        base_path: the sink's base directory (created when missing).
        encoder: turns a batch of records into bytes.
        bucket_assigner: picks each record's bucket.
        rolling_policy: decides when part files roll.
        output_file_config: part file prefix and suffix.
        bucket_check_interval_ms: how often (ms) open files are checked against the policy's time limits.
    """

    def __init__(self, base_path: str, encoder: Encoder, bucket_assigner: BucketAssigner,
                 rolling_policy: RollingPolicy, output_file_config: OutputFileConfig,
                 bucket_check_interval_ms: int = 60_000) -> None:
        self.base_path = base_path
        self.encoder = encoder
        self.bucket_assigner = bucket_assigner
        self.rolling_policy = rolling_policy
        self.output_file_config = output_file_config
        self.bucket_check_interval_ms = bucket_check_interval_ms
        self.uid = str(uuid.uuid4())
        self.buckets: dict[str, _Bucket] = {}
        self._next_check_ms = 0

    def open(self, task_info: TaskInfo) -> None:
        os.makedirs(self.base_path, exist_ok=True)
        self._next_check_ms = _now_ms() + self.bucket_check_interval_ms

    def write_batch(self, values: list[Any], timestamps: list[int] | None) -> None:
        if not values:
            return
        now = _now_ms()
        assigner = self.bucket_assigner
        if assigner.element_independent:
            self._bucket(assigner.get_bucket_id(None, now)).write(
                self.encoder.encode_batch(values), now, self.rolling_policy)
        else:
            groups: dict[str, list[Any]] = {}
            for value in values:
                groups.setdefault(assigner.get_bucket_id(value, now), []).append(value)
            for bucket_id, group in groups.items():
                self._bucket(bucket_id).write(self.encoder.encode_batch(group), now, self.rolling_policy)
        if now >= self._next_check_ms:
            self.on_processing_time(now)

    def on_processing_time(self, now_ms: int) -> None:
        """Roll the part files the policy's time limits say to roll (Flink's bucket check timer)."""
        self._next_check_ms = now_ms + self.bucket_check_interval_ms
        for bucket in self.buckets.values():
            part = bucket.in_progress
            if part is not None and self.rolling_policy.should_roll_on_processing_time(part.info, now_ms):
                bucket.close_part()

    def prepare_commit(self, flush: bool) -> list[PendingFile]:
        """Close the part files that must close now (all of them when ``flush``, else those the policy rolls on
        checkpoint) and return every pending file; the caller (``SinkOperator``) commits them with :func:`commit`
        when the checkpoint completes (at the end of input: with the final checkpoint, FLIP-147; without periodic
        checkpoints at once)."""
        pending: list[PendingFile] = []
        for bucket in self.buckets.values():
            part = bucket.in_progress
            if part is not None and (flush or self.rolling_policy.should_roll_on_checkpoint(part.info)):
                bucket.close_part()
            pending.extend(bucket.take_pending())
        return pending

    def commit(self, pending_files: list[PendingFile]) -> None:
        """Commit files this writer (or an earlier attempt of it) prepared; idempotent (see :func:`commit`)."""
        commit(pending_files)

    def flush(self, end_of_input: bool) -> None:
        """At the end of input without periodic checkpoints (batch semantics): close and commit every part file
        (with them ``SinkOperator`` prepares instead and the final checkpoint commits). Otherwise: push written
        bytes to the OS (the commit then happens at checkpoints)."""
        if end_of_input:
            commit(self.prepare_commit(flush=True))
        else:
            for bucket in self.buckets.values():
                if bucket.in_progress is not None:
                    bucket.in_progress.file.flush()

    def close(self) -> None:
        for bucket in self.buckets.values():
            bucket.dispose()
        self.buckets = {}

    def _bucket(self, bucket_id: str) -> _Bucket:
        bucket = self.buckets.get(bucket_id)
        if bucket is None:
            path = os.path.join(self.base_path, bucket_id) if bucket_id else self.base_path
            bucket = self.buckets[bucket_id] = _Bucket(bucket_id, path, self.uid, self.output_file_config)
        return bucket
