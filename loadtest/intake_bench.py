"""``hotline bench intake``: what a durable RegisterTicket costs next to a bare no-op call.

Why this exists: intake is the one write path every 12315 call goes through, and in a surge
(3·15, a gym chain closing) it is what the province hub must keep up with. The number that
matters is not raw tickets per second on a given machine but how close a ticket comes to the
floor set by the RPC stack itself, and how quickly a ticket is answered when the hub is busy
but not saturated. So one run, against one real node process, measures:

1. the no-op floor: ``AdminService.Ping`` with ``clients`` concurrent callers (closed loop),
   signed in as the ticket phases are, so both pay the session check;
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

This module holds the phases, the report and the command; the hub process is
``loadtest.hub``, the two call loops ``loadtest.call_loops``, the meters ``loadtest.measuring``.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

from grpc import aio

from core.officers import Officer, Role
from core.units import UnitLevel
from loadtest.call_loops import CALL_TIMEOUT, Metadata, RawCall, Sampler, closed_loop, open_loop
from loadtest.harness import BenchError, last_line, python_version, say, scratch_folder
from loadtest.hub import HUB_UNIT, hub_alive, hub_folder, hub_hierarchy, running_hub
from loadtest.measuring import PhaseResult, windows
from loadtest.preload import Preloaded, preload
from loadtest.scratch_database import drop_database, scratch_database
from loadtest.store_size import postgres_sampler, sqlite_sampler
from node.devnet.samples import random_ticket
from node.edge.channels import client_aio_channel
from node.edge.client import CallError, token_metadata
from proto.hotline.v1 import admin_pb2, intake_pb2
from sync.codec import to_message

OFFICER_ID = "620000-01"
OFFICER_NAME = "王芳"

REGISTER_METHOD = "/hotline.v1.IntakeService/RegisterTicket"
PING_METHOD = "/hotline.v1.AdminService/Ping"

RATIO_TARGET = 0.4
"""Ticket throughput should be at least this share of the no-op throughput."""
HALF_RATE_P99_TARGET_MS = 50.0
"""At half the peak rate, 99 % of tickets should be answered within this."""
WINDOW_SECONDS = 5.0
"""The half-rate phase's latency is also reported per window of this many seconds."""

SEED = 12315


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


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Phases:
    """The results of one run's phases."""

    noop: PhaseResult
    peak: PhaseResult
    half: PhaseResult
    warmup_calls: int


async def drive(
    target: str,
    server_pid: int,
    *,
    root: bytes,
    token: str,
    seconds: float,
    clients: int,
    requests: TicketRequests,
    check_alive: Callable[[], None] = lambda: None,
    half_seconds: float = 0.0,
    sampler: Sampler | None = None,
    window: float = WINDOW_SECONDS,
) -> Phases:
    """Run the phases against the node at ``target``: warm-up, no-op, peak, half rate.

    ``root`` is the national root the hub's certificate chains to (TLS), ``token`` the session
    of the signed-in operator every call acts as. ``check_alive`` is called after each phase
    and raises if the node has gone. The half-rate phase lasts ``half_seconds`` (default:
    ``seconds``), its latency reported per ``window`` seconds with ``sampler``'s sizes.
    """
    officer: Metadata = token_metadata(token)
    async with client_aio_channel(target, root, unit=HUB_UNIT) as channel:
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
            metadata=officer,
            server_pid=server_pid,
        )
        if warm_tickets.errors:
            codes = ", ".join(warm_tickets.error_codes)
            raise BenchError(f"{warm_tickets.errors} ticket(s) failed in the warm-up ({codes})")
        say(
            f"warm-up: {warm_tickets.calls + 1} tickets at {warm_tickets.rate:.0f}/s; "
            f"measuring {seconds:g}s per phase with {clients} concurrent callers"
        )

        noop = await closed_loop(
            "no-op AdminService.Ping (closed loop)",
            ping,
            ping_request,
            clients=clients,
            seconds=seconds,
            metadata=officer,
            server_pid=server_pid,
        )
        say(noop.summary())
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
        say(peak.summary())
        check_alive()
        if peak.calls == 0:
            raise BenchError("no ticket was registered in the peak phase")

        half_rate = peak.rate / 2.0
        half_seconds = half_seconds or seconds
        requests.prepare(int(half_rate * half_seconds) + 1)
        half = await open_loop(
            "RegisterTicket at half the peak (open loop, paced)",
            register,
            requests.take,
            rate=half_rate,
            seconds=half_seconds,
            metadata=officer,
            server_pid=server_pid,
            sampler=sampler,
            sample_every=window,
        )
        say(half.summary())
        say(f"  by {window:g}s window (when due; the node's size at the window's end):")
        for line in windows(half, window):
            say(line.line())
        check_alive()
    return Phases(noop, peak, half, warm_tickets.calls + 1)


@dataclass(frozen=True)
class Store:
    """Where the hub under test keeps its data and what was in it before the phases."""

    database: str
    """``sqlite`` or ``postgresql``, as the node reports it."""
    preloaded: Preloaded | None = None
    window: float = WINDOW_SECONDS


