"""The parent's side of replication: the ``SyncService`` servicer (docs/protocol.md).

Served on the node's peer port over mutual TLS, so the caller is whoever its certificate names:
no metadata is believed. A child introduces itself (``Hello``) and both sides exchange what
they know of the hierarchy (authorities and revocation lists); it asks how far the parent holds
its subtree's chains (``GetHeads``), streams what is missing (``PushEvents``: signatures
checked on a thread pool while the previous batch is written, each batch applied in one
transaction by ``sync.ingest``), then pulls its jurisdiction feed from a cursor it keeps
(``PullEvents``). A caller may only push its own subtree and pull its own jurisdiction, must
sit below this node, and must hold a certificate that is valid and not revoked now.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from grpc import aio
from sqlalchemy import Connection

from core.errors import InvalidInput, NotPermitted
from core.units import UnitLevel, jurisdiction_prefix
from proto.hotline.v1 import sync_pb2, sync_pb2_grpc
from sync.envelope import EnvelopeError, SealedEvent, open_sealed
from sync.identity import Credentials, NodeIdentity, NotEnrolled
from sync.ingest import CheckedEvent, IngestReport, ingest_chains
from sync.log_store import EventLog
from sync.pki import NodeCertificate, PkiError, load_certificates
from sync.reasons import AlertKind, Refusal, Refused
from sync.rule_book_signing import RuleBookHolder
from sync.trust import TrustStore
from sync.verification import SignatureVerifier
from sync.writer import LogBatch, LogWriter

ReadSnapshot = Callable[[], AbstractContextManager[Connection]]
Context = aio.ServicerContext[Any, Any]
T = TypeVar("T")
DEFAULT_BATCH = 500
MAX_BATCH = 5000


def peer_certificates(credentials: Credentials) -> sync_pb2.PeerCertificates:
    """A node's certificate and the authorities above it, for the wire."""
    return sync_pb2.PeerCertificates(
        certificate=credentials.certificate.der,
        chain=[c.public_bytes(Encoding.DER) for c in credentials.chain],
    )


def trust_bundle(trust: TrustStore) -> sync_pb2.TrustBundle:
    """What this node knows of the hierarchy besides node certificates."""
    return sync_pb2.TrustBundle(
        authorities=[c.public_bytes(Encoding.DER) for c in trust.authorities()],
        revocation_lists=[c.public_bytes(Encoding.DER) for c in trust.revocation_lists()],
    )


def learn_trust(batch: LogBatch, bundle: sync_pb2.TrustBundle) -> tuple[int, int]:
    """Hold (and keep) the authorities and newer revocation lists of a bundle, all or nothing.

    Everything is checked against the national root first, so a bundle from anyone is safe to
    learn from. The whole bundle is read and learnt into a copy of the trust store before any
    of it is kept: one bad item refuses the bundle (``InvalidInput`` naming it) and leaves
    nothing behind. What it teaches counts for the rest of the writer's transaction and reaches
    the node's own trust store once that commits. Returns how many authorities and revocation
    lists were new.
    """
    held = batch.trust
    if held is None:
        return 0, 0
    authorities = [
        _read(x509.load_der_x509_certificate, der, f"trust.authorities[{i}]")
        for i, der in enumerate(bundle.authorities)
    ]
    crls = [
        _read(x509.load_der_x509_crl, der, f"trust.revocation_lists[{i}]")
        for i, der in enumerate(bundle.revocation_lists)
    ]
    staged = held
    new_authorities: list[x509.Certificate] = []
    new_crls: list[x509.CertificateRevocationList] = []
    if not all(held.knows(c) for c in authorities) or not all(held.holds(c) for c in crls):
        staged = held.copy()  # the usual Hello teaches nothing new and copies nothing
        new_authorities, new_crls = _learn(staged, authorities, crls)
    for cert in authorities:
        batch.remember_authority(cert)  # idempotent; it may have been learnt from TLS
    if not (new_authorities or new_crls):
        return 0, 0
    batch.stage_trust(staged, partial(_learn, authorities=new_authorities, crls=new_crls))
    for crl in new_crls:
        batch.remember_revocations(crl)
    _discount_revoked(batch, held, staged)
    return len(new_authorities), len(new_crls)


def _read(load: Callable[[bytes], T], der: bytes, field: str) -> T:
    """``load(der)``, or the field named in an ``InvalidInput``."""
    try:
        return load(der)
    except ValueError as exc:
        raise InvalidInput(field, f"does not parse: {exc}") from None


def _learn(
    store: TrustStore,
    authorities: list[x509.Certificate],
    crls: list[x509.CertificateRevocationList],
) -> tuple[list[x509.Certificate], list[x509.CertificateRevocationList]]:
    """Teach ``store`` the authorities, then the revocation lists; returns those it lacked."""
    new_authorities = []
    for i, cert in enumerate(authorities):
        try:
            if store.add_authority(cert):
                new_authorities.append(cert)
        except (ValueError, PkiError, x509.ExtensionNotFound) as exc:
            raise InvalidInput(f"trust.authorities[{i}]", str(exc)) from None
    new_crls = []
    for i, crl in enumerate(crls):
        try:
            if store.add_revocations(crl):
                new_crls.append(crl)
        except (ValueError, PkiError) as exc:
            raise InvalidInput(f"trust.revocation_lists[{i}]", str(exc)) from None
    return new_authorities, new_crls


