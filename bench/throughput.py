"""Throughput of yflink on the embedded cluster against plain single-process Python, in the same run.

Jobs (issue 2):
* wordcount over a generated text file (>= 1M lines): FileSource -> flat_map(split) -> map((w, 1)) -> key_by
  -> reduce(sum) -> sink keeping each word's latest count;
* Nexmark q1 (>= 1M events): NexmarkSource -> filter(Bid) -> map(currency conversion) -> sink.

Each job runs at parallelism 1 and 2 on a warm embedded cluster (1 TaskManager, 2 slots: two slot-worker
processes); the baseline computes the same result with the same user functions in one Python loop. Every run
checks its result against the baseline. Printed: records/s (median of --repeat runs) and the ratios
p2/p1 (target >= 1.7) and p1/baseline (target >= 0.5). Records/s counts input records (lines, events).

    python bench/throughput.py [--lines 3000000] [--events 2000000] [--repeat 3]

The defaults (3M lines, 2M events) keep a job's fixed cost (planning, deployment, start and end of tasks: tens of
ms, printed as "start-up") under 2 % of a run, so the ratios show throughput; the issue's floor is 1M of each.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yflink.common import Configuration, Types, WatermarkStrategy
from yflink.connectors.nexmark import Bid, NexmarkSource
from yflink.connectors.nexmark.generator import NexmarkGenerator
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import FileSource, Sink, SinkWriter, StreamFormat
from yflink.deploy.local import shutdown_embedded_cluster


# --- the user functions, shared by the jobs and the baselines ---------------------------------------
def split(line: str) -> list[str]:
    return line.split()


def pair(word: str) -> tuple[str, int]:
    return (word, 1)


def add(a: tuple[str, int], b: tuple[str, int]) -> tuple[str, int]:
    return (a[0], a[1] + b[1])


def is_bid(event: Any) -> bool:
    return isinstance(event, Bid)


def to_euro(bid: Bid) -> tuple[int, int, float, int, str]:
    return (bid.auction, bid.bidder, 0.908 * bid.price, bid.date_time, bid.extra)


# --- a sink that writes a small summary per subtask, so results can be checked ------------------------
class SummarySink(Sink):
    """Keeps the latest value per key (``key`` given) or a count and checksum; writes JSON at end of input."""

    def __init__(self, directory: str, keyed: bool) -> None:
        self.directory = directory
        self.keyed = keyed

    def create_writer(self) -> SinkWriter:
        return _SummaryWriter(self.directory, self.keyed)


class _SummaryWriter(SinkWriter):
    def __init__(self, directory: str, keyed: bool) -> None:
        self.directory, self.keyed = directory, keyed
        self.latest: dict[str, int] = {}
        self.count = 0
        self.checksum = 0.0

    def open(self, task_info: Any) -> None:
        self.index = task_info.subtask_index

    def write_batch(self, values: list[Any], timestamps: list[int] | None) -> None:
        self.count += len(values)
        if self.keyed:
            latest = self.latest
            for word, n in values:
                latest[word] = n
        else:
            self.checksum += sum(v[2] for v in values)

    def flush(self, end_of_input: bool) -> None:
        if end_of_input:
            Path(self.directory, f"part-{self.index}.json").write_text(
                json.dumps({"latest": self.latest, "count": self.count, "checksum": self.checksum}))

    def close(self) -> None:
        pass


def read_summaries(directory: str) -> dict[str, Any]:
    latest: dict[str, int] = {}
    count, checksum = 0, 0.0
    for f in Path(directory).glob("part-*.json"):
        part = json.loads(f.read_text())
        latest.update(part["latest"])
        count += part["count"]
        checksum += part["checksum"]
        f.unlink()
    return {"latest": latest, "count": count, "checksum": round(checksum, 3)}


# --- jobs ---------------------------------------------------------------------------------------------------
def make_text(path: Path, lines: int, seed: int = 7) -> None:
    """``lines`` lines of 6 words drawn uniformly from 5,000: keys spread evenly over the subtasks, so the
    figures show how the engine scales rather than how skewed the keys are."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(5000)]
    with path.open("w") as f:
        for _ in range(lines // 1000):
            words = rng.choices(vocabulary, k=6000)
            f.write("\n".join(" ".join(words[i:i + 6]) for i in range(0, 6000, 6)))
            f.write("\n")


def run_wordcount(path: Path, parallelism: int, out: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    lines = env.from_source(FileSource.for_record_stream_format(StreamFormat.text_line_format(), str(path))
                            .process_static_file_set().build(), WatermarkStrategy.no_watermarks(), "Text")
    (lines.flat_map(split, output_type=Types.STRING())
          .map(pair, output_type=Types.TUPLE([Types.STRING(), Types.INT()]))
          .key_by(lambda p: p[0])
          .reduce(add)
          .sink_to(SummarySink(out, keyed=True)))
    env.execute(f"wordcount p={parallelism}")


def baseline_wordcount(path: Path, out: str) -> dict[str, Any]:
    counts: dict[str, tuple[str, int]] = {}
    latest: dict[str, int] = {}
    n = 0
    with path.open() as f:
        for line in f:
            for word in split(line):
                p = pair(word)
                old = counts.get(p[0])
                new = p if old is None else add(old, p)
                counts[p[0]] = new
                latest[new[0]] = new[1]
                n += 1
    return {"latest": latest, "count": n, "checksum": 0.0}


def run_q1(events: int, parallelism: int, out: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    source = NexmarkSource(events, first_event_time_ms=0)
    (env.from_source(source, WatermarkStrategy.no_watermarks(), "Nexmark Source")
        .filter(is_bid)
        .map(to_euro, output_type=Types.TUPLE([Types.LONG(), Types.LONG(), Types.DOUBLE(), Types.LONG(),
                                                Types.STRING()]))
        .sink_to(SummarySink(out, keyed=False)))
    env.execute(f"nexmark q1 p={parallelism}")


def baseline_q1(events: int, out: str) -> dict[str, Any]:
    generator = NexmarkGenerator(first_event_time_ms=0)
    count, checksum = 0, 0.0
    for start in range(0, events, 1024):
        batch, _ = generator.generate(start, min(events, start + 1024))
        for event in batch:
            if is_bid(event):
                row = to_euro(event)
                count += 1
                checksum += row[2]
    return {"latest": {}, "count": count, "checksum": round(checksum, 3)}


def same_result(got: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Equal counts and latest values; checksums equal up to float summation order."""
    return (got["count"] == expected["count"] and got["latest"] == expected["latest"]
            and abs(got["checksum"] - expected["checksum"]) <= 1e-9 * max(1.0, abs(expected["checksum"])))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=3_000_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from yflink.graph.executor import set_context_configuration

    conf = Configuration()
    conf.set_string("taskmanager.numberOfTaskSlots", "2")
    set_context_configuration(conf)
    work = Path(tempfile.mkdtemp(prefix="yflink-bench-"))
    out = str(work / "out")
    os.makedirs(out)
    text = work / "words.txt"
    make_text(text, args.lines)
    print(f"cores: {os.cpu_count()}, lines: {args.lines:,}, events: {args.events:,}, repeat: {args.repeat}",
          file=sys.stderr)
    run_q1(1000, 2, out)  # start and warm the embedded cluster
    read_summaries(out)
    tiny = work / "tiny.txt"
    make_text(tiny, 1000)
    startup = {p: statistics.median(timed(lambda p=p: run_wordcount(tiny, p, out))[0]  # type: ignore[misc]
                                    for _ in range(5)) for p in (1, 2)}
    read_summaries(out)
    print(f"start-up (a 1,000-line wordcount, median of 5): p=1 {startup[1] * 1000:.0f} ms, "
          f"p=2 {startup[2] * 1000:.0f} ms", file=sys.stderr)

    jobs: list[tuple[str, int, Callable[[int], None], Callable[[], dict[str, Any]]]] = [
        ("wordcount", args.lines, lambda p: run_wordcount(text, p, out), lambda: baseline_wordcount(text, out)),
        ("nexmark-q1", args.events, lambda p: run_q1(args.events, p, out), lambda: baseline_q1(args.events, out)),
    ]
    ok = True
    rows = []
    for name, n, job, baseline in jobs:
        base_times, p1_times, p2_times = [], [], []
        expected: dict[str, Any] = {}
        for _ in range(args.repeat):
            t, expected = timed(baseline)
            base_times.append(t)
            for p, times in ((1, p1_times), (2, p2_times)):
                t, _ = timed(lambda job=job, p=p: job(p))  # type: ignore[misc]
                times.append(t)
                got = read_summaries(out)
                if not same_result(got, expected):
                    ok = False
                    print(f"{name} p={p}: RESULT DIFFERS from the baseline "
                          f"(count {got['count']} vs {expected['count']})", file=sys.stderr)
        base, p1, p2 = (n / statistics.median(ts) for ts in (base_times, p1_times, p2_times))
        rows.append((name, base, p1, p2))

    print(f"{'job':<12} {'baseline rec/s':>15} {'p=1 rec/s':>12} {'p=2 rec/s':>12} {'p2/p1':>7} {'p1/base':>8}")
    for name, base, p1, p2 in rows:
        print(f"{name:<12} {base:>15,.0f} {p1:>12,.0f} {p2:>12,.0f} {p2 / p1:>7.2f} {p1 / base:>8.2f}")
    print("targets: p2/p1 >= 1.70, p1/base >= 0.50; results checked against the baseline:",
          "equal" if ok else "DIFFERENT")
    shutdown_embedded_cluster()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
