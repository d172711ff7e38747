"""The child's side of replication: ``ParentLink`` pushes its subtree up and pulls its share down.

A round is: introduce ourselves, ask the parent's heads for our subtree, stream every chain
suffix the parent lacks, then pull the parent's feed from our cursor, storing each batch with
the new cursor in one writer transaction. The link runs rounds on a timer and whenever the
node records something; when the parent is unreachable it backs off (exponential, with jitter)
and the node goes on working on its own log; the next good round catches up.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from concurrent.futures import Executor
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import grpc
from cryptography import x509
from grpc import aio
from sqlalchemy import Connection

from core import hlc
from core.units import jurisdiction_prefix, parent_of
from proto.hotline.v1 import accounts_pb2, events_pb2, sync_pb2, sync_pb2_grpc
from sync.access_anchors import SignedHead
from sync.batch_limits import BATCH_MESSAGE_LIMIT, by_size
from sync.errors import RETRY_AFTER_MS, ReplicationError, pushback_ms
from sync.identity import Credentials, NodeIdentity, NotEnrolled
from sync.ingest import CheckedEvent, IngestReport, ingest_feed
from sync.log_store import EventLog, Head
from sync.lookup_key_exchange import LookupKeyKeeper, keep_keys
from sync.odr_roster_exchange import RosterToParent
from sync.officer_account_signing import AccountExchange, alert_refused
from sync.personal.shelf import PreparedSeal, SealShelf
from sync.pki import NodeCertificate, PkiError, dns_name
from sync.ports import ListenerKind, listener_kind
from sync.protocol import PROTOCOL_VERSION, check_peer_protocol
from sync.received import read_batch
from sync.rule_book_signing import RuleBookHolder
from sync.trust import TrustStore
from sync.trust_sharing import peer_certificates, trust_bundle, welcome
from sync.verification import SignatureVerifier
from sync.waits import WAIT_LIMIT, in_executor
from sync.writer import Lane, LogBatch, LogWriter

log = logging.getLogger(__name__)
T = TypeVar("T")

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]


@dataclass
class RoundReport:
    """What one replication round did."""

    pushed: int = 0
    pulled: int = 0
    rejected: int = 0


@dataclass
class LinkStatus:
    """How replication with the parent stands, for ``GetNodeInfo`` and ``sync status``."""

    parent_node: str = ""
    pull_cursor: int = 0
    pushed_seq: int = 0
    last_error: str = ""
    last_success_ms: int = 0
    failures: int = 0

    pushed_back: int = 0
    """Rounds the parent refused as busy (RESOURCE_EXHAUSTED) since start."""
    retry_after_ms: int | None = None
    """The parent's hint of when to come back, from the last round it refused (None: the last
    round was not refused, or came without one)."""

    unpulled_at_hello: int = 0
    """Feed events the parent had for us at the start of the round."""
    pulled_in_round: int = 0

    @property
    def unpulled_events(self) -> int:
        """Feed events the parent holds for us that are not pulled yet (as last seen)."""
        return max(0, self.unpulled_at_hello - self.pulled_in_round)


def _store_pulled(
    batch: LogBatch,
    *,
    checked: list[CheckedEvent],
    certificates: list[NodeCertificate],
    parent_node: str,
    peer: str,
    cursor: int,
    shelf: SealShelf | None = None,
    seals: Sequence[PreparedSeal] = (),
) -> IngestReport:
    """Store a pulled batch, the seals of its registrations and the new cursor in one
    transaction (never the cursor alone)."""
    report = ingest_feed(batch, checked, peer=parent_node, certificates=certificates)
    if shelf is not None and seals:
        shelf.take(batch, seals)
    batch.set_cursor(peer, cursor)
    return report


RESUME_WITHIN_S = 30.0
"""How long after its hello a round pushed back may be resumed at the push: past it, the
next round greets the parent afresh (rule book, trust, accounts, roster)."""

ACK_PREFIX = "ack:"
"""``peer_cursors`` rows ``ack:<origin>`` keep how far the parent acknowledged each chain."""


def remember_acknowledged(batch: LogBatch, *, heads: dict[str, int]) -> None:
    """Keep how far the parent holds each chain (so the upward lag survives a restart)."""
    for origin, seq in heads.items():
        batch.set_cursor(ACK_PREFIX + origin, seq)


def upward_lag(log: EventLog, prefix: str) -> tuple[int, int]:
    """Events of this subtree the parent has not acknowledged, and the oldest one's time (ms)."""
    acked = log.cursors_with_prefix(ACK_PREFIX)
    unsent, oldest = 0, 0
    for head in log.heads_under(prefix):
        after = acked.get(ACK_PREFIX + head.origin_node, 0)
        if head.seq > after:
            unsent += head.seq - after
            first = log.event_at(head.origin_node, after + 1)
            if first is not None:
                at = hlc.to_millis(first.hlc)
                oldest = at if not oldest else min(oldest, at)
    return unsent, oldest


