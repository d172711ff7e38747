"""The parent's side of replication: what a node does for the children that call it.

Served on the node's peer port over mutual TLS (``node.edge.sync`` is the gRPC servicer), so
the caller is whoever its client certificate names: no metadata is believed. A child
introduces itself (``hello``) and both sides exchange what they know of the hierarchy
(``sync.trust_sharing``); it asks how far the parent holds its subtree's chains (``heads``),
streams what is missing (``push``: each batch opened and its signatures checked off the loop
while the previous batch is written, each batch applied in one transaction by
``sync.ingest``), then pulls its jurisdiction feed from a cursor it keeps (``pull``). A caller
may only push its own subtree and pull its own jurisdiction, must sit below this node, and
must hold a certificate that is valid and not revoked now (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Callable
from concurrent.futures import Executor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from cryptography import x509
from sqlalchemy import Connection

from core.errors import InvalidInput, NotPermitted
from core.units import UnitLevel, jurisdiction_prefix
from proto.hotline.v1 import accounts_pb2, sync_pb2
from sync.access_anchors import SignedHead
from sync.access_anchors import keep as keep_access_head
from sync.access_anchors import newest_seq as newest_access_seq
from sync.batch_limits import by_size
from sync.envelope import SealedEvent
from sync.identity import NodeIdentity, NotEnrolled
from sync.ingest import REGISTERED, CheckedEvent, IngestReport, ingest_chains
from sync.log_store import EventLog
from sync.lookup_key_exchange import LookupKeyKeeper, keys_for_child
from sync.officer_account_signing import AccountExchange, alert_refused
from sync.personal.shelf import PreparedSeal, SealShelf
from sync.pki import NodeCertificate, PkiError, load_certificates
from sync.protocol import PROTOCOL_VERSION, check_peer_protocol
from sync.push_admission import PushAdmission
from sync.push_slices import SLICE_EVENTS, cut
from sync.received import batch_certificates, read_batch
from sync.rule_book_signing import RuleBookHolder
from sync.trust import TrustStore
from sync.trust_sharing import peer_certificates, trust_bundle, welcome
from sync.verification import SignatureVerifier
from sync.waits import WAIT_LIMIT, in_executor
from sync.writer import Lane, LogBatch, LogWriter

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]
T = TypeVar("T")
DEFAULT_BATCH = 500
"""Events per pulled batch when the child does not say."""
MAX_BATCH = 5000
"""Most events per pulled batch, whatever the child asks for."""


def _take_chains(
    batch: LogBatch,
    *,
    shelf: SealShelf | None,
    seals: list[PreparedSeal],
    checked: list[CheckedEvent],
    peer: str,
    subtree_prefix: str,
    certificates: list[NodeCertificate],
) -> IngestReport:
    """A pushed batch in one transaction: its events, then the seals of its registrations
    (each checked against the registration just stored or held before)."""
    report = ingest_chains(
        batch, checked, peer=peer, subtree_prefix=subtree_prefix, certificates=certificates
    )
    if shelf is not None and seals:
        shelf.take(batch, seals)
    return report


def _sealed_size(row: tuple[int, SealedEvent]) -> int:
    """The bytes one event of the feed adds to its batch (envelope, signature, framing)."""
    return len(row[1].envelope) + len(row[1].signature) + 8


@dataclass
class ChildContact:
    """What the parent last saw of one child (for ``sync status``)."""

    node_id: str
    unit_code: str
    last_contact_ms: int = 0
    pulled_to: int = 0
    caught_up_ms: int = 0
    """When the child last pulled to the end of its feed (0: not since start): the downward
    lag in time is the age of this (``node.metrics``)."""
    pushed_ms: int = 0
    """When a push of the child's last ended with every batch applied (0: not since start)."""


