"""The people of a 12315 network as Locust users: call-takers, dispatchers, county officers,
enterprises and command-centre readers, each signed in as a real officer or enterprise user.

Why this exists: a surge is not one RPC repeated but a mix of people working at once. The
call-takers register consultations (咨询), complaints (投诉) and reports (举报) in the shares a
12315 centre sees; a dispatcher routes them (分派); county officers accept (受理) and end
mediation (调解); enterprises read and answer their ODR disputes (在线纠纷解决); the command
centre reads queues and tickets. Their calls are timed into Locust's request statistics, so
Locust's CSV and HTML reports show each type's rate and percentiles.

This is a Locust file (``locust -f loadtest/locust_users.py``), run by ``hotline loadtest
surge`` or by ops as master and workers. gRPC is patched for gevent as Locust documents it; a
channel is made per user when it starts. Where the network is, and who signs in, comes from
the JSON file named by ``HOTLINE_LOADTEST_NETWORK`` (``loadtest.surge`` writes it). A session
is made once per process and officer (a TOTP code may be spent once, so two users signing in
as one officer in the same half-minute would be refused); a worker process signs in as the
officers of its own index, so workers on other machines never share a code.

RESOURCE_EXHAUSTED (the node shedding load) is counted apart from failures: the request is
reported under the request type ``shed`` with its name, never as a failure, and every ticket a
call-taker was answered is appended to ``acks-<pid>.txt`` for the loss check.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import grpc.experimental.gevent as grpc_gevent  # type: ignore[import-not-found]

grpc_gevent.init_gevent()

from google.protobuf.timestamp_pb2 import Timestamp  # noqa: E402
from locust import LoadTestShape, User, between, events, task  # noqa: E402

from core.access import totp  # noqa: E402
from core.ticket.vocabulary import TicketKind  # noqa: E402
from loadtest.shapes import users_at  # noqa: E402
from node.devnet.samples import GYM, random_ticket  # noqa: E402
from node.edge.client import CallError, NodeClient  # noqa: E402
from proto.hotline.v1 import casework_pb2 as cw  # noqa: E402
from proto.hotline.v1 import common_pb2, intake_pb2, odr_pb2, ticket_pb2  # noqa: E402
from sync.codec import to_message  # noqa: E402

KIND_SHARES = (
    (TicketKind.CONSULTATION, 45),
    (TicketKind.COMPLAINT, 45),
    (TicketKind.REPORT, 10),
)
"""Shares of the calls by kind (per cent): a 12315 line answers about as many questions as it
takes complaints, and far fewer reports."""

GREEN_CHANNEL_SHARE = 0.1
"""Share of complaints against the enrolled gym whose consumer chooses the ODR green channel."""

GRPC = "grpc"
SHED = "shed"
"""Request type of calls the node refused with RESOURCE_EXHAUSTED (load shed, not failure)."""


def network() -> dict[str, Any]:
    """The network description written by ``loadtest.surge`` (targets, root, officers)."""
    cached = getattr(network, "_cached", None)
    if cached is None:
        path = os.environ.get("HOTLINE_LOADTEST_NETWORK", "")
        if not path:
            raise RuntimeError("HOTLINE_LOADTEST_NETWORK names no network file")
        cached = json.loads(Path(path).read_text(encoding="utf-8"))
        network._cached = cached  # type: ignore[attr-defined]
    description: dict[str, Any] = cached
    return description


_sessions: dict[str, str] = {}
_sessions_lock = threading.Lock()
_turns: dict[str, int] = {}


def worker_index(user: User) -> int:
    """This process's index among the workers (0 when Locust runs alone)."""
    return int(getattr(user.environment.runner, "worker_index", 0) or 0)


def session_of(person: dict[str, Any], client: NodeClient) -> str:
    """A session token of ``person`` (an officer or enterprise user), signed in once per
    process with the password and a fresh TOTP code."""
    key = person.get("officer_id") or f"{person['credit_code']}/{person['user_id']}"
    with _sessions_lock:
        if key not in _sessions:
            code = totp.totp(totp.secret_bytes(person["totp_secret"]), int(time.time() * 1000))
            if "officer_id" in person:
                client.sign_in(person["officer_id"], person["password"], code)
            else:
                client.enterprise_sign_in(
                    person["credit_code"], person["user_id"], person["password"], code
                )
            _sessions[key] = client.token
        return _sessions[key]


def record_ack(ticket_id: str) -> None:
    """Note a ticket the network acknowledged, for the loss check after the run."""
    folder = Path(network()["acks_dir"])
    with (folder / f"acks-{os.getpid()}.txt").open("a", encoding="ascii") as acks:
        acks.write(ticket_id + "\n")