def _signed_size(item: tuple[int, str, events_pb2.SignedEvent]) -> int:
    """The bytes one event of a pushed chain adds to its batch."""
    return item[2].ByteSize()


CORE_WRITE_FAILED = "Internal error from Core"
"""What the asyncio client reports, in place of the parent's status and hint, when the parent
refused a push while the child was still writing its first batch (grpc/grpc#36066)."""


LOST_REFUSALS_BELIEVED = 3
"""Rounds in a row an INTERNAL error is taken for a lost busy-refusal; after that it is what it
says, and the link backs off as for any failure (a parent failing for real is not hammered)."""


def _lost_refusal(code: str, details: str, failures: int) -> bool:
    """A push that most likely met a busy parent, its refusal lost by the gRPC client: retried
    soon (``RETRY_AFTER_MS``) rather than after the back-off meant for an unreachable parent,
    for the first ``LOST_REFUSALS_BELIEVED`` failures in a row."""
    return code == "INTERNAL" and details == CORE_WRITE_FAILED and failures < LOST_REFUSALS_BELIEVED


def backoff_seconds(
    failures: int, hint_ms: int | None, draw: Callable[[float, float], float]
) -> float:
    """How long a link waits before its next round after ``failures`` failures in a row.

    A parent that said when to come back (a push refused as busy) is believed: the hint, plus
    up to half again drawn by ``draw`` (jitter), so that children refused together do not come
    back together. Otherwise exponential from half a second to 30 s, jittered by half either way.
    """
    if hint_ms is not None:
        return hint_ms / 1000 * draw(1.0, 1.5)
    base = min(30.0, 0.5 * float(2 ** min(failures, 6)))
    return base * draw(0.5, 1.5)


