"""State backend costs in one run (issue 5, item 8): checkpoints of large keyed state on rocksdb, full against
incremental, and state-access throughput of hashmap against rocksdb.

1. Checkpoints: a rocksdb backend (``RocksDBKeyedStateBackend``) holds --keys ValueState entries of --value-bytes
   random bytes each (default 1,000,000 x 1 KiB = about 1 GiB). Checkpoints go to ``file://`` storage through the
   tasks' upload path (``write_operator_snapshot``):
   * full: the canonical snapshot (what savepoints and non-incremental checkpoints write);
   * incremental, first: every SST file is new and uploaded to ``shared/``;
   * incremental, next: after 1 % of the keys changed, only the new SST files are uploaded.
   Printed per kind: the synchronous part (flush + RocksDB checkpoint), the asynchronous part (materialise/upload)
   and the bytes written, medians of --repeat checkpoints.
2. Throughput: --ops state accesses (value() then update() of a random key of --access-keys keys) on hashmap and on
   rocksdb, medians of --repeat runs, and their ratio.

Flink documentation: "State Backends", "Large State Tuning" > Incremental Checkpoints. The 2-core machine is shared:
compare the figures of one run.

    python bench/state_backend.py [--keys 1000000] [--value-bytes 1024] [--repeat 3] [--ops 200000]
    python bench/state_backend.py --quick     # 100,000 keys
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from yflink.checkpoint.handles import FileStateHandle, KeyGroupRange, OperatorState, OperatorSubtaskState
from yflink.checkpoint.metadata import CheckpointMetadata
from yflink.checkpoint.storage import CheckpointStorage
from yflink.checkpoint.task_state import write_operator_snapshot
from yflink.datastream import ValueStateDescriptor
from yflink.state.backends.hashmap import HashMapKeyedStateBackend
from yflink.state.backends.rocksdb import RocksDBKeyedStateBackend
from yflink.state.snapshot import OperatorSnapshot

JOB = "be" * 16
MAX_PARALLELISM = 128


def fill(backend: Any, keys: range, value_bytes: int, rng: random.Random) -> None:
    state = backend.get_state(ValueStateDescriptor("payload"))
    for key in keys:
        backend.set_current_key(key)
        state.update(rng.randbytes(value_bytes))


class Checkpoints:
    def __init__(self, root: Path, backend: RocksDBKeyedStateBackend) -> None:
        self.storage = CheckpointStorage(JOB, f"file://{root}")
        self.storage.initialize_base_locations()
        self.backend = backend
        self.next_id = 1

    def take(self, incremental: bool) -> tuple[float, float, int]:
        """(sync ms, async ms, bytes written) of one checkpoint, which then completes."""
        checkpoint_id, self.next_id = self.next_id, self.next_id + 1
        location = self.storage.checkpoint_location(checkpoint_id)
        self.storage.initialize_location(location)
        self.backend.incremental = incremental
        start = time.perf_counter()
        snapshot = self.backend.snapshot()
        sync = time.perf_counter()
        state = write_operator_snapshot(self.storage, location.exclusive_dir, OperatorSnapshot(0, 1, snapshot),
                                        KeyGroupRange(0, MAX_PARALLELISM - 1),
                                        shared_directory=self.storage.shared_dir)
        done = time.perf_counter()
        written = sum(h.size for h, shared in state.stream_handles() if isinstance(h, FileStateHandle)
                      and (not shared or checkpoint_id == _created_by(h)))
        operators = [OperatorState("0f" * 16, 1, MAX_PARALLELISM, {0: OperatorSubtaskState(state.keyed)})]
        self.storage.write_metadata(location, CheckpointMetadata(checkpoint_id, JOB, 0, operators=operators))
        for older in range(1, checkpoint_id - 1):  # keep two, as num-retained would (files stay: shared)
            metadata = self.storage.checkpoint_location(older).metadata_path.removeprefix("file://")
            if os.path.exists(metadata):
                os.remove(metadata)
        return (sync - start) * 1000, (done - sync) * 1000, written


_FIRST_SEEN: dict[str, int] = {}
_CURRENT = [0]


def _created_by(handle: FileStateHandle) -> int:
    """The checkpoint that first listed a shared file (so only its uploader counts its bytes)."""
    return _FIRST_SEEN.setdefault(handle.path, _CURRENT[0])


def checkpoints(args: argparse.Namespace, root: Path) -> None:
    rng = random.Random(1)
    backend = RocksDBKeyedStateBackend(MAX_PARALLELISM, local_dir=str(root / "local"))
    start = time.perf_counter()
    fill(backend, range(args.keys), args.value_bytes, rng)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"filled {args.keys:,} keys x {args.value_bytes} B in {time.perf_counter() - start:.1f} s; "
          f"peak RSS so far {peak:.0f} MiB (the state is on disk)")
    runner = Checkpoints(root / "checkpoints", backend)

    def run(kind: str, incremental: bool, change: bool, times: int) -> None:
        figures = []
        for _ in range(times):
            if change:  # 1 % of the keys get new values
                fill(backend, range(0, args.keys, 100), args.value_bytes, rng)
            _CURRENT[0] = runner.next_id
            figures.append(runner.take(incremental))
        sync, upload, size = (statistics.median(f[i] for f in figures) for i in range(3))
        print(f"{kind:<24} sync {sync:8.0f} ms  async {upload:9.0f} ms  written {size / 2**20:9.1f} MiB"
              f"   ({times} checkpoints)")

    print("checkpoint (medians)")
    run("full (canonical)", False, False, args.repeat)
    run("incremental, first", True, False, 1)
    run("incremental, 1% changed", True, True, args.repeat)
    shared = sum(p.stat().st_size for p in (root / "checkpoints" / JOB / "shared").iterdir())
    local = sum(p.stat().st_size for p in Path(backend.working_dir).rglob("*") if p.is_file())
    print(f"rocksdb working files {local / 2**20:.0f} MiB, shared/ {shared / 2**20:.0f} MiB")
    backend.dispose()


def throughput(args: argparse.Namespace, root: Path) -> None:
    def run(backend: Any) -> float:
        rng = random.Random(2)
        fill(backend, range(args.access_keys), 100, rng)
        state = backend.get_state(ValueStateDescriptor("payload"))
        keys = [rng.randrange(args.access_keys) for _ in range(args.ops)]
        start = time.perf_counter()
        for key in keys:
            backend.set_current_key(key)
            value = state.value()
            state.update(value[1:] + value[:1])
        return args.ops / (time.perf_counter() - start)

    heap, disk = [], []
    for _ in range(args.repeat):
        heap.append(run(HashMapKeyedStateBackend(MAX_PARALLELISM)))
        rocks = RocksDBKeyedStateBackend(MAX_PARALLELISM, local_dir=str(root / "local"))
        disk.append(run(rocks))
        rocks.dispose()
    h, d = statistics.median(heap), statistics.median(disk)
    print(f"state access (value + update of a random key of {args.access_keys:,}), medians of {args.repeat}:")
    print(f"  hashmap {h:12,.0f} ops/s   rocksdb {d:12,.0f} ops/s   rocksdb/hashmap {d / h:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--value-bytes", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--access-keys", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="100,000 keys")
    parser.add_argument("--dir", default=None, help="where to put the files (default: a temporary directory)")
    args = parser.parse_args()
    if args.quick:
        args.keys = 100_000
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    root = Path(tempfile.mkdtemp(prefix="yflink-state-bench-", dir=args.dir))
    try:
        checkpoints(args, root)
        throughput(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
