"""The ODR roster at a node: signed roster records made here, taken from the parent and the
children, and the roster they make.

Every node keeps every roster record it holds (``odr_roster_records``, every version) and reads
its roster from them (``read_roster``: the newest record per credit code). Records signed here
are kept in the transaction of the step that made them (an approval, a listing, a decision).
Replication (``sync.odr_roster_exchange``) asks for pages: up, the records signed in this
node's subtree the parent has not taken; down, every record the parent stored after the child's
cursor, so the whole roster reaches every node, and a node offline when it changed gets it on
its next round.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, insert, select

from core.errors import NotPermitted
from core.odr.roster import OdrRoster
from core.odr.roster_record import RosterRecord, newest, roster_of
from core.units import jurisdiction_prefix
from node.storage.database import Database
from node.storage.record_exchange import RecordExchange
from node.storage.tables import odr_roster_cursors, odr_roster_records
from proto.hotline.v1 import enrolment_pb2 as pb
from sync.identity import NodeIdentity
from sync.odr_roster_signing import (
    RosterRecordRefused,
    claimed,
    open_record,
    read_stored,
    sign_record,
)
from sync.trust import TrustStore

log = logging.getLogger(__name__)

PAGE_RECORDS = 200
"""Records per page, up or down."""
_EXCHANGE = RecordExchange(odr_roster_records, odr_roster_cursors, PAGE_RECORDS)


def read_roster(conn: Connection) -> OdrRoster:
    """The ODR roster this node's database holds: the newest record of each credit code."""
    return roster_of(_newest_rows(conn))


def current_record(conn: Connection, credit_code: str) -> RosterRecord | None:
    """The newest record of ``credit_code`` held here, or None."""
    return newest(_newest_rows(conn, credit_code=credit_code))


def current_records(conn: Connection, prefix: str = "") -> list[RosterRecord]:
    """The newest record of every credit code whose unit starts with ``prefix``."""
    return _tops(_newest_rows(conn), prefix)


def roster_with_records(conn: Connection) -> tuple[OdrRoster, list[RosterRecord]]:
    """The roster and the newest record of every credit code (listed ones too), both made
    from one read of the records: the roster's version and the records shown beside it
    belong together even while a record is being taken (GetRoster ``include_out``)."""
    rows = _newest_rows(conn)
    return roster_of(rows), _tops(rows, "")


def _tops(rows: list[RosterRecord], prefix: str) -> list[RosterRecord]:
    """The newest of ``rows`` for each credit code whose unit starts with ``prefix``."""
    by_code: dict[str, list[RosterRecord]] = {}
    for record in rows:
        by_code.setdefault(record.credit_code, []).append(record)
    tops = [t for t in (newest(rs) for rs in by_code.values()) if t is not None]
    return sorted((t for t in tops if t.unit_code.startswith(prefix)), key=lambda t: t.credit_code)


def _newest_rows(conn: Connection, *, credit_code: str = "") -> list[RosterRecord]:
    """The records of the highest version of each credit code (of one, if given): only those
    are parsed; two of one version (rare) are both read, and ``newest`` picks."""
    table = odr_roster_records.c
    top = select(table.credit_code, func.max(table.version).label("version")).group_by(
        table.credit_code
    )
    if credit_code:
        top = top.where(table.credit_code == credit_code)
    tops = top.subquery()
    rows = conn.execute(
        select(table.signed).join(
            tops, (tops.c.credit_code == table.credit_code) & (tops.c.version == table.version)
        )
    ).scalars()
    return [_stored(raw) for raw in rows]


@dataclass
class RosterReceipt:
    """What became of a page of records received."""

    accepted: int = 0
    duplicates: int = 0
    rejections: list[str] = field(default_factory=list)


@dataclass
class _Checked:
    """A page as checked before its write: the records to keep, duplicates, refusals."""

    opened: list[tuple[pb.SignedRosterRecord, RosterRecord]] = field(default_factory=list)
    duplicates: int = 0
    rejections: list[str] = field(default_factory=list)


