"""The base of every Locust user of a surge: a person at a node, signed in, every call timed.

Why this exists: the surge's users (``loadtest.locust_users``: call-takers, dispatchers,
enterprises, readers; ``loadtest.casework_users``: handlers, station officers, unit heads and
the callback officers) share how they find the network, sign in and report their calls to
Locust, so each user class says only what its person does.

gRPC is patched for gevent here, as Locust documents it, before anything imports a channel;
where the network is, and who signs in, comes from the JSON file named by
``HOTLINE_LOADTEST_NETWORK`` (``loadtest.surge`` writes it). A session is made once per process
and person (a TOTP code may be spent once, so two users signing in as one officer in the same
half-minute would be refused); a worker process signs in as the people of its own index, so
workers on other machines never share a code.

RESOURCE_EXHAUSTED (the node shedding load) is counted apart from failures: the request is
reported under the request type ``shed`` with its name, never as a failure.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import grpc.experimental.gevent as grpc_gevent  # type: ignore[import-not-found]

grpc_gevent.init_gevent()

from google.protobuf.timestamp_pb2 import Timestamp  # noqa: E402
from locust import User, between, events  # noqa: E402

from core.access import totp  # noqa: E402
from node.edge.client import CallError, NodeClient  # noqa: E402
from proto.hotline.v1 import intake_pb2, ticket_pb2  # noqa: E402

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
    at = ""
    """The node whose people of the role this user signs in as ("": any node of the role)."""
    spread = 1
    """How many of the role's people one process signs in as (its users take turns)."""
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        """Make this user's channel and take the session of the role's person for this
        process."""
        people = [p for p in network()["people"][self.role] if p["node"] == self.at or not self.at]
        if not people:
            raise RuntimeError(f"the network file names no {self.role} at {self.at or 'any node'}")
        with _sessions_lock:
            turn = _turns.get(f"{self.role}@{self.at}", 0)
            _turns[f"{self.role}@{self.at}"] = turn + 1
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
        self, status: ticket_pb2.TicketStatus.ValueType, size: int, holder_prefix: str | None = None
    ) -> intake_pb2.ListTicketsResponse:
        """The first page of the tickets held by ``holder_prefix`` (default: this user's unit;
        "": every ticket the node holds) in ``status`` (0: any)."""
        request = intake_pb2.ListTicketsRequest(
            holder_prefix=self.unit if holder_prefix is None else holder_prefix,
            status=status,
            page_size=size,
        )
        answer: intake_pb2.ListTicketsResponse = self.client.call(
            "IntakeService", "ListTickets", request
        )
        return answer

    def step(self, method: str, request: Any) -> Any:
        """One casework step (``CaseworkService.method``), timed under the method's name;
        the answer, or ``None`` when it failed or was shed."""
        return self.timed(method, partial(self.client.step, method, request))
