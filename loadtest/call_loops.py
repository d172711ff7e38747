"""Driving raw gRPC calls at a node: a closed loop (as fast as answered) and an open loop (paced).

Why this exists: the two ways a load generator can ask for a figure answer two different
questions. A closed loop (each caller sends its next call when the last is answered) finds the
peak rate; an open loop (calls arrive on a schedule whatever the server does) finds how long a
caller waits at a given rate. Its latency runs from each call's *scheduled* arrival, so a
stalled server cannot hide its queue (the "coordinated omission" trap). Calls are sent as
bytes built beforehand on a channel without (de)serializers, so the client spends its CPU on
the calls; every phase is metered by ``loadtest.measuring``.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable

from grpc import aio

from loadtest.measuring import PhaseResult, StoreSample, cpu_meter

CALL_TIMEOUT = 30.0
"""Per-call deadline; a call that misses it counts as an error."""

Metadata = tuple[tuple[str, str], ...]
RawCall = Callable[..., Awaitable[bytes]]
"""A unary-unary multicallable that takes and returns serialized bytes."""
Sampler = Callable[[float], Awaitable[StoreSample]]
"""Reads the node's size at so many seconds into a phase (``loadtest.store_size``)."""


def settle_heap() -> None:
    """Collect, then freeze what the client holds, before a phase is measured.

    Why: a full collection walks every object the client has (channels, the tickets built
    for the phase, earlier phases' results); measured on a loaded two-core machine, one took
    72 ms of CPU (874 ms on the clock) in the middle of a phase, and every call in flight then
    looked that much slower. Frozen objects are skipped by later collections."""
    gc.collect()
    gc.freeze()


def _failure(result: PhaseResult, exc: BaseException) -> None:
    result.failed(exc.code().name if isinstance(exc, aio.AioRpcError) else type(exc).__name__)


async def closed_loop(
    name: str,
    call: RawCall,
    next_request: Callable[[], bytes],
    *,
    clients: int,
    seconds: float,
    metadata: Metadata,
    server_pid: int,
) -> PhaseResult:
    """``clients`` callers, each sending its next call as soon as the last one is answered."""
    result = PhaseResult(name)
    clock = time.perf_counter
    settle_heap()

    async def caller(stop_at: float) -> None:
        while clock() < stop_at:
            request = next_request()
            sent = clock()
            try:
                await call(request, timeout=CALL_TIMEOUT, metadata=metadata)
            except Exception as exc:  # any failed call is counted, never fatal
                _failure(result, exc)
            else:
                result.latencies.append(clock() - sent)
                result.calls += 1

    with cpu_meter(result, server_pid):
        start = clock()
        await asyncio.gather(*(caller(start + seconds) for _ in range(clients)))
        result.elapsed = clock() - start
    return result


async def open_loop(
    name: str,
    call: RawCall,
    next_request: Callable[[], bytes],
    *,
    rate: float,
    seconds: float,
    metadata: Metadata,
    server_pid: int,
    sampler: Sampler | None = None,
    sample_every: float = 5.0,
) -> PhaseResult:
    """Calls arriving evenly paced at ``rate`` per second whatever the server does.

    Latency runs from each arrival's scheduled time to its answer, so time spent waiting to be
    sent (a late client, a backed-up server) is counted, as a caller would feel it. Each
    answer is also kept with when it was due (``PhaseResult.arrivals``), and ``sampler`` is
    asked for the node's size every ``sample_every`` seconds, so a stall can be placed in time.
    """
    result = PhaseResult(name, target_rate=rate)
    clock = time.perf_counter
    count = max(1, round(rate * seconds))
    interval = 1.0 / rate
    settle_heap()

    async def arrival(request: bytes, due: float) -> None:
        result.send_lag.append(clock() - due)
        try:
            await call(request, timeout=CALL_TIMEOUT, metadata=metadata)
        except Exception as exc:  # any failed call is counted, never fatal
            _failure(result, exc)
        else:
            latency = clock() - due
            result.latencies.append(latency)
            result.arrivals.append((due - start, latency))
            result.calls += 1

    async def sample_sizes() -> None:
        assert sampler is not None
        tick = 1
        while True:
            await asyncio.sleep(max(0.0, start + tick * sample_every - clock()))
            result.samples.append(await sampler(clock() - start))
            tick += 1

    start = clock() + 0.01
    if sampler is not None:  # the running totals the first window's CPU is counted from
        result.samples.append(await sampler(0.0))
    sampling = asyncio.ensure_future(sample_sizes()) if sampler is not None else None
    with cpu_meter(result, server_pid):
        in_flight: set[asyncio.Task[None]] = set()
        for i in range(count):
            due = start + i * interval
            request = next_request()
            wait = due - clock()
            if wait > 0:
                await asyncio.sleep(wait)
            task = asyncio.ensure_future(arrival(request, due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.gather(*in_flight)
        result.elapsed = clock() - start
    if sampling is not None and sampler is not None:
        sampling.cancel()
        await asyncio.gather(sampling, return_exceptions=True)
        result.samples.append(await sampler(clock() - start))
    return result