async def _first_of(*waits: Coroutine[Any, Any, Any], timeout: float) -> None:
    """Wait until one of ``waits`` finishes or ``timeout`` passes; cancel the rest."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class ParentLink:
    """Replication of one node with its parent."""

    def __init__(
        self,
        target: str,
        identity: NodeIdentity,
        read: ReadSnapshot,
        writer: LogWriter,
        wall_ms: Callable[[], int],
        trust: TrustStore,
        *,
        verifier: SignatureVerifier,
        executor: Executor,
        parent_unit: str = "",
        rules: RuleBookHolder | None = None,
        accounts: AccountExchange | None = None,
        wait_limit: float = WAIT_LIMIT,
        batch_size: int = 500,
        interval: float = 2.0,
        call_timeout: float = 30.0,
        connect_timeout: float = 3.0,
        access_head: Callable[[Connection, int], SignedHead | None] | None = None,
        shelf: SealShelf | None = None,
        lookup_keys: LookupKeyKeeper | None = None,
        roster: RosterToParent | None = None,
    ) -> None:
        if identity.credentials is None:
            raise NotEnrolled("a node replicates only once it is enrolled (hotline pki)")
        self.target = target
        self._identity = identity
        self._credentials: Credentials = identity.credentials
        self._trust = trust
        self.parent_unit = parent_unit or parent_of(identity.unit_code)
        self._verifier = verifier
        self._executor = executor
        """Where blocking reads run (the node's bounded pool)."""
        self._wait_limit = wait_limit
        """Seconds a blocking read may keep a call waiting (``sync.waits``)."""
        self._rules = rules
        self._accounts = accounts
        self._roster = roster
        """The ODR roster's records, exchanged after the accounts (None: not exchanged)."""
        self._read = read
        self._writer = writer
        self._wall_ms = wall_ms
        self._batch = batch_size
        self._interval = interval
        self._timeout = call_timeout
        self._connect_timeout = connect_timeout
        self._shelf = shelf
        """The sealed personal data: sent beside pushed registrations, taken in beside pulled
        ones (None: a node that keeps none)."""
        self._access_head = access_head
        """Reads a signed row of this node's access record (0: its head), sent in every Hello
        for the parent to keep (``sync.access_anchors``); None: not sent."""
        self._anchored_at_parent = 0
        """The row of this node's access record the parent said it keeps (its last answer)."""
        self._lookup_keys = lookup_keys
        """Where the province's look-up keys handed down are kept (None: neither asked nor kept)."""
        self._prefix = jurisdiction_prefix(identity.unit_code, identity.level)
        self.prefix = self._prefix
        """The jurisdiction prefix of this node's subtree (what it pushes)."""
        self._peer_key = ""
        """Where the pull cursor is kept: ``parent:<node id>``, known after the first Hello."""
        self._greeted: tuple[str, float] | None = None
        """The parent greeted in a round it then pushed back at the push, and when (monotonic
        seconds): the next round on the same channel starts at the push (``_round``)."""
        self._channel: aio.Channel | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._round_lock: asyncio.Lock | None = None
        self.exchanging = False
        """True while a round exchanges with a parent that answered: a stop lets it end (its
        batches commit). Before that a round only waits for the parent to answer, and a stop
        need not wait for it (``node.app.runtime``)."""
        self.status = LinkStatus()
        self.on_round: Callable[[float, RoundReport | None], None] | None = None
        """Told of each round as it ends: its seconds, and what it did (None: it failed).
        The node's metrics (``node.metrics``)."""

    def _stub(self) -> sync_pb2_grpc.SyncServiceAsyncStub:
        if self._channel is None:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=self._credentials.root_pem(),
                private_key=self._identity.tls_key_pem(),
                certificate_chain=self._credentials.chain_pem(),
            )
            self._channel = aio.secure_channel(
                self.target,
                credentials,
                options=[
                    ("grpc.ssl_target_name_override", dns_name(self.parent_unit)),
                    ("grpc.max_receive_message_length", BATCH_MESSAGE_LIMIT),
                    ("grpc.initial_reconnect_backoff_ms", 200),
                    ("grpc.max_reconnect_backoff_ms", 2000),
                ],
            )
        return sync_pb2_grpc.SyncServiceStub(self._channel)

    async def close(self) -> None:
        """Close the channel to the parent."""
        self._greeted = None
        if self._channel is not None:
            await self._channel.close(grace=None)
            self._channel = None

    def wake(self) -> None:
        """Ask for a round soon (thread-safe: the log writer calls it after each commit)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def _pull_cursor(self) -> int:
        with self._read() as conn:
            log_ = EventLog(conn)
            return log_.cursor(self._peer_key) if self._peer_key else log_.parent_cursor()

    def _signed_head(self, anchored: int) -> tuple[SignedHead | None, SignedHead | None]:
        """The head of the access record, and its row at ``anchored`` (the parent's proof)."""
        assert self._access_head is not None
        with self._read() as conn:
            head = self._access_head(conn, 0)
            return head, self._access_head(conn, anchored) if anchored else None

    def _heads(self) -> list[Head]:
        with self._read() as conn:
            return EventLog(conn).heads_under(self._prefix)

    def _cursor(self, peer: str) -> int:
        with self._read() as conn:
            return EventLog(conn).cursor(peer)

    async def _blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the node's bounded pool: reads never block the event loop."""
        return await in_executor(self._executor, self._wait_limit, fn, *args)

    def _parent_certificate(self, peer: sync_pb2.PeerCertificates) -> NodeCertificate:
        """The parent's certificate, and its authority if new to us, checked against the root
        (signature checks: run on the blocking pool)."""
        for der in peer.chain:
            with suppress(ValueError, PkiError):
                self._trust.add_authority(x509.load_der_x509_certificate(der))
        try:
            return self._trust.add_node(x509.load_der_x509_certificate(peer.certificate))
        except (ValueError, PkiError) as exc:
            raise ReplicationError(f"the parent's certificate is not usable: {exc}") from exc

    async def _hello(self, stub: sync_pb2_grpc.SyncServiceAsyncStub) -> str:
        # The first call of a round waits briefly for the link: a parent that just came back
        # is used at once rather than after the channel's reconnect back-off.
        cursor = await self._blocking(self._pull_cursor)
        request = sync_pb2.HelloRequest(
            node=peer_certificates(self._credentials),
            trust=trust_bundle(self._trust),
            pull_cursor=cursor,
            rule_book_number=self._rules.number if self._rules else 0,
            protocol_version=PROTOCOL_VERSION,
            lookup_key_id=self._lookup_keys.newest_id() if self._lookup_keys else "",
        )
        if self._access_head is not None:
            head, proof = await self._blocking(self._signed_head, self._anchored_at_parent)
            if head is not None:
                request.access_anchor.CopyFrom(head.to_message())
            if proof is not None:
                request.access_proof.CopyFrom(proof.to_message())
        response = await stub.Hello(
            request,
            timeout=self._connect_timeout,
            wait_for_ready=True,
        )
        check_peer_protocol(response.protocol_version, f"parent {self.target}")
        parent = await self._blocking(self._parent_certificate, response.node)
        if parent.unit_code != self.parent_unit:
            raise ReplicationError(
                f"{self.target} is {parent.unit_code}'s node, not {self.parent_unit}'s"
            )
        await self._writer.run(partial(welcome, certificate=parent, bundle=response.trust))
        self._anchored_at_parent = response.access_anchor_seq
        if self._lookup_keys is not None and response.lookup_keys:
            # Before the rule book: a book naming a new key then finds it here.
            await self._blocking(
                keep_keys, self._lookup_keys, list(response.lookup_keys), self._wall_ms()
            )
        if self._rules is not None and response.HasField("rule_book"):
            # Judged by its issuer's signature, not by who relayed it; a refusal is an alert.
            await self._writer.run(partial(self._rules.learn, signed=response.rule_book))
        self.status.unpulled_at_hello = response.unpulled
        self.status.pulled_in_round = 0
        self._peer_key = f"parent:{parent.node_id}"
        return parent.node_id

    async def _exchange_accounts(
        self, stub: sync_pb2_grpc.SyncServiceAsyncStub, parent_node: str
    ) -> None:
        """Officer account records: those signed in this subtree up, the parent's down (each
        page stored with its cursor), before the events, so a revocation counts at once."""
        accounts = self._accounts
        if accounts is None:
            return
        more = True
        while more:
            signed, upto, more = await self._blocking(accounts.for_parent, parent_node)
            if signed:
                receipt = await stub.PushAccounts(
                    accounts_pb2.AccountBatch(accounts=signed), timeout=self._timeout
                )
                for rejection in receipt.rejections:
                    log.warning(
                        "parent refused officer account %s v%d: %s",
                        rejection.officer_id,
                        rejection.version,
                        rejection.reason,
                    )
            if upto:
                await self._blocking(accounts.parent_took, parent_node, upto)
        more = True
        while more:
            after = await self._blocking(accounts.down_cursor, parent_node)
            batch = await stub.PullAccounts(
                accounts_pb2.PullAccountsRequest(after=after), timeout=self._timeout
            )
            taken = await self._blocking(accounts.take_from_parent, parent_node, batch)
            if taken.rejections:
                await self._writer.run(
                    partial(alert_refused, sender=parent_node, rejections=taken.rejections)
                )
            more = batch.more and batch.cursor > after

    async def _push(self, stub: sync_pb2_grpc.SyncServiceAsyncStub) -> IngestReport:
        response = await stub.GetHeads(
            sync_pb2.GetHeadsRequest(unit_prefix=self._prefix),
            timeout=self._timeout,
        )
        theirs = {h.origin_node: h.seq for h in response.heads}
        await self._writer.run(partial(remember_acknowledged, heads=theirs))
        mine = await self._blocking(self._heads)
        # Higher levels first: a station's steps rest on its county's assignment.
        behind = sorted(
            (len(h.origin_unit), h.origin_node, theirs.get(h.origin_node, 0), h.seq)
            for h in mine
            if h.seq > theirs.get(h.origin_node, 0)
        )
        report = IngestReport()
        if not behind:
            return report

        async def batches() -> AsyncIterator[sync_pb2.EventBatch]:
            for _, origin, after, _ in behind:
                while True:
                    chunk, seals = await self._blocking(self._chain_after, origin, after)
                    if not chunk:
                        break
                    after = chunk[-1][0]
                    for part in by_size(chunk, _signed_size):
                        signers = self._trust.certificates_for(key for _, key, _ in part)
                        yield sync_pb2.EventBatch(
                            events=[signed for _, _, signed in part],
                            certificates=[c.der for c in signers],
                            seals=[seals[seq] for seq, _, _ in part if seq in seals],
                        )
                    if len(chunk) < self._batch:
                        break

        summary = await stub.PushEvents(batches(), timeout=self._timeout * 20)
        report.accepted, report.duplicates, report.rejected = (
            summary.accepted,
            summary.duplicates,
            summary.rejected,
        )
        report.rejections = [(r.event_id, r.reason) for r in summary.rejections]
        own = {h.origin_node: h.seq for h in summary.heads}
        await self._writer.run(partial(remember_acknowledged, heads=own))
        self.status.pushed_seq = own.get(self._identity.node_id, 0)
        for event_id, reason in report.rejections:
            log.warning("parent refused event %s: %s", event_id, reason)
        return report

    def _chain_after(
        self, origin: str, after: int
    ) -> tuple[list[tuple[int, str, events_pb2.SignedEvent]], dict[int, sync_pb2.PersonalSeal]]:
        """The next events of a chain, and the seals of its registrations by sequence."""
        with self._read() as conn:
            log = EventLog(conn)
            chunk = log.signed_chain_after(origin, after, self._batch)
            if not chunk or self._shelf is None:
                return chunk, {}
            registered = log.registrations_in_chain(origin, after, chunk[-1][0])
            if not registered:
                return chunk, {}
            seals = {s.ticket_id: s for s in self._shelf.outgoing(conn, registered.values())}
            return chunk, {q: seals[t] for q, t in registered.items() if t in seals}

    async def _pull(
        self, stub: sync_pb2_grpc.SyncServiceAsyncStub, parent_node: str
    ) -> IngestReport:
        peer = f"parent:{parent_node}"
        after = await self._blocking(self._cursor, peer)
        self.status.pull_cursor = after
        total = IngestReport()
        stream = stub.PullEvents(
            sync_pb2.PullRequest(after=after, batch_size=self._batch),
            timeout=self._timeout * 20,
        )
        storing: asyncio.Future[IngestReport] | None = None
        async for batch in stream:
            events, certificates, broken = await self._blocking(read_batch, self._trust, batch)
            checked = await self._verifier.check(events, self._trust)
            prepared: list[PreparedSeal] = []
            if self._shelf is not None and batch.seals:
                prepared = await self._blocking(
                    self._shelf.prepare, list(batch.seals), [c.event for c in checked]
                )
            for event_id, reason in broken:
                total.reject(event_id, reason)
            if storing is not None:
                total.add(await storing)
            storing = asyncio.ensure_future(
                self._writer.run(
                    partial(
                        _store_pulled,
                        checked=checked,
                        certificates=certificates,
                        parent_node=parent_node,
                        peer=peer,
                        cursor=batch.cursor,
                        shelf=self._shelf,
                        seals=prepared,
                    ),
                    lane=Lane.BACKLOG,  # the desk's jobs go first (sync.writer.lanes)
                )
            )
            storing.add_done_callback(partial(self._pulled_to, batch.cursor, len(batch.events)))
        if storing is not None:
            total.add(await storing)
        return total

    def _pulled_to(self, cursor: int, count: int, done: asyncio.Future[Any]) -> None:
        if not done.cancelled() and done.exception() is None:
            self.status.pull_cursor = cursor
            self.status.pulled_in_round += count

    async def sync_once(self) -> RoundReport:
        """One full round (hello, push, pull); raises ``ReplicationError`` on failure."""
        if self._round_lock is None:
            self._round_lock = asyncio.Lock()
        async with self._round_lock:
            started = time.perf_counter()
            report: RoundReport | None = None
            try:
                report = await self._round()
                return report
            finally:
                if self.on_round is not None:
                    self.on_round(time.perf_counter() - started, report)

    def _resume(self) -> tuple[str, float] | None:
        """The parent to push to at once and when it was greeted, if the last round greeted
        it and was then pushed back, not long ago: a retry after push-back repeats no hello,
        no account or roster exchange (each a call, a writer job and a trust bundle at a
        parent that is busy)."""
        greeted, self._greeted = self._greeted, None
        if greeted is None or time.monotonic() - greeted[1] > RESUME_WITHIN_S:
            return None
        return greeted

    async def _round(self) -> RoundReport:
        """``sync_once`` under its lock."""
        stub: sync_pb2_grpc.SyncServiceAsyncStub = self._stub()
        greeted = self._resume()
        self.exchanging = greeted is not None
        try:
            if greeted is None:
                parent = await self._hello(stub)
                self.exchanging = True
                await self._exchange_accounts(stub, parent)
                if self._roster is not None and self._channel is not None:
                    await self._roster.exchange(self._channel, parent, self._timeout)
                greeted = (parent, time.monotonic())
            parent = greeted[0]
            pushed = await self._push(stub)
            pulled = await self._pull(stub, parent)
        except ReplicationError as exc:
            await self.close()
            self.status.retry_after_ms = None
            self.status.last_error = str(exc)
            self.status.failures += 1
            raise
        except aio.AioRpcError as exc:
            code, details = exc.code().name, exc.details() or ""
            if code == "RESOURCE_EXHAUSTED" or _lost_refusal(code, details, self.status.failures):
                # The parent is busy, not gone: keep the channel, come back when it says, and
                # if it was greeted this round, come back straight to the push.
                self._greeted = greeted
                hint = pushback_ms(exc) if code == "RESOURCE_EXHAUSTED" else RETRY_AFTER_MS
                self.status.pushed_back += code == "RESOURCE_EXHAUSTED"
                self.status.retry_after_ms = hint
                self.status.last_error = f"{code}: {details}"
                self.status.failures += 1
                raise ReplicationError(
                    f"replication with {self.target} pushed back: {details}", code, hint
                ) from exc
            await self.close()  # dial afresh next round
            if code in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
                details = await self._blocking(self._unreachable, details)
            elif code == "UNIMPLEMENTED":
                details = self._not_a_peer_port()
            self.status.last_error = f"{code}: {details}"
            self.status.retry_after_ms = None
            self.status.failures += 1
            raise ReplicationError(
                f"replication with {self.target} failed: {code}: {details}", code
            ) from exc
        finally:
            self.exchanging = False
        self.status.parent_node = parent
        self.status.last_error = ""
        self.status.failures = 0
        self.status.retry_after_ms = None
        self.status.last_success_ms = self._wall_ms()
        return RoundReport(pushed.accepted, pulled.accepted, pushed.rejected + pulled.rejected)

    def _not_a_peer_port(self) -> str:
        """A node answered but serves no SyncService there: its client port, most likely."""
        return (
            f"{self.target} answers in TLS but serves no replication, so it is not a peer "
            "port (it is likely the parent's client port); --parent must name the parent's "
            "peer port (the address after 'peers on' in the parent's start line)"
        )

    def _unreachable(self, details: str) -> str:
        """Why the parent did not answer: a plain port named as ``--parent`` says so."""
        if listener_kind(self.target) is ListenerKind.PLAIN:
            return (
                f"{self.target} answers without TLS, so it is not a node's peer port; --parent "
                "must name the parent's peer port (the address after 'peers on' in the "
                "parent's start line)"
            )
        return details

    def backoff_delay(self) -> float:
        """Seconds until the next round after a failure: the parent's hint if it gave one
        (``backoff_seconds``)."""
        return backoff_seconds(self.status.failures, self.status.retry_after_ms, random.uniform)

    async def run(self, stop: asyncio.Event) -> None:
        """Run rounds until ``stop`` is set: on a timer, on wake-ups, backing off on failure."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while not stop.is_set():
            delay = self._interval
            try:
                await self.sync_once()
            except ReplicationError as exc:
                delay = self.backoff_delay()
                log.info("%s; retrying in %.1fs", exc, delay)
            except Exception:
                delay = self.backoff_delay()
                self.status.failures += 1
                log.exception("replication round failed; retrying in %.1fs", delay)
            self._wake.clear()
            await _first_of(stop.wait(), self._wake.wait(), timeout=delay)