def _discount_revoked(batch: LogBatch, before: TrustStore, after: TrustStore) -> None:
    """After newer revocation lists: stop counting the newly revoked signers' later events."""
    for node in after.node_certificates():
        at = after.revoked_at(node.certificate)
        was = before.revoked_at(node.certificate)
        if at is not None and (was is None or at < was):
            refused = Refused(Refusal.SIGNER_NOT_TRUSTED, f"certificate revoked since {at} (ms)")
            count = batch.discount_signer(node.key_id, node.node_id, at, str(refused))
            batch.raise_alert(
                AlertKind.REVOKED_SIGNER,
                node.node_id,
                f"certificate {node.serial:x} revoked from {at} ms; "
                f"{count} ticket(s) folded again without its later events",
            )


def welcome(batch: LogBatch, *, certificate: NodeCertificate, bundle: sync_pb2.TrustBundle) -> None:
    """Keep a peer's certificate and learn from the trust bundle it sent (a writer job)."""
    batch.remember_certificates([certificate])
    learn_trust(batch, bundle)


def signer_certificates(trust: TrustStore, ders: Any) -> list[NodeCertificate]:
    """The node certificates of a batch, each checked against the trust store."""
    nodes = []
    for der in ders:
        try:
            nodes.append(trust.add_node(x509.load_der_x509_certificate(der)))
        except (ValueError, PkiError):
            continue  # the events it would vouch for are refused as from an unknown signer
    return nodes


def open_batch(batch: sync_pb2.EventBatch) -> tuple[list[SealedEvent], list[tuple[str, str]]]:
    """The events of a received batch; unparseable ones are set aside with reasons."""
    events: list[SealedEvent] = []
    broken: list[tuple[str, str]] = []
    for i, signed in enumerate(batch.events):
        try:
            events.append(open_sealed(signed.envelope, signed.signature))
        except EnvelopeError as exc:
            broken.append((f"#{i}", str(Refused(Refusal.UNPARSEABLE, str(exc)))))
    return events, broken


def batch_certificates(trust: TrustStore, events: list[SealedEvent]) -> list[bytes]:
    """DER certificates of the signers of ``events`` (what a receiver needs to verify them)."""
    return [c.der for c in trust.certificates_for(e.signer_key_id for e in events)]


@dataclass
class ChildContact:
    """What the parent last saw of one child (for ``sync status``)."""

    node_id: str
    unit_code: str
    last_contact_ms: int = 0
    pulled_to: int = 0