def report(
    phases: Phases, *, seconds: float, clients: int, store: Store, tickets_held: int
) -> dict[str, Any]:
    """The final JSON object's fields."""
    noop, peak, half = phases.noop, phases.peak, phases.half
    database = store.database
    preloaded = store.preloaded.tickets if store.preloaded is not None else 0
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
        "tickets_preloaded": preloaded,
        "preload_per_s": round(store.preloaded.rate, 1) if store.preloaded is not None else 0.0,
        "preload_cpu_ms_per_ticket": (
            round(store.preloaded.cpu_ms_per_ticket, 3) if store.preloaded is not None else 0.0
        ),
        "tickets_held": tickets_held,
        "half_rate_seconds": round(half.elapsed, 1),
        "half_rate_max_ms": round(half.ms(100), 2),
        "half_rate_windows": [w.fields() for w in windows(half, store.window)],
        "ratio_target": RATIO_TARGET,
        "half_rate_p99_target_ms": HALF_RATE_P99_TARGET_MS,
        "targets_met": ratio >= RATIO_TARGET and half.ms(99) < HALF_RATE_P99_TARGET_MS,
        "clients": clients,
        "seconds": seconds,
        "cpu_count": os.cpu_count() or 0,
        "database": database,
        "durability": "sqlite WAL, synchronous=FULL" if database == "sqlite" else database,
        "python": python_version(),
    }


@dataclass(frozen=True)
class Options:
    """How one run is made: its phases' lengths, its callers, its store and what is in it."""

    seconds: float = 15.0
    clients: int = 32
    half_seconds: float = 0.0
    """The half-rate phase's length (0: ``seconds``)."""
    preload: int = 0
    """Tickets registered offline before the hub starts (``loadtest.preload``)."""
    pg: str = ""
    """A PostgreSQL server (``postgresql://user@host:port``) to hold the hub's store; '' for
    SQLite in the hub's folder."""
    window: float = WINDOW_SECONDS


def _bench_officer() -> Officer:
    return Officer(
        OFFICER_ID, OFFICER_NAME, HUB_UNIT, UnitLevel.PROVINCE, frozenset({Role.OPERATOR})
    )


def bench(options: Options) -> dict[str, Any]:
    """Start a hub in a temporary folder (its store on PostgreSQL if asked, filled first if
    asked), run the phases, stop it; returns the JSON fields."""
    with scratch_folder("intake") as root, ExitStack() as stack:
        db_url, on_abandon = "", lambda: None
        if options.pg:
            name, db_url = stack.enter_context(scratch_database(options.pg, "intake"))
            on_abandon = partial(drop_database, options.pg.rstrip("/"), name)
        preloaded = None
        if options.preload:
            say(f"preload: registering {options.preload} tickets offline through the writer")
            preloaded = preload(
                hub_folder(root),
                hub_hierarchy(root),
                HUB_UNIT,
                options.preload,
                _bench_officer(),
                db=db_url,
                seed=SEED + 1,
                progress=say,
            )
            say(
                f"preload: {preloaded.tickets} tickets in {preloaded.seconds:.0f}s "
                f"({preloaded.rate:.0f}/s, {preloaded.cpu_ms_per_ticket:.2f} ms CPU per ticket)"
            )
        node = stack.enter_context(running_hub(root, db_url, on_abandon))
        assert node.process is not None
        requests = TicketRequests()
        node.add_officer(OFFICER_ID, OFFICER_NAME, (Role.OPERATOR,))
        with node.client(OFFICER_ID) as operator:
            database = operator.info().database
            token, hub_root = operator.token, operator.root
        say(
            f"hub {HUB_UNIT} on {node.target} (pid {node.process.pid}), {database} in "
            f"{root}; {os.cpu_count()} cpu(s), Python {python_version()}"
        )
        sampler = (
            postgres_sampler(node.process.pid, db_url)
            if db_url
            else sqlite_sampler(node.process.pid, hub_folder(root) / "node.db")
        )
        phases = asyncio.run(
            drive(
                node.target,
                node.process.pid,
                root=hub_root,
                token=token,
                seconds=options.seconds,
                clients=options.clients,
                requests=requests,
                check_alive=lambda: hub_alive(node),
                half_seconds=options.half_seconds,
                sampler=sampler,
                window=options.window,
            )
        )
        if requests.built_inline:
            say(f"note: {requests.built_inline} requests were built during a phase")
        hub_alive(node)
        with node.client(OFFICER_ID) as operator:
            held = int(operator.info().tickets)
        store = Store(database, preloaded, options.window)
        return report(
            phases,
            seconds=options.seconds,
            clients=options.clients,
            store=store,
            tickets_held=held,
        )


def _refusal(options: Options) -> str:
    """Why ``options`` cannot make a run ('' when they can)."""
    if not options.seconds > 0:
        return f"--seconds must be positive, not {options.seconds}"
    if options.clients < 1:
        return f"--clients must be at least 1, not {options.clients}"
    if options.half_seconds < 0:
        return f"--half-seconds must not be negative, not {options.half_seconds}"
    if options.preload < 0:
        return f"--preload must not be negative, not {options.preload}"
    if not options.window > 0:
        return f"--window must be positive, not {options.window}"
    if options.pg and not options.pg.startswith(("postgresql://", "postgres://")):
        return f"--pg must be a postgresql:// server URL without a database, not {options.pg}"
    return ""


def run_intake_bench(options: Options | None = None) -> int:
    """Run the intake benchmark, print phase summaries and a final JSON line; exit status."""
    options = options or Options()
    refusal = _refusal(options)
    if refusal:
        print(f"hotline: bench intake: {refusal}", file=sys.stderr)
        return 2
    try:
        fields = bench(options)
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
    last_line(fields)
    if fields["errors"]:
        print(f"hotline: bench intake: {fields['errors']} call(s) failed", file=sys.stderr)
        return 1
    expected = fields["tickets_registered"] + fields["tickets_preloaded"]
    if fields["tickets_held"] != expected:
        print(
            f"hotline: bench intake: {expected} tickets registered (preload included) but the "
            f"hub holds {fields['tickets_held']}",
            file=sys.stderr,
        )
        return 1
    return 0