def now_stamp() -> Timestamp:
    """Now, as a protobuf timestamp (when an enterprise says it contacted the consumer)."""
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


class NetworkUser(User):
    """A person at a node: a channel made at start, signed in as one of the role's people,
    every call timed into Locust's statistics."""

    abstract = True
    role = ""
    """Key of this role's people in the network file."""
    spread = 1
    """How many of the role's people one process signs in as (its users take turns)."""
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        """Make this user's channel and take the session of the role's person for this
        process."""
        people = network()["people"][self.role]
        with _sessions_lock:
            turn = _turns.get(self.role, 0)
            _turns[self.role] = turn + 1
        chosen = worker_index(self) * self.spread + turn % self.spread
        self.person = people[chosen % len(people)]
        node = network()["nodes"][self.person["node"]]
        self.unit = node["unit"]
        self.rng = random.Random()
        self.client = NodeClient(
            node["target"], root=network()["root_pem"].encode("ascii"), unit=node["unit"]
        )
        self.client.token = session_of(self.person, self.client)

    def on_stop(self) -> None:
        """Close the channel."""
        self.client.close()

    def timed(self, name: str, call: Callable[[], Any]) -> Any:
        """Run ``call`` and report it to Locust as ``name``; a shed call is reported apart.
        Returns the answer, or ``None`` when the call failed."""
        start = time.perf_counter()
        answer: Any = None
        failure: Exception | None = None
        request_type = GRPC
        try:
            answer = call()
        except CallError as exc:
            if exc.code == "RESOURCE_EXHAUSTED":
                request_type = SHED
            else:
                failure = exc
        elapsed_ms = (time.perf_counter() - start) * 1000
        events.request.fire(  # type: ignore[no-untyped-call]
            request_type=request_type,
            name=name,
            response_time=elapsed_ms,
            response_length=answer.ByteSize() if hasattr(answer, "ByteSize") else 0,
            exception=failure,
            context={},
        )
        return answer if failure is None and request_type == GRPC else None

    def page(
        self, status: ticket_pb2.TicketStatus.ValueType, size: int
    ) -> intake_pb2.ListTicketsResponse:
        """The first page of the tickets held by this user's unit in ``status`` (0: any)."""
        request = intake_pb2.ListTicketsRequest(
            holder_prefix=self.unit, status=status, page_size=size
        )
        answer: intake_pb2.ListTicketsResponse = self.client.call(
            "IntakeService", "ListTickets", request
        )
        return answer


class CallTaker(NetworkUser):
    """A 12315 call-taker (话务员) registering what callers say, in the usual shares."""

    role = "call_taker"
    weight = 6

    @task
    def register_a_call(self) -> None:
        """Register one call as a consultation, complaint or report."""
        kinds = [kind for kind, _ in KIND_SHARES]
        kind = self.rng.choices(kinds, weights=[share for _, share in KIND_SHARES])[0]
        command = replace(random_ticket(self.rng), kind=kind)
        green = (
            kind is TicketKind.COMPLAINT
            and network().get("odr_green_channel", False)
            and self.rng.random() < GREEN_CHANNEL_SHARE
        )
        if green:
            command = replace(command, respondent=GYM)
        ticket = to_message(command, intake_pb2.NewTicket)
        ticket.facts = f"{ticket.facts}（{uuid.uuid4().hex[:8]}）"
        ticket.odr_green_channel = green
        answer = self.timed(
            f"RegisterTicket {'odr' if green else kind.name.lower()}",
            lambda: self.client.register(uuid.uuid4().hex, ticket),
        )
        if answer is not None:
            record_ack(answer.ticket_id)


class Dispatcher(NetworkUser):
    """The centre's dispatcher (派单员): routes registered complaints and reports by
    jurisdiction. One per process, so two never route the same ticket."""

    role = "dispatcher"
    fixed_count = 1
    wait_time = between(1.0, 2.0)

    @task
    def route_the_waiting(self) -> None:
        """Route up to five tickets waiting at the centre."""
        waiting = self.timed(
            "ListTickets registered",
            lambda: self.page(ticket_pb2.TICKET_STATUS_REGISTERED, 50),
        )
        routable = [
            t
            for t in getattr(waiting, "tickets", [])
            if t.kind != common_pb2.TICKET_KIND_CONSULTATION
        ][:5]
        for summary in routable:
            self.timed(
                "RouteTicket",
                partial(
                    self.client.step,
                    "RouteTicket",
                    cw.RouteTicketRequest(ticket_id=summary.ticket_id),
                ),
            )


