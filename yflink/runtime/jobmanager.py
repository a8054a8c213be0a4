"""The JobManager process: Dispatcher, ResourceManager and JobMasters behind one gRPC endpoint and REST.

The gRPC endpoint (``jobmanager.rpc.port``) serves the ResourceManagerGateway, the JobMasterGateway of every
job (routed by job id, fenced by the JobMaster's session id) and the DispatcherGateway; the REST API
(``rest.port``) serves clients. Source: Flink ``StandaloneSessionClusterEntrypoint``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.rpc.protos import gateways_pb2 as pb
from yflink.rpc.protos import gateways_pb2_grpc as pb_grpc
from yflink.rpc.service import reject_fenced, start_server
from yflink.runtime.dispatcher import Dispatcher
from yflink.runtime.jobmaster.jobmaster import JobMaster

log = logging.getLogger(__name__)


class JobMasterRouter(pb_grpc.JobMasterGatewayServicer):
    """Routes JobMasterGateway calls to the JobMaster of the call's job, checking its fencing token."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def _job_master(self, job_id: str, job_master_id: str, context: Any) -> Optional[JobMaster]:
        jm = self.dispatcher.job_masters.get(job_id)
        if jm is None:
            await reject_fenced(context, f"no JobMaster for job {job_id}")
            return None
        if job_master_id and job_master_id != jm.id:
            await reject_fenced(context, f"stale JobMaster session id {job_master_id} for job {job_id}")
            return None
        return jm

    async def OfferSlots(self, request: pb.OfferSlotsRequest, context: Any) -> pb.OfferSlotsReply:
        jm = await self._job_master(request.job_id, request.job_master_id, context)
        assert jm is not None
        accepted = await jm.offer_slots(request.resource_id, request.task_executor_address,
                                        [(o.allocation_id, o.slot_index, o.data_address) for o in request.offers])
        return pb.OfferSlotsReply(accepted=accepted)

    async def UpdateTaskExecutionState(self, request: pb.TaskExecutionState, context: Any) -> pb.Empty:
        jm = await self._job_master(request.job_id, request.job_master_id, context)
        assert jm is not None
        await jm.update_task_execution_state(request.execution_id, request.state, request.failure or None)
        return pb.Empty()

    async def ReportTaskMetrics(self, request: pb.TaskMetricsReport, context: Any) -> pb.Empty:
        jm = self.dispatcher.job_masters.get(request.job_id)
        if jm is not None and (not request.job_master_id or request.job_master_id == jm.id):
            jm.report_metrics(list(request.tasks))
        return pb.Empty()

    async def HeartbeatFromTaskManager(self, request: pb.TaskExecutorHeartbeat, context: Any) -> pb.HeartbeatReply:
        known = False
        for jm in self.dispatcher.job_masters.values():
            known = jm.heartbeat_from_task_manager(request.resource_id) or known
        return pb.HeartbeatReply(known=known)

    async def DisconnectTaskManager(self, request: pb.DisconnectRequest, context: Any) -> pb.Empty:
        for jm in list(self.dispatcher.job_masters.values()):
            await jm.task_manager_lost(request.id, request.cause)
        return pb.Empty()

    async def AcknowledgeCheckpoint(self, request: pb.CheckpointAck, context: Any) -> pb.Empty:
        jm = await self._job_master(request.job_id, request.job_master_id, context)
        assert jm is not None
        await jm.acknowledge_checkpoint(request.execution_id, request.checkpoint_id, request.state)
        return pb.Empty()

    async def DeclineCheckpoint(self, request: pb.CheckpointDecline, context: Any) -> pb.Empty:
        jm = await self._job_master(request.job_id, request.job_master_id, context)
        assert jm is not None
        await jm.decline_checkpoint(request.execution_id, request.checkpoint_id, request.reason)
        return pb.Empty()

    async def CollectResults(self, request: pb.CollectBatch, context: Any) -> pb.Empty:
        jm = self.dispatcher.job_masters.get(request.job_id)
        if jm is not None:
            jm.collect(request.operator_id, request.subtask_index, pickle.loads(request.records),
                       request.end_of_input)
        return pb.Empty()


class DispatcherService(pb_grpc.DispatcherGatewayServicer):
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def SubmitJob(self, request: pb.SubmitJobRequest, context: Any) -> pb.SubmitJobReply:
        return pb.SubmitJobReply(job_id=await self.dispatcher.submit_job(pickle.loads(request.job_graph)))

    async def CancelJob(self, request: pb.JobIdRequest, context: Any) -> pb.Empty:
        await self.dispatcher.cancel_job(request.job_id)
        return pb.Empty()

    async def RequestJobStatus(self, request: pb.JobIdRequest, context: Any) -> pb.JobStatusReply:
        return pb.JobStatusReply(status=self.dispatcher.execution_graph(request.job_id).status.value)


