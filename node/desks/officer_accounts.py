"""Officer accounts at a node: made here, taken from the parent and the children, applied.

A node keeps every officer account record it holds (``officer_accounts``, every version) and
derives its roster from them: for each officer the standing record (``core.officer_accounts.
standing``) decides. An active record of this node's unit puts the officer on the roster (name,
unit, roles); a revoked one, or one that places them at another unit, takes them off it, ends
their open sessions, forgets their credentials and says so in the access record, in the same
transaction that stores the record. Officers put on the roster locally (RegisterOfficer)
without any record stay as they are until a record names them (docs/security.md, "Officer
accounts from above").

Replication (``sync.client`` and ``sync.children``) asks this desk for pages: up, the records
signed in this node's subtree that the parent has not taken; down, every record of every
officer who has (had) a record inside the child's jurisdiction, after the child's cursor. All of
it blocks (signatures, the database): the async methods run on the node's blocking pool.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, func, insert, select

from core.access.record import AccessAction, AccessOutcome
from core.access.sessions import SessionEnd
from core.errors import InvalidInput, NotFound, NotPermitted
from core.limits import check_text
from core.officer_accounts import (
    AccountStatus,
    OfficerAccount,
    next_version,
    standing,
    why_issuer_may_not,
    why_node_may_not_issue,
)
from core.officers import Role
from core.units import jurisdiction_prefix
from node.access import record, store
from node.app.blocking import BlockingPool
from node.desks.roster import Roster
from node.storage.database import Database
from node.storage.record_exchange import RecordExchange
from node.storage.tables import account_cursors, officer_accounts, officer_credentials, officers
from proto.hotline.v1 import accounts_pb2
from sync.identity import NodeIdentity
from sync.officer_account_signing import (
    AccountRefused,
    check_officer_id,
    check_unit_code,
    open_account,
    read_stored,
    sign_account,
)
from sync.trust import TrustStore

log = logging.getLogger(__name__)

PAGE_OFFICERS = 100
"""Officers per downward page (with every record of each), records per upward page."""
_EXCHANGE = RecordExchange(officer_accounts, account_cursors, PAGE_OFFICERS)


@dataclass
class Receipt:
    """What became of a page of records received."""

    accepted: int = 0
    duplicates: int = 0
    rejections: list[tuple[str, int, str]] = field(default_factory=list)
    """(officer id, version, reason) of each record refused."""

    def message(self) -> accounts_pb2.AccountReceipt:
        """The receipt as sent back to a child."""
        return accounts_pb2.AccountReceipt(
            accepted=self.accepted,
            duplicates=self.duplicates,
            rejections=[
                accounts_pb2.AccountRejection(officer_id=o, version=v, reason=r)
                for o, v, r in self.rejections
            ],
        )


@dataclass(frozen=True)
class HeldAccount:
    """An officer's standing record as this node holds it, and where it came from."""

    account: OfficerAccount
    source: str
    """``here`` (signed by this node), ``above`` or ``below``."""
    on_roster: bool