class CountyOfficer(NetworkUser):
    """A county handler (承办人): accepts the complaints routed to the county and ends their
    mediation with an agreement. One per county and process."""

    role = "county_officer"
    fixed_count = 2
    spread = 2
    wait_time = between(1.0, 2.0)

    @task
    def work_the_county_queue(self) -> None:
        """Accept up to three routed complaints, then end one mediation."""
        routed = self.timed(
            "ListTickets routed",
            lambda: self.page(ticket_pb2.TICKET_STATUS_ROUTED, 50),
        )
        complaints = [
            t for t in getattr(routed, "tickets", []) if t.kind == common_pb2.TICKET_KIND_COMPLAINT
        ]
        for summary in complaints[:3]:
            self.timed(
                "AcceptComplaint",
                partial(
                    self.client.step,
                    "AcceptComplaint",
                    cw.AcceptComplaintRequest(ticket_id=summary.ticket_id),
                ),
            )
        handling = self.timed(
            "ListTickets in handling",
            lambda: self.page(ticket_pb2.TICKET_STATUS_IN_HANDLING, 20),
        )
        for summary in getattr(handling, "tickets", [])[:1]:
            ticket = self.timed("GetTicket", partial(self.client.get, summary.ticket_id))
            if ticket is None or not any(
                p.stage == ticket_pb2.STAGE_MEDIATING for p in ticket.tracks
            ):
                continue
            self.timed(
                "EndMediation",
                partial(
                    self.client.step,
                    "EndMediation",
                    cw.EndMediationRequest(
                        ticket_id=summary.ticket_id,
                        outcome=common_pb2.MEDIATION_OUTCOME_AGREEMENT,
                        agreement="双方同意退款。",
                        amount_recovered_fen=10_000,
                    ),
                ),
            )


class Enterprise(NetworkUser):
    """An enterprise user (企业用户) at its county's node: reads its ODR disputes and its
    standing, and records a contact on the first dispute still open."""

    role = "enterprise"
    weight = 1
    wait_time = between(2.0, 4.0)

    @task
    def answer_disputes(self) -> None:
        """Read the disputes and the standing; record a phone contact on an open one."""
        listed = self.timed(
            "ListDisputes",
            partial(self.client.call, "OdrService", "ListDisputes", odr_pb2.ListDisputesRequest()),
        )
        self.timed(
            "GetPerformance",
            partial(
                self.client.call, "OdrService", "GetPerformance", odr_pb2.GetPerformanceRequest()
            ),
        )
        for dispute in getattr(listed, "disputes", [])[:1]:
            self.timed(
                "RecordContact",
                partial(
                    self.client.call,
                    "OdrService",
                    "RecordContact",
                    odr_pb2.RecordContactRequest(
                        ticket_id=dispute.ticket_id,
                        method=odr_pb2.CONTACT_METHOD_PHONE,
                        contacted_at=now_stamp(),
                        result="已电话联系消费者，协商退款。",
                    ),
                ),
            )


class Reader(NetworkUser):
    """A command-centre reader (指挥中心): the unit's queue and a ticket or two."""

    role = "reader"
    weight = 2

    @task
    def read_the_queue(self) -> None:
        """Read the centre's queue and the newest tickets held at the centre."""
        self.timed("GetQueue", lambda: self.client.queue(self.unit))
        recent = self.timed(
            "ListTickets held",
            lambda: self.page(ticket_pb2.TICKET_STATUS_UNSPECIFIED, 20),
        )
        for summary in getattr(recent, "tickets", [])[:2]:
            self.timed("GetTicket", partial(self.client.get, summary.ticket_id))


class SurgeShape(LoadTestShape):
    """The Locust load shape of a surge run: the shape's name, the peak and the length come
    from the environment (``HOTLINE_SURGE_SHAPE``, ``HOTLINE_SURGE_USERS``,
    ``HOTLINE_SURGE_MINUTES``), so one shape drives a local run and a master with workers."""

    def tick(self) -> tuple[int, float] | None:
        """The users and spawn rate for this second of the run (Locust asks every second)."""
        return users_at(
            os.environ.get("HOTLINE_SURGE_SHAPE", "315"),
            self.get_run_time(),  # type: ignore[no-untyped-call]
            peak_users=int(os.environ.get("HOTLINE_SURGE_USERS", "10")),
            minutes=float(os.environ.get("HOTLINE_SURGE_MINUTES", "1")),
            always_on=int(os.environ.get("HOTLINE_SURGE_ALWAYS_ON", "3")),
        )