class SyncServicer(sync_pb2_grpc.SyncServiceServicer):
    """Serves this node's children."""

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
    ) -> None:
        if identity.credentials is None:
            raise NotEnrolled("a node serves SyncService only once it is enrolled (hotline pki)")
        self._rules = rules
        self._identity = identity
        self._credentials = identity.credentials
        self._read = read
        self._writer = writer
        self._trust = trust
        self._wall_ms = wall_ms
        self._verifier = verifier
        self._executor = executor
        """Where blocking reads run (the node's bounded pool)."""
        self._own_prefix = jurisdiction_prefix(identity.unit_code, identity.level)
        self._callers: dict[bytes, NodeCertificate] = {}
        self.children: dict[str, ChildContact] = {}

    async def _blocking(self, fn: Callable[[], T]) -> T:
        """``fn()`` on the node's bounded pool: reads never block the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

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

    def _caller(self, context: Context) -> tuple[NodeCertificate, str]:
        """The calling node, from its TLS certificate, and its jurisdiction prefix."""
        pems = list((context.auth_context() or {}).get("x509_pem_cert") or [])
        if not pems:
            raise NotPermitted("replication needs a client certificate (mutual TLS)")
        pem: bytes = pems[0]
        node = self._callers.get(pem)
        if node is None:
            try:
                node = self._trust.add_node(load_certificates(pem)[0])
            except (ValueError, PkiError) as exc:
                raise NotPermitted(f"the client certificate is not usable: {exc}") from None
            self._callers[pem] = node
        reason = self._trust.judge(node, self._wall_ms())
        if reason:
            raise NotPermitted(f"the certificate of {node.node_id} does not count: {reason}")
        prefix = self._check_below(node.unit_code, node.level)
        contact = self.children.setdefault(node.node_id, ChildContact(node.node_id, node.unit_code))
        contact.last_contact_ms = self._wall_ms()
        return node, prefix

    async def Hello(
        self, request: sync_pb2.HelloRequest, context: Context
    ) -> sync_pb2.HelloResponse:
        """Introduce the calling node; exchange authorities and revocation lists; hand down
        the province's rule book when the caller's is older."""
        for der in request.node.chain:  # the caller's province CA, if new here
            with contextlib.suppress(ValueError, PkiError):
                self._trust.add_authority(x509.load_der_x509_certificate(der))
        child, prefix = self._caller(context)
        if request.node.certificate and request.node.certificate != child.der:
            raise InvalidInput("node.certificate", "differs from the TLS client certificate")
        await self._writer.run(partial(welcome, certificate=child, bundle=request.trust))

        def feed() -> tuple[int, int]:
            with self._read() as conn:
                log = EventLog(conn)
                return log.feed_end(), log.feed_count_after(prefix, request.pull_cursor)

        end, unpulled = await self._blocking(feed)
        response = sync_pb2.HelloResponse(
            node=peer_certificates(self._credentials),
            trust=trust_bundle(self._trust),
            feed_end=end,
            unpulled=unpulled,
        )
        newer = self._rules.for_child(request.rule_book_number) if self._rules else None
        if newer is not None:
            response.rule_book.CopyFrom(newer)
        return response

    async def GetHeads(
        self, request: sync_pb2.GetHeadsRequest, context: Context
    ) -> sync_pb2.GetHeadsResponse:
        """The parent's last sequence and hash for each origin under a unit-code prefix."""
        _, prefix = self._caller(context)
        if not request.unit_prefix.startswith(prefix):
            raise NotPermitted(f"heads under {request.unit_prefix!r} are outside {prefix!r}")

        def read() -> list[sync_pb2.OriginHead]:
            with self._read() as conn:
                return [
                    sync_pb2.OriginHead(origin_node=h.origin_node, seq=h.seq, hash=h.hash)
                    for h in EventLog(conn).heads_under(request.unit_prefix)
                ]

        return sync_pb2.GetHeadsResponse(heads=await self._blocking(read))

    async def _checked(
        self, batch: sync_pb2.EventBatch
    ) -> tuple[list[CheckedEvent], list[NodeCertificate], list[tuple[str, str]]]:
        certificates = signer_certificates(self._trust, batch.certificates)
        events, broken = open_batch(batch)
        checked = await self._verifier.check(events, self._trust)
        return checked, certificates, broken

    async def PushEvents(
        self, request_iterator: AsyncIterator[sync_pb2.EventBatch], context: Context
    ) -> sync_pb2.PushSummary:
        """Upward: stream batches of signed events; each batch is applied in one transaction.

        The next batch's signatures are checked while the current one is being written.
        """
        child, prefix = self._caller(context)
        total = IngestReport()
        applying: asyncio.Future[IngestReport] | None = None

        async def apply(
            checked: list[CheckedEvent], certificates: list[NodeCertificate]
        ) -> IngestReport:
            return await self._writer.run(
                partial(
                    ingest_chains,
                    checked=checked,
                    peer=child.node_id,
                    subtree_prefix=prefix,
                    certificates=certificates,
                )
            )

        async for batch in request_iterator:
            checked, certificates, broken = await self._checked(batch)
            for event_id, reason in broken:
                total.reject(event_id, reason)
            if applying is not None:
                total.add(await applying)
            applying = asyncio.ensure_future(apply(checked, certificates))
        if applying is not None:
            total.add(await applying)

        def heads() -> list[sync_pb2.OriginHead]:
            with self._read() as conn:
                return [
                    sync_pb2.OriginHead(origin_node=h.origin_node, seq=h.seq, hash=h.hash)
                    for h in EventLog(conn).heads_under(prefix)
                ]

        return sync_pb2.PushSummary(
            accepted=total.accepted,
            duplicates=total.duplicates,
            rejected=total.rejected,
            rejections=[sync_pb2.Rejection(event_id=i, reason=r) for i, r in total.rejections],
            heads=await self._blocking(heads),
        )

    async def PullEvents(
        self, request: sync_pb2.PullRequest, context: Context
    ) -> AsyncIterator[sync_pb2.EventBatch]:
        """Downward: the jurisdiction feed after a cursor, in batches."""
        child, prefix = self._caller(context)
        contact = self.children[child.node_id]
        size = min(request.batch_size or DEFAULT_BATCH, MAX_BATCH)
        after, sent = request.after, 0
        contact.pulled_to = after
        while True:

            def read(after: int = after) -> tuple[list[tuple[int, SealedEvent]], int]:
                with self._read() as conn:
                    log = EventLog(conn)
                    return log.feed_after(prefix, after, size), log.feed_end()

            rows, end = await self._blocking(read)
            if not rows:
                return
            after = rows[-1][0]
            sent += 1
            events = [e for _, e in rows]
            yield sync_pb2.EventBatch(
                events=[e.to_proto() for e in events],
                certificates=batch_certificates(self._trust, events),
                cursor=after,
                feed_end=end,
            )
            contact.pulled_to = after
            if len(rows) < size or (request.max_batches and sent >= request.max_batches):
                return
