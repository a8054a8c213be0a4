"""gRPC transport for the gateways: servers, channels and stubs, with errors translated in one place.

Every call carries a deadline (``rpc.ask-timeout``). Transport failures become :class:`RpcError`; a fencing
rejection (FAILED_PRECONDITION) becomes :class:`FencingTokenMismatch`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
import grpc.aio

from yflink.common.errors import FencingTokenMismatch, PortInUseError, RpcError
from yflink.rpc.protos import gateways_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)
T = TypeVar("T")

_OPTIONS = [
    ("grpc.max_send_message_length", 256 * 1024 * 1024),
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
    ("grpc.so_reuseport", 0),
]


async def start_server(servicers: list[tuple[Callable[[Any, grpc.aio.Server], None], Any]], host: str,
                       port: int, what: str) -> tuple[grpc.aio.Server, int]:
    """Start a gRPC server for ``servicers`` on host:port (0: any free port); returns (server, bound port).

    Raises:
        PortInUseError: the port is taken (``what`` names the configuration key to change).
    """
    server = grpc.aio.server(options=_OPTIONS)
    for add, servicer in servicers:
        add(servicer, server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if bound == 0:
        raise PortInUseError(f"PortInUseError: cannot listen on {host}:{port} for {what}; "
                             f"the port is in use. Free it or set another port.")
    await server.start()
    return server, bound


class Channels:
    """One gRPC channel per peer address, created on first use."""

    def __init__(self) -> None:
        self._channels: dict[str, grpc.aio.Channel] = {}

    def get(self, address: str) -> grpc.aio.Channel:
        channel = self._channels.get(address)
        if channel is None:
            channel = grpc.aio.insecure_channel(address, options=_OPTIONS)
            self._channels[address] = channel
        return channel

    def resource_manager(self, address: str) -> pb_grpc.ResourceManagerGatewayStub:
        return pb_grpc.ResourceManagerGatewayStub(self.get(address))

    def job_master(self, address: str) -> pb_grpc.JobMasterGatewayStub:
        return pb_grpc.JobMasterGatewayStub(self.get(address))

    def task_executor(self, address: str) -> pb_grpc.TaskExecutorGatewayStub:
        return pb_grpc.TaskExecutorGatewayStub(self.get(address))

    def slot_worker(self, address: str) -> pb_grpc.SlotWorkerGatewayStub:
        return pb_grpc.SlotWorkerGatewayStub(self.get(address))

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()


async def call(what: str, awaitable: Awaitable[T]) -> T:
    """Await a stub call, translating gRPC errors; ``what`` names the call in the error."""
    try:
        return await awaitable
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:
            raise FencingTokenMismatch(f"{what}: {exc.details()}") from None
        raise RpcError(f"{what} failed: {exc.code().name} {exc.details()}") from None


async def reject_fenced(context: grpc.aio.ServicerContext, message: str) -> None:
    """Abort the current call as fenced off (a stale leader session id)."""
    await context.abort(grpc.StatusCode.FAILED_PRECONDITION, message)