class OfficerAccounts:
    """The officer account records of one node, and the roster they decide."""

    def __init__(
        self,
        db: Database,
        identity: NodeIdentity,
        roster: Roster,
        blocking: BlockingPool,
        trust: TrustStore,
        wall_ms: Callable[[], int],
        real_ms: Callable[[], int],
    ) -> None:
        self._db = db
        self._identity = identity
        self._roster = roster
        self._blocking = blocking
        self._trust = trust
        self._wall_ms = wall_ms
        """The node's clock: what a record's ``issued_ms`` says."""
        self._real_ms = real_ms
        """Real time: what the access record says (as sign-in's rows do)."""
        self._own = identity.unit_code
        self._prefix = jurisdiction_prefix(identity.unit_code, identity.level)

    # -- reading -----------------------------------------------------------------------------

    def records_of(self, conn: Connection, officer_id: str) -> list[OfficerAccount]:
        """Every record of an officer held here."""
        return records_in(conn, officer_id)

    def standing_of(self, officer_id: str) -> OfficerAccount | None:
        """The officer's standing record, or None when none is held (a blocking read)."""
        return standing_in(self._db, officer_id)

    def check_local_registration(self, officer_id: str) -> None:
        """Refuse RegisterOfficer for an officer who has an account record: from then on their
        account changes only by records (``hotline officers push|revoke``), at a node allowed
        to make them, so the two sources never fight."""
        held = self.standing_of(officer_id.strip())
        if held is not None:
            raise NotPermitted(
                f"officer {held.officer_id} has an account record (version {held.version}, "
                f"{held.status.value}, managed by {held.issuer_unit}): change it with "
                "`hotline officers push` or `revoke` on a node of that unit or above"
            )

    def accounts(self, prefix: str) -> list[HeldAccount]:
        """The standing record of every officer with a record whose unit starts with
        ``prefix``, by officer id (a blocking read)."""
        with self._db.read() as conn:
            ids = conn.execute(
                select(officer_accounts.c.officer_id)
                .where(officer_accounts.c.unit_code.startswith(prefix, autoescape=True))
                .distinct()
            ).scalars()
            held = []
            for officer_id in sorted(ids):
                top = standing(self.records_of(conn, officer_id))
                if top is None or not top.unit_code.startswith(prefix):
                    continue
                held.append(HeldAccount(top, self._source(top), self._on_roster(top)))
        return held

    def _source(self, account: OfficerAccount) -> str:
        if account.issuer_node == self._identity.node_id:
            return "here"
        return "below" if account.issuer_unit.startswith(self._prefix) else "above"

    def _on_roster(self, account: OfficerAccount) -> bool:
        return account.active and account.unit_code == self._own

    # -- issuing -----------------------------------------------------------------------------

    async def push(
        self,
        actor: str,
        officer_id: str,
        name: str,
        unit_code: str,
        roles: frozenset[Role],
        note: str,
        peer: str,
    ) -> HeldAccount:
        """Make or change an officer's account (on the blocking pool)."""
        officer_id = check_officer_id(officer_id)
        name = check_text(name, "name", kind="officer.name")
        unit_code = check_unit_code(unit_code, "unit_code")
        if not roles:
            raise InvalidInput("roles", "give at least one role")
        note = check_text(note, "note", required=False)
        return await self._blocking.run(
            self.issue_now,
            actor,
            peer,
            officer_id,
            lambda held: (name, unit_code, roles, AccountStatus.ACTIVE, note),
        )

    async def revoke(
        self, actor: str, officer_id: str, reason: str, unit_code: str, peer: str
    ) -> HeldAccount:
        """Revoke an officer's account (on the blocking pool)."""
        officer_id = check_officer_id(officer_id)
        reason = check_text(reason, "reason")
        if unit_code:
            unit_code = check_unit_code(unit_code, "unit_code")

        def revoked(
            held: OfficerAccount | None,
        ) -> tuple[str, str, frozenset[Role], AccountStatus, str]:
            if held is not None:
                return held.name, held.unit_code, held.roles, AccountStatus.REVOKED, reason
            local = self._roster.find(officer_id)
            if local is not None:
                return local.name, local.unit_code, local.roles, AccountStatus.REVOKED, reason
            if not unit_code:
                raise NotFound(
                    f"no account record of officer {officer_id} is held here: give their unit "
                    "(--unit) to revoke it"
                )
            return "", unit_code, frozenset(), AccountStatus.REVOKED, reason

        return await self._blocking.run(self.issue_now, actor, peer, officer_id, revoked)

    def issue_now(
        self,
        actor: str,
        peer: str,
        officer_id: str,
        make: Callable[
            [OfficerAccount | None], tuple[str, str, frozenset[Role], AccountStatus, str]
        ],
    ) -> HeldAccount:
        """Sign the officer's next record here, keep it and apply it, in one transaction."""
        credentials = self._identity.credentials
        if credentials is None:
            raise NotPermitted("this node is not enrolled: it cannot sign account records")
        with self._db.write() as conn:
            held = self.records_of(conn, officer_id)
            current = standing(held)
            name, unit_code, roles, status, reason = make(current)
            why = why_node_may_not_issue(self._own, current, unit_code)
            if why is not None:
                raise NotPermitted(why)
            if current is not None and current.unit_code != unit_code:
                why = why_node_may_not_issue(self._own, None, current.unit_code)
                if why is not None:
                    raise NotPermitted(f"moving {officer_id}: {why}")
            draft = OfficerAccount(
                officer_id=officer_id,
                name=name,
                unit_code=unit_code,
                roles=roles,
                status=status,
                version=next_version(held),
                issuer_unit=self._own,
                issuer_node=self._identity.node_id,
                issued_by=actor,
                issued_ms=self._wall_ms(),
                reason=reason,
            )
            why = why_issuer_may_not(draft)
            if why is not None:
                raise InvalidInput("roles", why)
            signed, account = sign_account(draft, self._identity, credentials.certificate)
            self._keep(conn, signed, account, received_from="")
            verb = "revoked" if status is AccountStatus.REVOKED else "pushed"
            self._note(
                conn,
                actor,
                peer,
                f"{verb} {officer_id} v{account.version} at {unit_code}"
                + (f" ({_roles(roles)})" if account.active else f": {reason}"),
            )
            self._apply(conn, {officer_id}, f"local:{self._identity.node_id}")
        self._roster.reload()
        return HeldAccount(account, "here", self._on_roster(account))

    # -- receiving ---------------------------------------------------------------------------

    def take_from_child(
        self, child_node: str, child_prefix: str, signed: list[accounts_pb2.SignedOfficerAccount]
    ) -> Receipt:
        """Records a child pushed up: only those signed inside its subtree (blocking)."""
        receipt, opened = self._check(signed, child_node, child_prefix)
        with self._db.write() as conn:
            self._take(conn, receipt, opened, child_node)
        self._roster.reload()
        return receipt

    def take_from_parent(self, parent_node: str, batch: accounts_pb2.AccountBatch) -> Receipt:
        """A page from the parent, stored with the new cursor in one transaction (blocking)."""
        if not batch.accounts:
            if batch.cursor != self.down_cursor(parent_node):
                with self._db.write() as conn:
                    _EXCHANGE.set_position(conn, f"down:{parent_node}", batch.cursor)
            return Receipt()
        receipt, opened = self._check(list(batch.accounts), parent_node, None)
        with self._db.write() as conn:
            self._take(conn, receipt, opened, parent_node)
            _EXCHANGE.set_position(conn, f"down:{parent_node}", batch.cursor)
        self._roster.reload()
        return receipt

    def _check(
        self,
        signed: list[accounts_pb2.SignedOfficerAccount],
        sender: str,
        subtree: str | None,
    ) -> tuple[Receipt, list[tuple[accounts_pb2.SignedOfficerAccount, OfficerAccount]]]:
        """The records of a page that may be kept, opened and checked before any write
        transaction begins: certificates and signatures cost far more than the inserts, and
        the write lock is held only for those (on SQLite, one writer for the whole node,
        which the log writer's registrations wait for)."""
        receipt = Receipt()
        digests = [hashlib.sha256(item.account).digest() for item in signed]
        with self._db.read() as conn:
            held = _EXCHANGE.held(conn, digests)
        opened = []
        for item, digest in zip(signed, digests, strict=True):
            if digest in held:
                receipt.duplicates += 1
                continue
            try:
                account, _ = open_account(item, self._trust)
                if subtree is not None and not account.issuer_unit.startswith(subtree):
                    raise AccountRefused(
                        f"signed by {account.issuer_unit}, outside the sender's subtree"
                    )
            except AccountRefused as refused:
                who, version = _claimed(item)
                receipt.rejections.append((who, version, str(refused)))
                log.warning("officer account of %s from %s refused: %s", who, sender, refused)
                continue
            opened.append((item, account))
        return receipt, opened

    def _take(
        self,
        conn: Connection,
        receipt: Receipt,
        opened: list[tuple[accounts_pb2.SignedOfficerAccount, OfficerAccount]],
        sender: str,
    ) -> None:
        """Keep the records that passed, in the caller's write transaction, counting them on
        ``receipt``; one taken since the check (another round) or twice in the page is a
        duplicate."""
        touched: set[str] = set()
        for item, account in opened:
            if _EXCHANGE.held(conn, [account.digest]):
                receipt.duplicates += 1
                continue
            self._keep(conn, item, account, received_from=sender)
            touched.add(account.officer_id)
            receipt.accepted += 1
        self._apply(conn, touched, f"sync:{sender}")

    def _keep(
        self,
        conn: Connection,
        signed: accounts_pb2.SignedOfficerAccount,
        account: OfficerAccount,
        *,
        received_from: str,
    ) -> None:
        _EXCHANGE.before_insert(conn)
        conn.execute(
            insert(officer_accounts).values(
                officer_id=account.officer_id,
                version=account.version,
                unit_code=account.unit_code,
                status=account.status.value,
                issuer_unit=account.issuer_unit,
                issuer_node=account.issuer_node,
                digest=account.digest,
                signed=signed.SerializeToString(deterministic=True),
                received_ms=self._wall_ms(),
                received_from=received_from,
            )
        )

    # -- the roster follows the standing records ---------------------------------------------

    def _apply(self, conn: Connection, officer_ids: Iterable[str], peer: str) -> None:
        """Bring the roster in line with the standing record of each officer."""
        for officer_id in sorted(officer_ids):
            top = standing(self.records_of(conn, officer_id))
            if top is None:
                continue
            row = conn.execute(select(officers).where(officers.c.officer_id == officer_id)).first()
            if self._on_roster(top):
                roles = ",".join(sorted(r.value for r in top.roles))
                wanted = (top.name, top.unit_code, roles)
                if row is not None and (row.name, row.unit_code, row.roles) == wanted:
                    continue
                conn.execute(delete(officers).where(officers.c.officer_id == officer_id))
                conn.execute(
                    insert(officers).values(
                        officer_id=officer_id, name=top.name, unit_code=top.unit_code, roles=roles
                    )
                )
                self._note(
                    conn,
                    officer_id,
                    peer,
                    f"on the roster by {top.issuer_unit} v{top.version}: {_roles(top.roles)}",
                )
                continue
            if row is None:
                continue
            conn.execute(delete(officers).where(officers.c.officer_id == officer_id))
            conn.execute(
                delete(officer_credentials).where(officer_credentials.c.officer_id == officer_id)
            )
            now = self._real_ms()
            ended = store.end_sessions_of(conn, officer_id, now, SessionEnd.ACCOUNT_ENDED)
            what = (
                f"revoked by {top.issuer_unit} v{top.version} ({top.reason})"
                if not top.active
                else f"moved to {top.unit_code} by {top.issuer_unit} v{top.version}"
            )
            self._note(
                conn,
                officer_id,
                peer,
                f"off the roster: {what}; credentials removed, {ended} open session(s) ended",
            )

    def _note(self, conn: Connection, officer_id: str, peer: str, detail: str) -> None:
        record.append(
            conn,
            self._identity,
            at_ms=self._real_ms(),
            officer_id=officer_id,
            action=AccessAction.OFFICER_ACCOUNT,
            outcome=AccessOutcome.DONE,
            peer=peer,
            detail=detail,
        )

    # -- pages for replication ---------------------------------------------------------------

    def for_child(self, child_prefix: str, after: int) -> accounts_pb2.AccountBatch:
        """Every record of the officers who have a record inside ``child_prefix`` and a record
        stored after ``after``, a page of officers at a time (a blocking read)."""
        table = officer_accounts.c
        with self._db.read() as conn:
            end = conn.execute(select(func.coalesce(func.max(table.pos), 0))).scalar_one()
            inside = select(table.officer_id).where(
                table.unit_code.startswith(child_prefix, autoescape=True)
            )
            last = func.max(table.pos).label("last")
            page = conn.execute(
                select(table.officer_id, last)
                .where(table.pos > after, table.officer_id.in_(inside))
                .group_by(table.officer_id)
                .order_by(last)
                .limit(PAGE_OFFICERS)
            ).all()
            more = len(page) == PAGE_OFFICERS
            cursor = int(page[-1].last) if more else int(end)
            rows = conn.execute(
                select(table.signed)
                .where(table.officer_id.in_([p.officer_id for p in page]))
                .order_by(table.pos)
            ).all()
        batch = accounts_pb2.AccountBatch(cursor=max(cursor, after), more=more)
        for row in rows:
            batch.accounts.add().ParseFromString(row.signed)
        return batch

    def for_parent(
        self, parent_node: str
    ) -> tuple[list[accounts_pb2.SignedOfficerAccount], int, bool]:
        """The next page of records signed in this node's subtree that the parent has not
        taken: the records, the position to note once it has (0: nothing new to note), and
        whether more wait."""
        with self._db.read() as conn:
            signed, upto, more = _EXCHANGE.unsent(conn, parent_node, self._prefix)
        return [accounts_pb2.SignedOfficerAccount.FromString(raw) for raw in signed], upto, more

    def parent_took(self, parent_node: str, upto: int) -> None:
        """Note that the parent holds this node's records up to ``upto`` (blocking)."""
        with self._db.write() as conn:
            _EXCHANGE.set_position(conn, f"up:{parent_node}", upto)

    def down_cursor(self, parent_node: str) -> int:
        """The parent's position held here (blocking)."""
        with self._db.read() as conn:
            return _EXCHANGE.position(conn, f"down:{parent_node}")


def records_in(conn: Connection, officer_id: str) -> list[OfficerAccount]:
    """Every record of an officer a node's database holds."""
    rows = conn.execute(
        select(officer_accounts.c.signed).where(officer_accounts.c.officer_id == officer_id)
    )
    return [_stored(r.signed) for r in rows]


def standing_in(db: Database, officer_id: str) -> OfficerAccount | None:
    """The officer's standing record in a node's database, or None (a blocking read)."""
    with db.read() as conn:
        return standing(records_in(conn, officer_id))


def _stored(signed_bytes: bytes) -> OfficerAccount:
    signed = accounts_pb2.SignedOfficerAccount()
    signed.ParseFromString(signed_bytes)
    return read_stored(signed)


def _claimed(item: accounts_pb2.SignedOfficerAccount) -> tuple[str, int]:
    """The officer id and version a refused record claims (for the reason), if readable."""
    msg = accounts_pb2.OfficerAccount()
    try:
        msg.ParseFromString(item.account)
    except ValueError:
        return "", 0
    return msg.officer_id[:32], msg.version


def _roles(roles: frozenset[Role]) -> str:
    return ", ".join(sorted(r.value for r in roles))
