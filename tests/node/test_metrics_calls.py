"""Each call is counted with the status code its caller gets, whoever decided it.

A real ``grpc.aio`` server with the node's two interceptors in the runtime's order and a gate
given a ``NodeMetrics`` meter, and an AdminService whose Ping does what the request's payload
says: answer, set a status itself, raise one of our errors, fail with a bug, or wait.
"""

from __future__ import annotations

import asyncio
import gc

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]

from core.errors import UnknownOfficer
from node.edge.errors import ErrorMappingInterceptor
from node.edge.gate import CallGate
from node.edge.limits import request_limit
from node.metrics import NodeMetrics
from proto.hotline.v1 import admin_pb2, admin_pb2_grpc

PING = "/hotline.v1.AdminService/Ping"


class Ping(admin_pb2_grpc.AdminServiceServicer):
    """Ping does what its payload says; ``wait`` holds until ``release`` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.waiting = 0

    async def Ping(
        self, request: admin_pb2.PingRequest, context: aio.ServicerContext[object, object]
    ) -> admin_pb2.PingResponse:
        if request.payload == b"unimplemented":
            context.set_code(grpc.StatusCode.UNIMPLEMENTED)
            return admin_pb2.PingResponse()
        if request.payload == b"unknown officer":
            raise UnknownOfficer("name the acting officer")
        if request.payload == b"bug":
            raise RuntimeError("a bug")
        if request.payload == b"wait":
            self.waiting += 1
            await self.release.wait()
        return admin_pb2.PingResponse(payload=request.payload)


def calls(metrics: NodeMetrics, code: str) -> float:
    labels = {"service": "AdminService", "method": "Ping", "code": code}
    return metrics.registry.get_sample_value("hotline_rpc_requests_total", labels) or 0.0


async def scenario(metrics: NodeMetrics) -> None:
    gate = CallGate(1, meter=metrics)
    server = aio.server(interceptors=[ErrorMappingInterceptor(), gate])
    servicer = Ping()
    admin_pb2_grpc.add_AdminServiceServicer_to_server(servicer, server)
    health_pb2_grpc.add_HealthServicer_to_server(health_aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = admin_pb2_grpc.AdminServiceStub(channel)
            for payload, code in [
                (b"hello", grpc.StatusCode.OK),
                (b"unimplemented", grpc.StatusCode.UNIMPLEMENTED),
                (b"unknown officer", grpc.StatusCode.UNAUTHENTICATED),
                (b"bug", grpc.StatusCode.INTERNAL),
                (b"x" * (request_limit(PING) + 1), grpc.StatusCode.INVALID_ARGUMENT),
            ]:
                call = stub.Ping(admin_pb2.PingRequest(payload=payload), timeout=10)
                if code is grpc.StatusCode.OK:
                    await call
                else:
                    with pytest.raises(aio.AioRpcError) as refused:
                        await call
                    assert refused.value.code() is code
            held = asyncio.ensure_future(stub.Ping(admin_pb2.PingRequest(payload=b"wait")))
            while servicer.waiting < 1:
                await asyncio.sleep(0.01)
            with pytest.raises(aio.AioRpcError) as shed:
                await stub.Ping(admin_pb2.PingRequest(payload=b"hello"), timeout=10)
            assert shed.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            servicer.release.set()
            await held
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    finally:
        await server.stop(None)


def test_every_call_is_counted_with_the_code_its_caller_got() -> None:
    metrics = NodeMetrics()
    asyncio.run(scenario(metrics))
    assert calls(metrics, "OK") == 2  # the first hello and the held one
    for code in (
        "UNIMPLEMENTED",
        "UNAUTHENTICATED",
        "INTERNAL",
        "INVALID_ARGUMENT",
        "RESOURCE_EXHAUSTED",
    ):
        assert calls(metrics, code) == 1, code
    families = {m.name for m in metrics.registry.collect()}
    assert "hotline_rpc_requests" in families
    # Health checks are not our calls: the gate leaves them alone, uncounted.
    assert all(
        s.labels.get("service") in (None, "AdminService")
        for m in metrics.registry.collect()
        for s in m.samples
    )
    held_time = metrics.registry.get_sample_value(
        "hotline_rpc_duration_seconds_count",
        {"service": "AdminService", "method": "Ping", "code": "OK"},
    )
    assert held_time == 2


async def refusals(metrics: NodeMetrics, count: int) -> int:
    server = aio.server(interceptors=[ErrorMappingInterceptor(), CallGate(4, meter=metrics)])
    admin_pb2_grpc.add_AdminServiceServicer_to_server(Ping(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = admin_pb2_grpc.AdminServiceStub(channel)
            for _ in range(count):
                with pytest.raises(aio.AioRpcError):
                    await stub.Ping(admin_pb2.PingRequest(payload=b"unknown officer"), timeout=5)
        await asyncio.sleep(0.1)
        return sum(
            1
            for o in gc.get_objects()
            if isinstance(o, admin_pb2.PingRequest) and o.payload == b"unknown officer"
        )
    finally:
        await server.stop(None)


def test_counting_a_refusal_keeps_no_request_alive() -> None:
    metrics = NodeMetrics()
    gc.collect()
    gc.disable()
    try:
        assert asyncio.run(refusals(metrics, 30)) == 0
    finally:
        gc.enable()
    assert calls(metrics, "UNAUTHENTICATED") == 30
