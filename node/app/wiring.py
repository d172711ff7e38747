"""Assembling a node: the one place where settings and a level profile become a ``Node``.

``build_node`` makes every part (identity, database, roster, trust, rule book, views, log
writer, desks, parent link) from ``NodeSettings`` and the level's ``LevelProfile``; tests pass
fakes for the clock or identity. The profile adds what the level does: its services, its jobs,
its registration hooks and its start-up steps (``node.app.levels`` has the table of them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial

from sqlalchemy import Connection

from core.deadlines.china_time import china_date
from core.units import UnitLevel
from node.access import record as access_record
from node.access.codes import CodeKey, load_or_create_key
from node.access.desk import SignInDesk
from node.access.passwords import MEMORY_KIB
from node.app.blocking import BlockingPool
from node.app.clock import Clock
from node.app.profile import LevelProfile
from node.app.roster_watch import RosterWatch
from node.app.runtime import Node
from node.app.settings import InvalidSetting, NodeSettings
from node.desks.casework import CaseworkDesk
from node.desks.intake import IntakeDesk
from node.desks.odr import OdrDesk
from node.desks.officer_accounts import OfficerAccounts
from node.desks.personal_data import PersonalDataDesk
from node.desks.province_rules import ProvinceRules
from node.desks.records import TicketRecords
from node.desks.replication import ReplicationDesk
from node.desks.roster import Roster
from node.desks.supervision import SupervisionQueue
from node.enrolment.desk import EnrolmentDesk
from node.enrolment.roster import RosterBook, read_roster
from node.enrolment.supervision import StandingsDesk
from node.jobs.scheduler import JobScheduler, ScheduledJob
from node.keys.ring import KeyRing
from node.keys.wrapping import RingWrapping
from node.personal.in_force import LookupKeyInForce
from node.personal.lookup_keys import KEYS_FOLDER, LookupKeyStore
from node.storage.database import Database
from node.storage.shared_changes import ROSTER, RULES, TRUST, SharedChanges
from node.views.obligations import default_rules
from node.views.tickets import TicketProjection
from sync.client import ParentLink
from sync.envelope import GENESIS_HASH
from sync.identity import Credentials, NodeIdentity, NotEnrolled
from sync.log_store import EventLog, Head
from sync.odr_roster_exchange import RosterToParent
from sync.personal.shelf import SealShelf
from sync.personal.suites import CipherSuite
from sync.trust import TrustStore
from sync.verification import SignatureVerifier
from sync.writer import LogWriter

log = logging.getLogger(__name__)


def _prepare_log(db: Database, identity: NodeIdentity, credentials: Credentials) -> TrustStore:
    """Record the node's own chain head and certificates; load what the node trusts."""
    trust = TrustStore(credentials.root)
    for authority in credentials.chain:
        if authority.subject != credentials.root.subject:
            trust.add_authority(authority)
    trust.add_node(credentials.certificate.certificate)
    with db.write() as conn:
        log_ = EventLog(conn)
        if log_.head(identity.node_id) is None:
            log_.set_head(Head(identity.node_id, identity.unit_code, 0, GENESIS_HASH))
        for authority in trust.authorities():
            log_.keep_certificate(authority, None)
        log_.keep_certificate(credentials.certificate.certificate, credentials.certificate)
        for problem in log_.load_trust(trust):
            log.warning("a kept certificate no longer verifies: %s", problem)
    return trust


def _reload_trust(trust: TrustStore, conn: Connection) -> None:
    """Teach ``trust`` the certificates and revocation lists the database holds now."""
    for problem in EventLog(conn).load_trust(trust):
        log.warning("a kept certificate no longer verifies: %s", problem)


