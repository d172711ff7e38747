"""``hotline bench intake``: what a durable RegisterTicket costs next to a bare no-op call.

Why this exists: intake is the one write path every 12315 call goes through, and in a surge
(3·15, a gym chain closing) it is what the province hub must keep up with. The number that
matters is not raw tickets per second on a given machine but how close a ticket comes to the
floor set by the RPC stack itself, and how quickly a ticket is answered when the hub is busy
but not saturated. So one run, against one real node process, measures:

1. the no-op floor: ``AdminService.Ping`` with ``clients`` concurrent callers (closed loop);
2. the peak: ``IntakeService.RegisterTicket`` with the same callers (closed loop), each call a
   distinct realistic ticket with its own request id, committed durably by the node's group
   committing log writer (SQLite in WAL mode with ``synchronous=FULL``);
3. the half-rate latency: RegisterTicket arriving open loop, evenly paced at half the measured
   peak, with each latency counted from the arrival's *scheduled* time (so a stalled server
   cannot hide its queueing, the "coordinated omission" trap).

The node under test is a province hub (unit 620000) in a temporary folder, started as its own
process exactly as in production; its parent is an unreachable address, so it works on its
own log and backs off replication. The load generator is one ``grpc.aio`` client process with
many calls in flight on one channel. Requests are built and serialized before each phase and
sent as raw bytes, so the client spends its CPU on the calls, not on building tickets: on a
two-core machine every cycle the client burns is taken from the server. (Measured on such a
machine: a second client process, or four channels instead of one, raised neither rate; see
docs/benchmarks.md.) Each phase also reports the CPU used by the node, by the client and by
any other process, so a result skewed by a neighbour's load shows as such.

Human-readable phase summaries go to stdout as each phase ends; the last line is one JSON
object for scripts. The exit status is 0 when the run was valid (no failed call, every ticket
held by the hub) whether or not the targets were met (``targets_met`` says), 1 with a one-line
reason when it was not, 2 for bad arguments. The node and the folder are removed at the end,
on Ctrl-C, SIGTERM or error too.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from grpc import aio

from core.officers import Role
from core.units import UnitLevel
from node.devnet.hierarchy import Hierarchy
from node.devnet.processes import NodeProcess
from node.devnet.samples import random_ticket
from node.edge.caller import OFFICER_METADATA
from node.edge.client import CallError, NodeClient
from proto.hotline.v1 import admin_pb2, intake_pb2
from sync.codec import enum_number, to_message

HUB_UNIT = "620000"
"""The node under test: Gansu's province hub."""
OFFICER_ID = "620000-01"
OFFICER_NAME = "王芳"
UNREACHABLE_PARENT = "127.0.0.1:9"
"""The discard port: nothing listens, so the hub's replication just fails and backs off."""

REGISTER_METHOD = "/hotline.v1.IntakeService/RegisterTicket"
PING_METHOD = "/hotline.v1.AdminService/Ping"

RATIO_TARGET = 0.4
"""Ticket throughput should be at least this share of the no-op throughput."""
HALF_RATE_P99_TARGET_MS = 50.0
"""At half the peak rate, 99 % of tickets should be answered within this."""

CALL_TIMEOUT = 30.0
"""Per-call deadline; a call that misses it counts as an error."""
SEED = 12315

Metadata = tuple[tuple[str, str], ...]
RawCall = Callable[..., Awaitable[bytes]]
"""A unary-unary multicallable that takes and returns serialized bytes."""


class BenchError(Exception):
    """The benchmark could not be run or gave an invalid result; the message is one line."""


# -- requests ----------------------------------------------------------------------------------


class TicketRequests:
    """Serialized ``RegisterTicketRequest`` messages, each with its own request id and ticket.

    Tickets come from ``random_ticket`` with a seeded generator; each also carries its serial
    number in the facts, so no two are "the same matter" and the duplicate check never links
    them. ``prepare`` builds them ahead of a phase; should a phase outrun the stock, ``take``
    builds more on the spot (counted in ``built_inline``, which then slowed the client).
    """

    def __init__(self, seed: int = SEED) -> None:
        self._rng = random.Random(seed)
        self._run = f"{seed:x}{os.getpid():x}{time.time_ns() & 0xFFFFFF:x}"
        self._serial = 0
        self._stock: list[bytes] = []
        self._next = 0
        self.built_inline = 0

    def _build(self) -> bytes:
        self._serial += 1
        ticket = to_message(random_ticket(self._rng), intake_pb2.NewTicket)
        ticket.facts = f"{ticket.facts}（来电序号{self._serial}）"
        request = intake_pb2.RegisterTicketRequest(
            request_id=f"bench-{self._run}-{self._serial:09d}", ticket=ticket
        )
        return request.SerializeToString()

    def prepare(self, count: int) -> None:
        """Have at least ``count`` requests built and waiting."""
        self._stock = self._stock[self._next :]
        self._next = 0
        self._stock.extend(self._build() for _ in range(max(0, count - len(self._stock))))

    def take(self) -> bytes:
        """The next unused request."""
        if self._next < len(self._stock):
            self._next += 1
            return self._stock[self._next - 1]
        self.built_inline += 1
        return self._build()