class RosterBook:
    """The roster records of one node: signing here, taking from others, pages to hand on."""

    def __init__(
        self,
        db: Database,
        identity: NodeIdentity,
        trust: TrustStore,
        wall_ms: Callable[[], int],
    ) -> None:
        self._db = db
        self._identity = identity
        self._trust = trust
        self._wall_ms = wall_ms
        self._prefix = jurisdiction_prefix(identity.unit_code, identity.level)

    @property
    def unit_code(self) -> str:
        """This node's unit: the issuer of the records signed here."""
        return self._identity.unit_code

    @property
    def node_id(self) -> str:
        """This node's id."""
        return self._identity.node_id

    def roster(self) -> OdrRoster:
        """The roster held here (a blocking read)."""
        with self._db.read() as conn:
            return read_roster(conn)

    def issue(self, conn: Connection, draft: RosterRecord) -> RosterRecord:
        """Sign ``draft`` here and keep it, in the caller's transaction."""
        credentials = self._identity.credentials
        if credentials is None:
            raise NotPermitted("this node is not enrolled: it cannot sign roster records")
        signed, record = sign_record(draft, self._identity, credentials.certificate)
        self._keep(conn, signed, record, received_from="")
        return record

    # -- receiving ---------------------------------------------------------------------------

    def take_from_child(
        self, child_node: str, child_prefix: str, signed: list[pb.SignedRosterRecord]
    ) -> RosterReceipt:
        """Records a child pushed up: only those signed inside its subtree (blocking)."""
        checked = self._check(signed, child_node, child_prefix)
        with self._db.write() as conn:
            return self._take(conn, checked, child_node)

    def take_from_parent(self, parent_node: str, page: pb.RosterExchange) -> RosterReceipt:
        """A page from the parent, stored with the new cursor in one transaction (blocking)."""
        checked = self._check(list(page.records), parent_node, None)
        with self._db.write() as conn:
            receipt = self._take(conn, checked, parent_node)
            _EXCHANGE.set_position(conn, f"down:{parent_node}", page.cursor)
        return receipt

    def _check(
        self, signed: list[pb.SignedRosterRecord], sender: str, subtree: str | None
    ) -> _Checked:
        """The records of a page that may be kept, opened and checked before any write
        transaction begins: certificates and signatures cost far more than the inserts, and
        the write lock is held only for those (on SQLite, one writer for the whole node)."""
        digests = [hashlib.sha256(item.record).digest() for item in signed]
        with self._db.read() as conn:
            held = _EXCHANGE.held(conn, digests)
        checked = _Checked()
        for item, digest in zip(signed, digests, strict=True):
            if digest in held:
                checked.duplicates += 1
                continue
            try:
                record = open_record(item, self._trust)
                if subtree is not None and not record.issuer_unit.startswith(subtree):
                    raise RosterRecordRefused(
                        f"signed by {record.issuer_unit}, outside the sender's subtree"
                    )
            except RosterRecordRefused as refused:
                checked.rejections.append(f"{claimed(item)}: {refused}")
                log.warning("roster record %s from %s refused: %s", claimed(item), sender, refused)
                continue
            checked.opened.append((item, record))
        return checked

    def _take(self, conn: Connection, checked: _Checked, sender: str) -> RosterReceipt:
        """Keep the records that passed, in the caller's write transaction; one taken since
        the check (another round, another process) or twice in the page is a duplicate."""
        receipt = RosterReceipt(duplicates=checked.duplicates, rejections=checked.rejections)
        for item, record in checked.opened:
            if _EXCHANGE.held(conn, [record.digest]):
                receipt.duplicates += 1
                continue
            self._keep(conn, item, record, received_from=sender)
            receipt.accepted += 1
        return receipt

    def _keep(
        self,
        conn: Connection,
        signed: pb.SignedRosterRecord,
        record: RosterRecord,
        *,
        received_from: str,
    ) -> None:
        _EXCHANGE.before_insert(conn)
        conn.execute(
            insert(odr_roster_records).values(
                credit_code=record.credit_code,
                version=record.version,
                unit_code=record.unit_code,
                issuer_unit=record.issuer_unit,
                issuer_node=record.issuer_node,
                digest=record.digest,
                signed=signed.SerializeToString(deterministic=True),
                received_ms=self._wall_ms(),
                received_from=received_from,
            )
        )

    # -- pages for replication ---------------------------------------------------------------

    def for_child(self, after: int) -> pb.RosterExchange:
        """Every record stored after ``after``, a page at a time: the whole roster reaches
        every node that may route a dispute (a blocking read)."""
        table = odr_roster_records.c
        with self._db.read() as conn:
            end = conn.execute(select(func.coalesce(func.max(table.pos), 0))).scalar_one()
            rows = conn.execute(
                select(table.pos, table.signed)
                .where(table.pos > after)
                .order_by(table.pos)
                .limit(PAGE_RECORDS)
            ).all()
        more = len(rows) == PAGE_RECORDS
        cursor = int(rows[-1].pos) if more else int(end)
        page = pb.RosterExchange(cursor=max(cursor, after), more=more)
        for row in rows:
            page.records.add().ParseFromString(row.signed)
        return page

    def for_parent(self, parent_node: str) -> tuple[list[pb.SignedRosterRecord], int, bool]:
        """The next page of records signed in this subtree that the parent has not taken: the
        records, the position to note once it has (0: nothing new), whether more wait."""
        with self._db.read() as conn:
            signed, upto, more = _EXCHANGE.unsent(conn, parent_node, self._prefix)
        return [pb.SignedRosterRecord.FromString(raw) for raw in signed], upto, more

    def parent_took(self, parent_node: str, upto: int) -> None:
        """Note that the parent holds this node's records up to ``upto`` (blocking)."""
        with self._db.write() as conn:
            _EXCHANGE.set_position(conn, f"up:{parent_node}", upto)

    def down_cursor(self, parent_node: str) -> int:
        """The parent's position held here (blocking)."""
        with self._db.read() as conn:
            return _EXCHANGE.position(conn, f"down:{parent_node}")


def _stored(raw: bytes) -> RosterRecord:
    signed = pb.SignedRosterRecord()
    signed.ParseFromString(raw)
    return read_stored(signed)
