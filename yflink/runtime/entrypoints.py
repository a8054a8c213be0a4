"""Process entry points: ``python -m yflink.runtime.entrypoints jobmanager|taskmanager|slot-worker``.

The role is the first argument, so ``ps`` shows what each process is. Logs go to ``--log-file``; a process
started with ``--parent-pid`` exits when that parent dies (Linux ``PR_SET_PDEATHSIG``), so an embedded cluster
never outlives its client and slot workers never outlive their TaskManager.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Optional

from yflink.common.configuration import load_configuration
from yflink.common.errors import YFlinkError
from yflink.common.ids import ResourceID

log = logging.getLogger("yflink.entrypoints")
_PR_SET_PDEATHSIG = 1


def watch_parent(parent_pid: int, interval_s: float = 0.5) -> None:
    """Exit when ``parent_pid`` is no longer this process's parent (a daemon thread polls ``getppid()``).

    Unlike ``PR_SET_PDEATHSIG``, which fires when the *thread* that forked this process ends, this follows the
    parent process itself, so an embedded cluster started from a worker thread outlives that thread.
    """
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent exits; exit now if it already has.

    Used for slot workers, which their TaskManager's main thread starts."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        os._exit(1)


def _setup_logging(log_file: Optional[str], role: str) -> None:
    fmt = f"%(asctime)s %(levelname)-5s [{role} %(process)d] %(name)s: %(message)s"
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        level = getattr(logging, os.environ.get("YFLINK_LOG_LEVEL", "INFO").upper(), logging.INFO)
        logging.basicConfig(filename=log_file, level=level, format=fmt)
    else:
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format=fmt)
    logging.getLogger("asyncio").setLevel(logging.WARNING)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yflink.runtime.entrypoints")
    parser.add_argument("role", choices=["jobmanager", "taskmanager", "slot-worker"])
    parser.add_argument("--conf-dir")
    parser.add_argument("--log-file")
    parser.add_argument("--ready-file")
    parser.add_argument("--parent-pid", type=int)
    parser.add_argument("--jobmanager", help="host:port of the JobManager RPC endpoint (taskmanager)")
    parser.add_argument("--resource-id")
    parser.add_argument("--taskmanager", help="host:port of the TaskManager gateway (slot-worker)")
    parser.add_argument("--slot", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("-D", dest="dynamic", action="append", default=[])
    args = parser.parse_args(argv)
    if args.parent_pid:
        if args.role == "slot-worker":
            die_with_parent(args.parent_pid)
        else:
            watch_parent(args.parent_pid)
    _setup_logging(args.log_file, args.role)
    if args.conf_dir:
        os.environ["YFLINK_CONF_DIR"] = args.conf_dir
    if args.log_file:
        os.environ["YFLINK_LOG_FILE"] = args.log_file
    try:
        if os.environ.get("SKEIN_APPLICATION_ID"):  # in a YARN container: the yarn.* keys are known keys
            import yflink.deploy.yarn.options  # noqa: F401
        config = load_configuration(args.conf_dir, args.dynamic)
        if args.role == "jobmanager":
            from yflink.runtime.jobmanager import run_jobmanager

            asyncio.run(run_jobmanager(config, Path(args.ready_file) if args.ready_file else None))
        elif args.role == "taskmanager":
            asyncio.run(_run_taskmanager(config, args))
        else:
            from yflink.runtime.taskexecutor.slot_worker import SlotWorker

            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the TaskManager decides when its workers stop
            worker = SlotWorker(args.slot, args.taskmanager, args.host, args.parent_pid or os.getppid(), config)
            asyncio.run(worker.run())
    except YFlinkError as exc:
        log.error("%s: %s", type(exc).__name__, exc)
        print(f"yflink {args.role}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


async def _run_taskmanager(config: object, args: argparse.Namespace) -> None:
    from yflink.common.configuration import Configuration
    from yflink.runtime.taskexecutor.taskexecutor import TaskExecutor

    assert isinstance(config, Configuration)
    from yflink.runtime.highavailability import HaConfiguration, create_ha_services

    ha = None
    if HaConfiguration.from_configuration(config).enabled:  # the leader is found through ZooKeeper
        ha = await asyncio.to_thread(create_ha_services, config)
        args.jobmanager = ""
    elif not args.jobmanager:
        from yflink.common import config_options as opts

        args.jobmanager = f"{config.get(opts.JM_RPC_ADDRESS)}:{config.get(opts.JM_RPC_PORT)}"
    te = TaskExecutor(config, args.resource_id or ResourceID.generate().hex, args.jobmanager,
                      ha.leader_retrieval() if ha is not None else None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await te.start()
        if args.ready_file:
            ready = Path(args.ready_file)
            tmp = ready.with_suffix(".tmp")
            tmp.write_text(json.dumps({"role": "taskmanager", "pid": os.getpid(), "resource_id": te.resource_id,
                                       "rpc_address": te.address}))
            tmp.rename(ready)
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(te.terminated.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
    finally:
        await te.stop()
        if ha is not None:
            ha.close()


if __name__ == "__main__":
    sys.exit(main())