_PING = admin_pb2.PingRequest().SerializeToString()


def ping_request() -> bytes:
    """The bare no-op request (empty payload)."""
    return _PING


# -- measuring ---------------------------------------------------------------------------------


def percentile(ordered: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of sorted values, by nearest rank; 0.0 when empty."""
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds used so far by process ``pid`` (Linux; 0.0 elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    return (int(fields[11]) + int(fields[12])) / ticks


def machine_cpu_seconds() -> tuple[float, float]:
    """CPU seconds all cores have been busy, and stolen by the hypervisor, since boot (Linux).

    Busy is user + nice + system + irq + softirq + steal; (0.0, 0.0) where /proc is missing.
    """
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()[1:9]
    except OSError:
        return 0.0, 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields)
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    return (user + nice + system + irq + softirq + steal) / ticks, steal / ticks


@dataclass
class PhaseResult:
    """What one phase measured."""

    name: str
    calls: int = 0
    """Calls that succeeded."""
    errors: int = 0
    """Calls that failed (any status other than OK)."""
    error_codes: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    """Seconds from the first call sent to the last answer received."""
    latencies: list[float] = field(default_factory=list)
    """Seconds per successful call (for open loop: from the scheduled arrival)."""
    send_lag: list[float] = field(default_factory=list)
    """Open loop only: seconds each call was sent after its scheduled arrival."""
    server_cpu: float = 0.0
    """CPU seconds the node process used during the phase."""
    client_cpu: float = 0.0
    """CPU seconds this (client) process used during the phase."""
    machine_cpu: float = 0.0
    """CPU seconds all cores were busy during the phase (any process)."""
    steal: float = 0.0
    """CPU seconds the hypervisor took from this machine during the phase."""
    target_rate: float = 0.0
    """Open loop only: the arrival rate asked for, per second."""

    @property
    def rate(self) -> float:
        """Successful calls per second."""
        return self.calls / self.elapsed if self.elapsed > 0 else 0.0

    def ms(self, q: float) -> float:
        """The ``q``-th latency percentile in milliseconds."""
        return percentile(sorted(self.latencies), q) * 1000.0

    def lag_ms(self, q: float) -> float:
        """The ``q``-th send-lag percentile in milliseconds."""
        return percentile(sorted(self.send_lag), q) * 1000.0

    @property
    def other_cpu(self) -> float:
        """CPU seconds used by neither the node nor the client (other load: it skews results)."""
        return max(0.0, self.machine_cpu - self.server_cpu - self.client_cpu)

    def share(self, seconds: float) -> float:
        """CPU seconds as a share of one core over the phase."""
        return seconds / self.elapsed if self.elapsed > 0 else 0.0

    def cpu_ms_per_call(self, seconds: float) -> float:
        """CPU milliseconds per successful call."""
        return seconds * 1000.0 / self.calls if self.calls else 0.0

    def summary(self) -> str:
        """The phase in a few human-readable lines."""
        head = f"{self.name}: {self.calls} ok, {self.errors} failed in {self.elapsed:.1f}s"
        if self.target_rate:
            head += f" (paced at {self.target_rate:.0f}/s)"
        errors = (
            "  errors: " + ", ".join(f"{c} x{n}" for c, n in self.error_codes.most_common())
            if self.errors
            else ""
        )
        lines = [
            head,
            f"  {self.rate:9.1f} calls/s   latency p50 {self.ms(50):.1f} ms, "
            f"p90 {self.ms(90):.1f} ms, p99 {self.ms(99):.1f} ms, max {self.ms(100):.1f} ms",
            f"  cpu per call: server {self.cpu_ms_per_call(self.server_cpu):.2f} ms, "
            f"client {self.cpu_ms_per_call(self.client_cpu):.2f} ms "
            f"(server {self.share(self.server_cpu):.0%}, client {self.share(self.client_cpu):.0%}, "
            f"other processes {self.share(self.other_cpu):.0%} of a core; "
            f"steal {self.share(self.steal):.0%})",
        ]
        if self.send_lag:
            lines.append(
                f"  send lag behind schedule: p50 {self.lag_ms(50):.1f} ms, "
                f"p99 {self.lag_ms(99):.1f} ms"
            )
        if errors:
            lines.append(errors)
        return "\n".join(lines)


@contextmanager
def cpu_meter(result: PhaseResult, server_pid: int) -> Iterator[None]:
    """Charge the CPU used by the node and by this process inside the block to ``result``."""
    server0, client0 = process_cpu_seconds(server_pid), time.process_time()
    machine0, steal0 = machine_cpu_seconds()
    try:
        yield
    finally:
        result.server_cpu = process_cpu_seconds(server_pid) - server0
        result.client_cpu = time.process_time() - client0
        machine1, steal1 = machine_cpu_seconds()
        result.machine_cpu, result.steal = machine1 - machine0, steal1 - steal0


def _failure(result: PhaseResult, exc: BaseException) -> None:
    result.errors += 1
    code = exc.code().name if isinstance(exc, aio.AioRpcError) else type(exc).__name__
    result.error_codes[code] += 1


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
) -> PhaseResult:
    """Calls arriving evenly paced at ``rate`` per second whatever the server does.

    Latency runs from each arrival's scheduled time to its answer, so time spent waiting to be
    sent (a late client, a backed-up server) is counted, as a caller would feel it.
    """
    result = PhaseResult(name, target_rate=rate)
    clock = time.perf_counter
    count = max(1, round(rate * seconds))
    interval = 1.0 / rate

    async def arrival(request: bytes, due: float) -> None:
        result.send_lag.append(clock() - due)
        try:
            await call(request, timeout=CALL_TIMEOUT, metadata=metadata)
        except Exception as exc:  # any failed call is counted, never fatal
            _failure(result, exc)
        else:
            result.latencies.append(clock() - due)
            result.calls += 1

    with cpu_meter(result, server_pid):
        in_flight: set[asyncio.Task[None]] = set()
        start = clock() + 0.01
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
    return result


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Phases:
    """The results of one run's phases."""

    noop: PhaseResult
    peak: PhaseResult
    half: PhaseResult
    warmup_calls: int


def _say(text: str) -> None:
    print(text, flush=True)


async def drive(
    target: str,
    server_pid: int,
    *,
    seconds: float,
    clients: int,
    requests: TicketRequests,
    check_alive: Callable[[], None] = lambda: None,
) -> Phases:
    """Run the phases against the node at ``target``: warm-up, no-op, peak, half rate.

    ``check_alive`` is called after each phase and raises if the node has gone.
    """
    officer: Metadata = ((OFFICER_METADATA, OFFICER_ID),)
    async with aio.insecure_channel(target) as channel:
        # No (de)serializers: requests go out as the bytes built beforehand, answers stay bytes.
        register: RawCall = channel.unary_unary(REGISTER_METHOD, None, None)
        ping: RawCall = channel.unary_unary(PING_METHOD, None, None)
        await channel.channel_ready()

        # A short warm-up of both calls: connections, caches, the database's first pages.
        warm = min(3.0, max(0.5, seconds * 0.15))
        requests.prepare(clients * 20)
        # One ticket first, answer parsed and checked: the phases only count status codes.
        try:
            raw = await register(requests.take(), timeout=CALL_TIMEOUT, metadata=officer)
        except aio.AioRpcError as exc:
            reason = f"{exc.code().name}: {exc.details()}"
            raise BenchError(f"the first ticket failed: {reason}") from exc
        reply = intake_pb2.RegisterTicketResponse.FromString(raw)
        if not reply.ticket_id or reply.replayed or not reply.ticket.ticket_id:
            raise BenchError(f"the first ticket's answer is not a new ticket: {reply.ticket_id!r}")
        warm_tickets = await closed_loop(
            "warm-up tickets",
            register,
            requests.take,
            clients=clients,
            seconds=warm / 2,
            metadata=officer,
            server_pid=server_pid,
        )
        await closed_loop(
            "warm-up no-op",
            ping,
            ping_request,
            clients=clients,
            seconds=warm / 2,
            metadata=(),
            server_pid=server_pid,
        )
        if warm_tickets.errors:
            codes = ", ".join(warm_tickets.error_codes)
            raise BenchError(f"{warm_tickets.errors} ticket(s) failed in the warm-up ({codes})")
        _say(
            f"warm-up: {warm_tickets.calls + 1} tickets at {warm_tickets.rate:.0f}/s; "
            f"measuring {seconds:g}s per phase with {clients} concurrent callers"
        )

        noop = await closed_loop(
            "no-op AdminService.Ping (closed loop)",
            ping,
            ping_request,
            clients=clients,
            seconds=seconds,
            metadata=(),
            server_pid=server_pid,
        )
        _say(noop.summary())
        check_alive()

        # Enough tickets for twice the warm-up rate, so the client never builds during a phase.
        requests.prepare(int(max(warm_tickets.rate * 2.0, 200.0) * seconds) + clients)
        peak = await closed_loop(
            "RegisterTicket peak (closed loop)",
            register,
            requests.take,
            clients=clients,
            seconds=seconds,
            metadata=officer,
            server_pid=server_pid,
        )
        _say(peak.summary())
        check_alive()
        if peak.calls == 0:
            raise BenchError("no ticket was registered in the peak phase")

        half_rate = peak.rate / 2.0
        requests.prepare(int(half_rate * seconds) + 1)
        half = await open_loop(
            "RegisterTicket at half the peak (open loop, paced)",
            register,
            requests.take,
            rate=half_rate,
            seconds=seconds,
            metadata=officer,
            server_pid=server_pid,
        )
        _say(half.summary())
        check_alive()
    return Phases(noop, peak, half, warm_tickets.calls + 1)


def report(
    phases: Phases, *, seconds: float, clients: int, database: str, tickets_held: int
) -> dict[str, Any]:
    """The final JSON object's fields."""
    noop, peak, half = phases.noop, phases.peak, phases.half
    ratio = peak.rate / noop.rate if noop.rate else 0.0
    return {
        "benchmark": "intake",
        "tickets_per_s": round(peak.rate, 1),
        "p50_ms": round(peak.ms(50), 2),
        "p99_ms": round(peak.ms(99), 2),
        "noop_per_s": round(noop.rate, 1),
        "noop_p50_ms": round(noop.ms(50), 2),
        "noop_p99_ms": round(noop.ms(99), 2),
        "ratio": round(ratio, 3),
        "half_rate_per_s": round(half.target_rate, 1),
        "half_rate_achieved_per_s": round(half.rate, 1),
        "half_rate_p50_ms": round(half.ms(50), 2),
        "half_rate_p99_ms": round(half.ms(99), 2),
        "half_rate_send_lag_p99_ms": round(half.lag_ms(99), 2),
        "errors": noop.errors + peak.errors + half.errors,
        "server_cpu_ms_per_ticket": round(peak.cpu_ms_per_call(peak.server_cpu), 3),
        "server_cpu_ms_per_noop": round(noop.cpu_ms_per_call(noop.server_cpu), 3),
        "client_cpu_ms_per_ticket": round(peak.cpu_ms_per_call(peak.client_cpu), 3),
        "other_cpu_pct": round(max(p.share(p.other_cpu) for p in (noop, peak, half)) * 100, 1),
        "steal_pct": round(max(p.share(p.steal) for p in (noop, peak, half)) * 100, 1),
        "tickets_registered": phases.warmup_calls + peak.calls + half.calls,
        "tickets_held": tickets_held,
        "ratio_target": RATIO_TARGET,
        "half_rate_p99_target_ms": HALF_RATE_P99_TARGET_MS,
        "targets_met": ratio >= RATIO_TARGET and half.ms(99) < HALF_RATE_P99_TARGET_MS,
        "clients": clients,
        "seconds": seconds,
        "cpu_count": os.cpu_count() or 0,
        "database": database,
        "durability": "sqlite WAL, synchronous=FULL" if database == "sqlite" else database,
        "python": platform.python_version(),
    }


def hub_process(root: Path) -> NodeProcess:
    """The province hub under test, not yet started: its data folder is under ``root``."""
    return NodeProcess(
        name="province",
        level=UnitLevel.PROVINCE,
        unit=HUB_UNIT,
        data_dir=root / "province",
        extra_args=("--parent", UNREACHABLE_PARENT),
        hierarchy=Hierarchy.open(root / "pki", int(time.time() * 1000)),  # enrols the hub
    )


def start_hub(node: NodeProcess) -> None:
    """Start the hub and wait until it serves; a failure to start is a ``BenchError``."""
    try:
        node.start()
    except (RuntimeError, TimeoutError, CallError) as exc:
        raise BenchError(f"the hub did not start: {str(exc).splitlines()[0]}") from exc


def hub_alive(node: NodeProcess) -> None:
    """Raise ``BenchError`` if the hub's process has ended."""
    if node.process is not None and node.process.poll() is not None:
        raise BenchError(
            f"the hub (pid {node.process.pid}) died during the run, "
            f"exit status {node.process.returncode}"
        )


def _abandon(node: NodeProcess, root: Path, signum: int) -> None:
    """Stop the hub, remove the folder and leave the process at once (from a signal handler).

    Only process-level calls here: the signal may have landed inside gRPC's own locks, where
    unwinding by an exception can leave the interpreter hanging at exit.
    """
    proc = node.process
    if proc is not None and proc.poll() is None:
        proc.terminate()
        deadline = time.monotonic() + 10.0
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
    shutil.rmtree(root, ignore_errors=True)
    name = signal.Signals(signum).name
    sys.stdout.flush()
    print(f"hotline: bench intake: interrupted ({name}); the hub was stopped", file=sys.stderr)
    sys.stderr.flush()
    os._exit(128 + signum)


@contextmanager
def cleanup_on_signals(node: NodeProcess, root: Path) -> Iterator[None]:
    """Inside the block, Ctrl-C (SIGINT) and SIGTERM stop the hub and remove ``root``."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        _abandon(node, root, signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def bench(seconds: float, clients: int) -> dict[str, Any]:
    """Start a hub in a temporary folder, run the phases, stop it; returns the JSON fields."""
    root = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    node = hub_process(root)
    with cleanup_on_signals(node, root):
        try:
            requests = TicketRequests()
            start_hub(node)
            assert node.process is not None
            with NodeClient(node.target) as admin:
                admin.add_officer(OFFICER_ID, OFFICER_NAME, HUB_UNIT, [enum_number(Role.OPERATOR)])
                database = admin.info().database
            _say(
                f"hub {HUB_UNIT} on {node.target} (pid {node.process.pid}), {database} in "
                f"{root}; {os.cpu_count()} cpu(s), Python {platform.python_version()}"
            )
            phases = asyncio.run(
                drive(
                    node.target,
                    node.process.pid,
                    seconds=seconds,
                    clients=clients,
                    requests=requests,
                    check_alive=lambda: hub_alive(node),
                )
            )
            if requests.built_inline:
                _say(f"note: {requests.built_inline} requests were built during a phase")
            hub_alive(node)
            with NodeClient(node.target) as admin:
                held = int(admin.info().tickets)
            return report(
                phases, seconds=seconds, clients=clients, database=database, tickets_held=held
            )
        finally:
            node.stop()
            shutil.rmtree(root, ignore_errors=True)


def run_intake_bench(seconds: float = 15.0, clients: int = 32) -> int:
    """Run the intake benchmark, print phase summaries and a final JSON line; exit status."""
    if not seconds > 0:
        print(f"hotline: bench intake: --seconds must be positive, not {seconds}", file=sys.stderr)
        return 2
    if clients < 1:
        print(
            f"hotline: bench intake: --clients must be at least 1, not {clients}", file=sys.stderr
        )
        return 2
    try:
        fields = bench(seconds, clients)
    except BenchError as exc:
        print(f"hotline: bench intake: {exc}", file=sys.stderr)
        return 1
    except CallError as exc:
        print(f"hotline: bench intake: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # only when the handlers could not be set (not the main thread)
        print("hotline: bench intake: interrupted; the hub was stopped", file=sys.stderr)
        return 130
    print(
        f"ratio {fields['ratio']:.3f} (target >= {RATIO_TARGET}), half-rate p99 "
        f"{fields['half_rate_p99_ms']:.1f} ms (target < {HALF_RATE_P99_TARGET_MS:g} ms): "
        + ("targets met" if fields["targets_met"] else "targets NOT met"),
        flush=True,
    )
    print(json.dumps(fields, ensure_ascii=False), flush=True)
    if fields["errors"]:
        print(f"hotline: bench intake: {fields['errors']} call(s) failed", file=sys.stderr)
        return 1
    if fields["tickets_held"] != fields["tickets_registered"]:
        print(
            f"hotline: bench intake: {fields['tickets_registered']} tickets registered but the "
            f"hub holds {fields['tickets_held']}",
            file=sys.stderr,
        )
        return 1
    return 0