@dataclass
class JobManagerServices:
    """What one (leading) JobManager serves: its Dispatcher with the gRPC and REST servers."""

    dispatcher: Dispatcher
    server: Any
    runner: Any
    rpc_address: str
    rest_address: str

    async def stop(self, suspend_cause: Optional[str] = None) -> None:
        """Stop serving. ``suspend_cause`` (leadership lost): JobMasters are suspended, not cancelled, so the
        next leader recovers their jobs; None (shutdown): running jobs are cancelled as before."""
        if suspend_cause is not None:
            await self.dispatcher.suspend(suspend_cause)
        else:
            await self.dispatcher.stop()
        await self.runner.cleanup()
        await self.server.stop(0.5 if suspend_cause else 1.0)


async def start_jobmanager_services(config: Configuration, ha: Any = None,
                                    leader_session_id: str = "") -> JobManagerServices:
    """Start a Dispatcher (ResourceManager, JobMasters) behind gRPC and REST. Raises PortInUseError when the RPC
    or REST port is taken."""
    bind_host = config.get(opts.JM_BIND_HOST)
    advertised = config.get(opts.JM_RPC_ADDRESS)
    if advertised in ("localhost", "", None):
        advertised = "127.0.0.1" if bind_host in ("127.0.0.1", "0.0.0.0", "localhost") else bind_host
    dispatcher = Dispatcher(config, rpc_address="", ha=ha, leader_session_id=leader_session_id)
    server, rpc_port = await start_server(
        [(pb_grpc.add_ResourceManagerGatewayServicer_to_server, dispatcher.resource_manager),
         (pb_grpc.add_JobMasterGatewayServicer_to_server, JobMasterRouter(dispatcher)),
         (pb_grpc.add_DispatcherGatewayServicer_to_server, DispatcherService(dispatcher))],
        bind_host, config.get(opts.JM_RPC_PORT), "jobmanager.rpc.port")
    dispatcher.rpc_address = f"{advertised}:{rpc_port}"
    if (config.get(opts.EXECUTION_TARGET) or "").startswith("yarn-") and os.environ.get("SKEIN_APPLICATION_ID"):
        from yflink.deploy.yarn.driver import YarnTaskManagerDriver  # in a skein application master

        dispatcher.resource_manager.driver = YarnTaskManagerDriver(config, dispatcher)
        dispatcher.resource_manager.driver.start()
    elif config.get(opts.LOCAL_TMS_ENABLED):
        from yflink.runtime.local_driver import LocalTaskManagerDriver

        dispatcher.resource_manager.driver = LocalTaskManagerDriver(config, dispatcher.rpc_address)
    dispatcher.start()
    from yflink.rest.server import start_rest_server

    rest_host = config.get(opts.REST_BIND_ADDRESS)
    runner, rest_port = await start_rest_server(dispatcher, rest_host, config.get(opts.REST_PORT))
    rest_address = config.get(opts.REST_ADDRESS)
    if rest_address in ("localhost", "", None):
        rest_address = "127.0.0.1" if rest_host in ("127.0.0.1", "0.0.0.0", "localhost") else rest_host
    log.info("JobManager serving RPC at %s and REST at http://%s:%d", dispatcher.rpc_address, rest_address,
             rest_port)
    return JobManagerServices(dispatcher, server, runner, dispatcher.rpc_address, f"{rest_address}:{rest_port}")


def _write_ready(ready_file: Optional[Path], info: dict[str, Any]) -> None:
    if ready_file is not None:
        tmp = ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"role": "jobmanager", "pid": os.getpid(), **info}))
        tmp.rename(ready_file)


async def run_jobmanager(config: Configuration, ready_file: Optional[Path]) -> None:
    """Serve until SIGTERM/SIGINT. Raises PortInUseError when the RPC or REST port is taken.

    With ``high-availability.type: zookeeper`` the process contends for leadership and serves only while it
    leads (:class:`~yflink.runtime.highavailability.runner.JobManagerLeaderRunner`)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    from yflink.runtime.highavailability import HaConfiguration

    if HaConfiguration.from_configuration(config).enabled:
        from yflink.runtime.highavailability.runner import JobManagerLeaderRunner

        await JobManagerLeaderRunner(config).run(stop, lambda info: _write_ready(ready_file, info))
        return
    services = await start_jobmanager_services(config)
    _write_ready(ready_file, {"rpc_address": services.rpc_address, "rest_address": services.rest_address})
    await stop.wait()
    log.info("JobManager stopping")
    await services.stop()