class ChildReplication:
    """Serves this node's children; every method takes the caller's TLS certificate (PEM)."""

    def __init__(
        self,
        identity: NodeIdentity,
        read: ReadSnapshot,
        writer: LogWriter,
        trust: TrustStore,
        wall_ms: Callable[[], int],
        verifier: SignatureVerifier,
        *,
        executor: Executor,
        rules: RuleBookHolder | None = None,
        accounts: AccountExchange | None = None,
        wait_limit: float = WAIT_LIMIT,
        shelf: SealShelf | None = None,
        lookup_keys: LookupKeyKeeper | None = None,
        admission: PushAdmission | None = None,
        slice_events: int = SLICE_EVENTS,
    ) -> None:
        if identity.credentials is None:
            raise NotEnrolled("a node serves its children only once it is enrolled (hotline pki)")
        self.admission = admission or PushAdmission()
        """How many children may push at once; one more is refused ``Busy`` with a retry hint
        (``sync.push_admission``)."""
        self._slice_events = slice_events
        """Events of a pushed batch per writer job (``sync.push_slices``)."""
        self._shelf = shelf
        """The sealed personal data: taken in beside pushed registrations, sent beside fed ones
        (None: a node that keeps none, and drops what comes)."""
        self._rules = rules
        self._lookup_keys = lookup_keys
        """The province's look-up keys handed to children that lack them (None: none sent)."""
        self._accounts = accounts
        self._identity = identity
        self._credentials = identity.credentials
        self._read = read
        self._writer = writer
        self._trust = trust
        self._wall_ms = wall_ms
        self._verifier = verifier
        self._executor = executor
        """Where blocking work runs (the node's bounded pool)."""
        self._wait_limit = wait_limit
        """Seconds a blocking read may keep a call waiting (``sync.waits``)."""
        self._own_prefix = jurisdiction_prefix(identity.unit_code, identity.level)
        self._callers: dict[bytes, NodeCertificate] = {}
        self.children: dict[str, ChildContact] = {}
        """The children seen since start, by node id."""
        self.on_events: Callable[[str, str, int], None] | None = None
        """Told of the events a child pushed and this node took (``pushed``), and of those sent
        down in its pulls (``pulled``): child node id, way, count. The node's metrics."""

    async def _blocking(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` on the node's bounded pool: the event loop never waits on it."""
        return await in_executor(self._executor, self._wait_limit, fn, *args)

    def _check_below(self, unit_code: str, level: UnitLevel) -> str:
        """The caller's jurisdiction prefix, if the caller sits below this node."""
        if not unit_code.startswith(self._own_prefix) or unit_code == self._identity.unit_code:
            raise NotPermitted(f"{unit_code} is not below {self._identity.unit_code}")
        if not self._identity.level.is_above(level):
            raise NotPermitted(
                f"a {level.value} node cannot replicate with a "
                f"{self._identity.level.value} node as its parent"
            )
        return jurisdiction_prefix(unit_code, level)

    def _known_caller(self, pem: bytes) -> NodeCertificate:
        """The node certificate ``pem`` holds, checked against the trust store (a blocking
        signature check the first time a certificate is seen)."""
        node = self._callers.get(pem)
        if node is None:
            try:
                node = self._trust.add_node(load_certificates(pem)[0])
            except (ValueError, PkiError) as exc:
                raise NotPermitted(f"the client certificate is not usable: {exc}") from None
            self._callers[pem] = node
        return node

    async def caller(self, pem: bytes | None) -> tuple[NodeCertificate, str]:
        """The calling node, from its TLS certificate, and its jurisdiction prefix."""
        if not pem:
            raise NotPermitted("replication needs a client certificate (mutual TLS)")
        node = self._callers.get(pem)
        if node is None:
            node = await self._blocking(self._known_caller, pem)
        reason = self._trust.judge(node, self._wall_ms())
        if reason:
            raise NotPermitted(f"the certificate of {node.node_id} does not count: {reason}")
        prefix = self._check_below(node.unit_code, node.level)
        contact = self.children.setdefault(node.node_id, ChildContact(node.node_id, node.unit_code))
        contact.last_contact_ms = self._wall_ms()
        return node, prefix

    def _learn_chain(self, chain: list[bytes]) -> None:
        """The caller's province CA, if new here (checked against the root)."""
        for der in chain:
            with contextlib.suppress(ValueError, PkiError):
                self._trust.add_authority(x509.load_der_x509_certificate(der))

    async def hello(
        self, pem: bytes | None, request: sync_pb2.HelloRequest
    ) -> sync_pb2.HelloResponse:
        """Introduce the calling node; exchange authorities and revocation lists; hand down
        the province's rule book when the caller's is older, and the look-up keys it lacks."""
        await self._blocking(self._learn_chain, list(request.node.chain))
        child, prefix = await self.caller(pem)
        check_peer_protocol(request.protocol_version, f"child node {child.node_id}")
        if request.node.certificate and request.node.certificate != child.der:
            raise InvalidInput("node.certificate", "differs from the TLS client certificate")
        await self._writer.run(partial(welcome, certificate=child, bundle=request.trust))
        if request.HasField("access_anchor"):
            head = SignedHead.from_message(request.access_anchor)
            proof = (
                SignedHead.from_message(request.access_proof)
                if request.HasField("access_proof")
                else None
            )
            await self._writer.run(partial(keep_access_head, child=child, head=head, proof=proof))

        def feed() -> tuple[int, int, int]:
            with self._read() as conn:
                log = EventLog(conn)
                anchored = newest_access_seq(conn, child.node_id)
                return log.feed_end(), log.feed_count_after(prefix, request.pull_cursor), anchored

        end, unpulled, anchored = await self._blocking(feed)
        response = sync_pb2.HelloResponse(
            node=peer_certificates(self._credentials),
            trust=trust_bundle(self._trust),
            feed_end=end,
            unpulled=unpulled,
            access_anchor_seq=anchored,
            protocol_version=PROTOCOL_VERSION,
        )
        newer = self._rules.for_child(request.rule_book_number) if self._rules else None
        if newer is not None:
            response.rule_book.CopyFrom(newer)
        if self._lookup_keys is not None:
            response.lookup_keys.extend(keys_for_child(self._lookup_keys, request.lookup_key_id))
        return response

    def _heads(self, prefix: str) -> list[sync_pb2.OriginHead]:
        with self._read() as conn:
            return [
                sync_pb2.OriginHead(origin_node=h.origin_node, seq=h.seq, hash=h.hash)
                for h in EventLog(conn).heads_under(prefix)
            ]

    async def heads(
        self, pem: bytes | None, request: sync_pb2.GetHeadsRequest
    ) -> sync_pb2.GetHeadsResponse:
        """The parent's last sequence and hash for each origin under a unit-code prefix."""
        _, prefix = await self.caller(pem)
        if not request.unit_prefix.startswith(prefix):
            raise NotPermitted(f"heads under {request.unit_prefix!r} are outside {prefix!r}")
        return sync_pb2.GetHeadsResponse(
            heads=await self._blocking(self._heads, request.unit_prefix)
        )

    async def _checked(
        self, batch: sync_pb2.EventBatch
    ) -> tuple[list[CheckedEvent], list[NodeCertificate], list[tuple[str, str]]]:
        events, certificates, broken = await self._blocking(read_batch, self._trust, batch)
        checked = await self._verifier.check(events, self._trust)
        return checked, certificates, broken

    async def _prepared(
        self, batch: sync_pb2.EventBatch, checked: list[CheckedEvent]
    ) -> list[PreparedSeal]:
        """The batch's seals opened and checked on the pool (``SealShelf.prepare``)."""
        if self._shelf is None or not batch.seals:
            return []
        events = [c.event for c in checked]
        return await self._blocking(self._shelf.prepare, list(batch.seals), events)

    async def push(
        self, pem: bytes | None, batches: AsyncIterable[sync_pb2.EventBatch]
    ) -> sync_pb2.PushSummary:
        """Upward: batches of signed events, each applied in one transaction.

        The next batch's signatures are checked while the current one is being written. At
        most ``admission.max_pushes`` pushes are served at once: one more is refused ``Busy``
        before any batch is read (a replication storm, ``sync.push_admission``).
        """
        child, prefix = await self.caller(pem)
        async with self.admission.admitted(child.node_id):
            return await self._take_push(child, prefix, batches)

    async def _take_push(
        self,
        child: NodeCertificate,
        prefix: str,
        batches: AsyncIterable[sync_pb2.EventBatch],
    ) -> sync_pb2.PushSummary:
        """``push`` once admitted."""
        total = IngestReport()
        applying: asyncio.Future[IngestReport] | None = None

        async def apply(
            checked: list[CheckedEvent],
            certificates: list[NodeCertificate],
            seals: list[PreparedSeal],
        ) -> IngestReport:
            # In slices on the replication lane, all queued at once (the lane keeps their
            # order): the desk's jobs go between them (``sync.push_slices``).
            jobs = [
                partial(
                    _take_chains,
                    shelf=self._shelf,
                    seals=part.seals,
                    checked=part.checked,
                    peer=child.node_id,
                    subtree_prefix=prefix,
                    certificates=certificates if n == 0 else [],
                )
                for n, part in enumerate(cut(checked, seals, self._slice_events))
            ]
            report = IngestReport()
            for taken in await asyncio.gather(
                *(self._writer.run(job, lane=Lane.BACKLOG) for job in jobs)
            ):
                report.add(taken)
            return report

        async for batch in batches:
            checked, certificates, broken = await self._checked(batch)
            for event_id, reason in broken:
                total.reject(event_id, reason)
            if applying is not None:
                total.add(await applying)
            seals = await self._prepared(batch, checked)
            applying = asyncio.ensure_future(apply(checked, certificates, seals))
        if applying is not None:
            total.add(await applying)
        self.children[child.node_id].pushed_ms = self._wall_ms()
        if self.on_events is not None:
            self.on_events(child.node_id, "pushed", total.accepted)
        return sync_pb2.PushSummary(
            accepted=total.accepted,
            duplicates=total.duplicates,
            rejected=total.rejected,
            rejections=[sync_pb2.Rejection(event_id=i, reason=r) for i, r in total.rejections],
            heads=await self._blocking(self._heads, prefix),
        )

    async def push_accounts(
        self, pem: bytes | None, batch: accounts_pb2.AccountBatch
    ) -> accounts_pb2.AccountReceipt:
        """Upward: officer account records signed in the caller's subtree (one page)."""
        child, prefix = await self.caller(pem)
        if self._accounts is None:
            return accounts_pb2.AccountReceipt()
        receipt = await self._blocking(
            self._accounts.take_from_child, child.node_id, prefix, list(batch.accounts)
        )
        if receipt.rejections:
            await self._writer.run(
                partial(alert_refused, sender=child.node_id, rejections=receipt.rejections)
            )
        return receipt.message()

    async def pull_accounts(
        self, pem: bytes | None, request: accounts_pb2.PullAccountsRequest
    ) -> accounts_pb2.AccountBatch:
        """Downward: officer account records touching the caller's jurisdiction (one page)."""
        _, prefix = await self.caller(pem)
        if self._accounts is None:
            return accounts_pb2.AccountBatch(cursor=request.after)
        return await self._blocking(self._accounts.for_child, prefix, request.after)

    async def pull(
        self, pem: bytes | None, request: sync_pb2.PullRequest
    ) -> AsyncIterator[sync_pb2.EventBatch]:
        """Downward: the jurisdiction feed after a cursor, in batches."""
        child, prefix = await self.caller(pem)
        contact = self.children[child.node_id]
        size = min(request.batch_size or DEFAULT_BATCH, MAX_BATCH)
        after, sent = request.after, 0
        contact.pulled_to = after
        while True:

            def read(
                after: int = after,
            ) -> tuple[list[tuple[int, SealedEvent]], int, dict[str, sync_pb2.PersonalSeal]]:
                with self._read() as conn:
                    log = EventLog(conn)
                    rows = log.feed_after(prefix, after, size)
                    registered = [e.ticket_id for _, e in rows if e.event_type == REGISTERED]
                    seals = (
                        {s.ticket_id: s for s in self._shelf.outgoing(conn, registered)}
                        if self._shelf is not None and registered
                        else {}
                    )
                    return rows, log.feed_end(), seals

            rows, end, seals = await self._blocking(read)
            if not rows:
                contact.caught_up_ms = self._wall_ms()
                return
            for part in by_size(rows, _sealed_size):
                after = part[-1][0]
                sent += 1
                events = [e for _, e in part]
                yield sync_pb2.EventBatch(
                    events=[e.to_proto() for e in events],
                    certificates=batch_certificates(self._trust, events),
                    cursor=after,
                    feed_end=end,
                    seals=[
                        seals[e.ticket_id]
                        for e in events
                        if e.event_type == REGISTERED and e.ticket_id in seals
                    ],
                )
                contact.pulled_to = after
                if self.on_events is not None:
                    self.on_events(child.node_id, "pulled", len(part))
                if request.max_batches and sent >= request.max_batches:
                    return
            if len(rows) < size:
                contact.caught_up_ms = self._wall_ms()
                return
