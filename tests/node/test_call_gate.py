"""The gate of a port: a cap on calls at once, answered with when to retry; health not counted;
a refused request freed at once.

A real ``grpc.aio`` server with the node's two interceptors, in the order the runtime puts them
(``node.app.runtime.Node._server``), and an AdminService whose Ping waits until released.
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
from proto.hotline.v1 import admin_pb2, admin_pb2_grpc
from sync.errors import PUSHBACK, RETRY_AFTER_MS

CAP = 2


class HeldPing(admin_pb2_grpc.AdminServiceServicer):
    """Ping waits until ``release`` is set; ``started`` counts the calls that got in."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def Ping(self, request: admin_pb2.PingRequest, context: object) -> admin_pb2.PingResponse:
        self.started += 1
        await self.release.wait()
        return admin_pb2.PingResponse(payload=request.payload)


async def gate_scenario() -> None:
    gate = CallGate(CAP)
    server = aio.server(interceptors=[ErrorMappingInterceptor(), gate])
    servicer = HeldPing()
    admin_pb2_grpc.add_AdminServiceServicer_to_server(servicer, server)
    health_pb2_grpc.add_HealthServicer_to_server(health_aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = admin_pb2_grpc.AdminServiceStub(channel)
            held = [
                asyncio.ensure_future(
                    stub.Ping(admin_pb2.PingRequest(payload=b"%d" % n), timeout=20)
                )
                for n in range(CAP)
            ]
            while servicer.started < CAP:
                await asyncio.sleep(0.01)
            assert gate.in_flight == CAP

            call = stub.Ping(admin_pb2.PingRequest(payload=b"one too many"), timeout=20)
            with pytest.raises(aio.AioRpcError) as refused:
                await call
            error = refused.value
            assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "retry in 0.2 s" in (error.details() or "")
            assert (PUSHBACK, str(RETRY_AFTER_MS)) in tuple(error.trailing_metadata() or ())
            assert servicer.started == CAP, "the refused call reached the servicer"

            # Health checks are not ours to count: answered while the port is full.
            health = health_pb2_grpc.HealthStub(channel)
            reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING

            servicer.release.set()
            answers = await asyncio.gather(*held)
            assert sorted(a.payload for a in answers) == [b"0", b"1"]
            assert gate.in_flight == 0
            again = await stub.Ping(admin_pb2.PingRequest(payload=b"later"), timeout=5)
            assert again.payload == b"later"
            assert gate.in_flight == 0
    finally:
        await server.stop(None)


def test_one_call_more_than_the_cap_is_refused_with_when_to_retry_and_the_rest_are_served() -> None:
    asyncio.run(gate_scenario())


async def cancelled_scenario() -> None:
    gate = CallGate(1)
    server = aio.server(interceptors=[ErrorMappingInterceptor(), gate])
    servicer = HeldPing()
    admin_pb2_grpc.add_AdminServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = admin_pb2_grpc.AdminServiceStub(channel)
            with pytest.raises(aio.AioRpcError) as expired:
                await stub.Ping(admin_pb2.PingRequest(), timeout=0.3)
            assert expired.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
            for _ in range(100):  # the server side learns of the cancellation a moment later
                if gate.in_flight == 0:
                    break
                await asyncio.sleep(0.02)
            assert gate.in_flight == 0, "a call its client gave up on still holds its place"
            servicer.release.set()
            await stub.Ping(admin_pb2.PingRequest(), timeout=5)
    finally:
        await server.stop(None)


def test_a_call_its_client_gave_up_on_gives_its_place_back() -> None:
    asyncio.run(cancelled_scenario())


class Refusing(admin_pb2_grpc.AdminServiceServicer):
    """Ping refuses every caller, as a call naming no officer is refused."""

    async def Ping(self, request: admin_pb2.PingRequest, context: object) -> admin_pb2.PingResponse:
        raise UnknownOfficer("name the acting officer")


MARK = b"refused request " * 3_000
"""The payload of the refused requests: how they are told from any other PingRequest."""


def requests_alive() -> int:
    return sum(
        1 for o in gc.get_objects() if isinstance(o, admin_pb2.PingRequest) and o.payload == MARK
    )


async def refusals_scenario(calls: int) -> int:
    server = aio.server(interceptors=[ErrorMappingInterceptor(), CallGate(CAP)])
    admin_pb2_grpc.add_AdminServiceServicer_to_server(Refusing(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        payload = admin_pb2.PingRequest(payload=MARK).SerializeToString()
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            ping = channel.unary_unary("/hotline.v1.AdminService/Ping")  # bytes: no client copy
            for _ in range(calls):
                with pytest.raises(aio.AioRpcError) as refused:
                    await ping(payload, timeout=5)
                assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
        await asyncio.sleep(0.1)
        return requests_alive()
    finally:
        await server.stop(None)


def test_a_refused_request_is_freed_at_once_not_at_the_collector_s_next_pass() -> None:
    # gRPC's own abort keeps the handler's frames, and the request, in a reference cycle:
    # with the collector off, every refused request would still be here.
    gc.collect()
    gc.disable()
    try:
        assert asyncio.run(refusals_scenario(50)) == 0
    finally:
        gc.enable()