def build_node(
    settings: NodeSettings,
    profile: LevelProfile,
    *,
    clock: Clock | None = None,
    identity: NodeIdentity | None = None,
    real_ms: Callable[[], int] | None = None,
) -> Node:
    """Wire a node of ``profile``'s level from its settings; ``clock``, ``identity`` and
    ``real_ms`` (real wall time, which sign-in and sessions go by, never a drill clock) may be
    fakes in tests."""
    if profile.level is not settings.level:
        raise InvalidSetting(
            "level", f"a {profile.level.value} profile for a {settings.level.value}"
        )
    clock = clock or Clock.from_settings(settings)
    identity = identity or NodeIdentity.load_or_create(
        settings.data_dir, settings.unit, settings.level
    )
    if identity.credentials is None:
        raise NotEnrolled(
            f"node {identity.node_id} ({settings.unit}) has no certificate yet: enrol it with "
            f"`hotline pki request --data-dir {settings.data_dir} ...` and `hotline pki install`"
        )
    # Events signed where the certificate does not hold would never count anywhere else.
    identity.credentials.check_usable(clock.wall_ms(), drill_clock=settings.drill_clock)
    db = Database.open(settings.database_url)
    blocking = BlockingPool(wait_limit=settings.wait_limit)
    roster = Roster(db, settings.unit, blocking)
    for step in profile.startup:
        step(settings, roster)
    if settings.unit not in roster.units:
        raise InvalidSetting(
            "unit", f"unknown unit {settings.unit}: not in the GB/T 2260 table nor registered"
        )
    trust = _prepare_log(db, identity, identity.credentials)
    verifier = SignatureVerifier(blocking.executor, wait_limit=settings.wait_limit)
    deadlines = default_rules()
    rules = ProvinceRules(roster.own_unit(), deadlines)
    with db.read() as conn:
        rules.load(conn)
    unknown = rules.unknown_years(china_date(clock.wall_ms()))
    if unknown and settings.level is not UnitLevel.NATIONAL:
        log.warning(
            "THE HOLIDAY CALENDAR DOES NOT KNOW %s: deadlines there count weekends only until "
            "the province loads that year's holidays (`hotline rules holidays`)",
            ", ".join(map(str, unknown)),
        )
    projection = TicketProjection(roster.own_unit(), deadlines)
    writer = LogWriter(
        db.writer_engine,
        identity,
        clock.wall_ms,
        projection,
        max_batch=settings.writer_batch,
        trust=trust,
        wait_limit=settings.wait_limit,
    )
    if db.backend == "postgresql":
        # Other processes of this hub may share the database (docs/scaling.md).
        writer.on_open = SharedChanges(
            {
                ROSTER: lambda _conn: roster.reload(),
                RULES: rules.load,
                TRUST: partial(_reload_trust, trust),
            }
        ).catch_up
    suite = CipherSuite.parse(settings.personal_suite)
    shelf_keys = KeyRing.open_or_create(
        settings.data_dir, suite.value, suite.key_bytes, clock.wall_ms()
    )
    # The province's look-up keys: made at the province, handed down at each Hello.
    lookup_keys = LookupKeyStore.open(settings.data_dir / KEYS_FOLDER)
    lookup_key = LookupKeyInForce(
        lookup_keys,
        rules,
        suite,
        clock.wall_ms(),
        makes_keys=settings.level is UnitLevel.PROVINCE,
    )
    shelf = personal_data_shelf(shelf_keys, rules, suite, lookup_key)
    accounts = OfficerAccounts(
        db, identity, roster, blocking, trust, clock.wall_ms, real_ms or _real_ms
    )
    odr_roster = RosterBook(db, identity, trust, clock.wall_ms)
    link = None
    if settings.parent:
        link = ParentLink(
            settings.parent,
            identity,
            db.read,
            writer,
            clock.wall_ms,
            trust,
            parent_unit=settings.parent_unit,
            verifier=verifier,
            rules=rules,
            accounts=accounts,
            batch_size=settings.sync_batch,
            interval=settings.sync_interval,
            executor=blocking.executor,
            wait_limit=settings.wait_limit,
            access_head=access_record.signed_row,
            shelf=shelf,
            lookup_keys=lookup_keys,
            roster=RosterToParent(odr_roster, blocking.run, writer),
        )
    node = Node(
        settings=settings,
        profile=profile,
        clock=clock,
        identity=identity,
        db=db,
        blocking=blocking,
        roster=roster,
        trust=trust,
        verifier=verifier,
        deadlines=deadlines,
        rules=rules,
        projection=projection,
        writer=writer,
        link=link,
        records=TicketRecords(db, blocking, trust, shelf),
        shelf=shelf,
        casework=CaseworkDesk(writer, roster, clock, deadlines),
        supervision=SupervisionQueue(
            roster.own_unit().code, db.read, deadlines, clock.wall_ms, blocking
        ),
        replication=ReplicationDesk(
            identity=identity,
            unit=roster.own_unit,
            parent=settings.parent,
            backend=db.backend,
            read=db.read,
            writer=writer,
            link=link,
            children=lambda: node.children,
            wall_ms=clock.wall_ms,
            blocking=blocking,
        ),
        lookup_keys=lookup_keys,
    )
    # Consumers' verification codes are hashed under a key of the data folder, never in the
    # database (node.access.codes).
    codes = CodeKey(load_or_create_key(settings.data_dir))
    node.intake = IntakeDesk(
        writer,
        roster,
        clock,
        emergencies=settings.incidents.emergencies,
        hooks=[make(node) for make in profile.intake_hooks],
        deadlines=deadlines,
        codes=codes,
        shelf=shelf,
        odr_roster=read_roster,
    )
    hashing = settings.password_hashing
    if hashing.below_default:
        log.warning(
            "PASSWORDS ARE HASHED WITH %d KiB OF ARGON2ID MEMORY, BELOW THE %d KiB DEFAULT "
            "(password_hash_memory_kib): a copy of this database costs a guesser less; for "
            "tests and demos only",
            hashing.memory_kib,
            MEMORY_KIB,
        )
    node.officer_accounts = accounts
    node.personal_data = PersonalDataDesk(
        writer, roster, shelf, db, identity, blocking, real_ms or _real_ms
    )
    node.access = SignInDesk(
        db,
        identity,
        roster,
        blocking,
        settings.sign_in_policy,
        real_ms or _real_ms,
        consumer_policy=settings.consumer_policy,
        limits=settings.sign_in_limits,
        codes=codes,
        hashing=hashing,
    )
    node.odr = OdrDesk(
        writer,
        db,
        blocking,
        roster,
        clock,
        deadlines,
        shelf,
        real_ms or _real_ms,
        refusals=node.access.refuse_call,
    )
    node.odr_roster = odr_roster
    node.enrolment = EnrolmentDesk(db, roster, odr_roster, node.access, blocking, clock.wall_ms)
    # Supervision counts the disputes this node holds, as the enterprise's own page does.
    node.odr_standings = StandingsDesk(
        db, roster, odr_roster, rules, blocking, clock.wall_ms, reader=node.odr.disputes_opened
    )
    # Last: a job may use any desk above.
    jobs: dict[str, ScheduledJob] = {name: make(node) for name, make in profile.jobs}
    if db.backend == "postgresql":  # other processes of this hub may change the roster
        jobs["roster-watch"] = RosterWatch(db, roster, blocking)
    node.jobs = JobScheduler(jobs)
    return node


def personal_data_shelf(
    ring: KeyRing, rules: ProvinceRules, default: CipherSuite, lookup_key: LookupKeyInForce
) -> SealShelf:
    """The node's seal shelf over its key ring (made on first start, in the ``default`` suite:
    ``node.keys``), sealing new registrations with the suite the province's rule book names
    (``default`` until it names one) and digesting with the look-up key in force."""

    def suite() -> CipherSuite:
        # A book the province never issued (number 0) is the defaults: not a choice.
        named = getattr(rules.book, "personal_suite", "") if rules.book.number else ""
        return CipherSuite.parse(named) if named else default

    return SealShelf(RingWrapping(ring), suite=suite, lookup_key=lookup_key)


def _real_ms() -> int:
    """Real wall time, Unix milliseconds: what sign-in, lockouts and sessions go by."""
    return time.time_ns() // 1_000_000
