"""Every table of the node runtime, on its own ``MetaData``; the log's are in ``sync.schema``.

Views (``tickets``, ``obligations``, ``ticket_signals``) are kept by the projection in the
writer's transaction and can be rebuilt from the log at any time (DESIGN.md rule 1); the
registration look-ups (``ticket_requests``, ``ticket_fingerprints``) are written with the
registration; the roster (``officers``, ``units``) and the province's ``rule_books`` are
reference data. Sign-in keeps ``officer_credentials``, ``sessions`` and the append-only,
hash-chained ``access_record`` (with its ``access_record_head``). Nothing here registers
itself anywhere: Alembic's environment (``node/storage/migrations/env.py``) is handed
``ALL_METADATA``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from sync import schema as log_schema

metadata = MetaData(naming_convention=log_schema.NAMING_CONVENTION)
"""The node runtime's tables."""


# -- tickets and the registration look-ups --------------------------------------------------------

tickets = Table(
    "tickets",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("holder_unit", String(12), nullable=False),
    Column("assigned_station", String(12), nullable=False),
    Column("registering_unit", String(12), nullable=False),
    Column("respondent_name", String(200), nullable=False),
    Column("category", String(100), nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("dispatch_count", Integer, nullable=False),
    Column("in_conflict", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_hlc", BigInteger, nullable=False),
    Column("state", LargeBinary, nullable=False),
    # The enterprise of an ODR dispute (在线消费纠纷), '' for every other ticket: what the ODR
    # desk lists an enterprise's disputes by (node.desks.odr).
    Column("odr_credit_code", String(18), nullable=False, server_default=""),
    Index("ix_tickets_holder_unit", "holder_unit"),
    Index("ix_tickets_status", "status"),
    Index("ix_tickets_received_ms_ticket_id", "received_ms", "ticket_id"),
    Index("ix_tickets_odr_credit_code", "odr_credit_code"),
)


ticket_requests = Table(
    "ticket_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("ticket_id", String(64), nullable=False),
)


ticket_fingerprints = Table(
    "ticket_fingerprints",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("ticket_id", String(64), nullable=False),
)


# -- the roster -----------------------------------------------------------------------------------

officers = Table(
    "officers",
    metadata,
    Column("officer_id", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("unit_code", String(12), nullable=False),
    Column("roles", String(200), nullable=False),
)


units = Table(
    "units",
    metadata,
    Column("code", String(12), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("level", String(16), nullable=False),
    Column("parent_code", String(12), nullable=False),
)


officer_accounts = Table(
    "officer_accounts",
    metadata,
    # Signed officer account records (core.officer_accounts), every version held, in the order
    # this node stored them (``pos``: what a child's cursor counts).
    Column("pos", Integer, primary_key=True, autoincrement=True),
    Column("officer_id", String(32), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("unit_code", String(12), nullable=False),
    Column("status", String(8), nullable=False),
    Column("issuer_unit", String(12), nullable=False),
    Column("issuer_node", String(64), nullable=False),
    Column("digest", LargeBinary, nullable=False, unique=True),
    Column("signed", LargeBinary, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    # The node it came from ('' when signed here).
    Column("received_from", String(64), nullable=False),
    Index("ix_officer_accounts_officer_id", "officer_id"),
    Index("ix_officer_accounts_unit_code", "unit_code"),
)


account_cursors = Table(
    "account_cursors",
    metadata,
    # How far officer account records were exchanged with the parent: ``down:<node>`` (the
    # parent's ``pos`` held here), ``up:<node>`` (this node's ``pos`` the parent took).
    Column("peer", String(80), primary_key=True),
    Column("position", BigInteger, nullable=False),
)


# -- sign-in: credentials, sessions and the access record (docs/security.md) ---------------------


def _credential_columns() -> list[Column[Any]]:
    """The credentials and lockout guard every account that signs in keeps, officers and
    enterprise users alike (``node.access.store`` reads both tables the same way)."""
    return [
        # Argon2id, in the PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
        Column("password_hash", String(200), nullable=False),
        # The TOTP secret, base32 (the node must compute codes with it, so it cannot be hashed).
        Column("totp_secret", String(64), nullable=False),
        Column("failures", Integer, nullable=False),
        Column("locked_until_ms", BigInteger, nullable=False),
        Column("last_code_step", BigInteger, nullable=False),
        Column("set_ms", BigInteger, nullable=False),
        Column("set_by", String(64), nullable=False),
    ]


officer_credentials = Table(
    "officer_credentials",
    metadata,
    Column("officer_id", String(32), primary_key=True),
    *_credential_columns(),
)


sessions = Table(
    "sessions",
    metadata,
    Column("session_id", String(32), primary_key=True),
    Column("officer_id", String(32), nullable=False),
    Column("node_id", String(64), nullable=False),
    Column("issued_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    Column("ended_ms", BigInteger, nullable=False),
    Column("end_reason", String(32), nullable=False),
    Column("peer", String(200), nullable=False),
    # Whom the session stands for (core.access.principals): an officer (scope ''), an
    # enterprise user (scope: the credit code), a consumer (officer_id 'consumer', scope: the
    # ticket).
    Column("kind", String(16), nullable=False, server_default="officer"),
    Column("scope", String(64), nullable=False, server_default=""),
    Index("ix_sessions_officer_id", "officer_id"),
)


# -- people outside the bureau: enterprise users and consumers' codes (docs/security.md) ----------

enterprises = Table(
    "enterprises",
    metadata,
    # The unified social credit code (统一社会信用代码, GB 32100-2015), checked.
    Column("credit_code", String(18), primary_key=True),
    Column("name", String(200), nullable=False),
    # The county that enrolled it: its users sign in to that county's node.
    Column("unit_code", String(12), nullable=False),
    Column("enrolled_ms", BigInteger, nullable=False),
    Column("enrolled_by", String(32), nullable=False),
)


enterprise_users = Table(
    "enterprise_users",
    metadata,
    Column("credit_code", String(18), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("name", String(50), nullable=False),
    # The same credentials and guard as officer_credentials (node.access.store).
    *_credential_columns(),
)


consumer_codes = Table(
    "consumer_codes",
    metadata,
    # Kept only on the node that registered the ticket; never replicated.
    Column("ticket_id", String(64), primary_key=True),
    # HMAC-SHA-256 of the code under the node's consumer-code key, hex (node.access.codes).
    Column("code_hash", String(64), nullable=False),
    # Which key made it (a short digest of the key), so a replaced key is noticed.
    Column("key_id", String(16), nullable=False),
    Column("issued_ms", BigInteger, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("locked_until_ms", BigInteger, nullable=False),
)


access_record = Table(
    "access_record",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("officer_id", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("outcome", String(8), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("peer", String(200), nullable=False),
    Column("session_id", String(32), nullable=False),
    Column("detail", String(300), nullable=False),
    Column("previous", LargeBinary, nullable=False),
    Column("digest", LargeBinary, nullable=False),
    # The node's event key id and its Ed25519 signature of the digest (core.access.record).
    Column("key_id", String(64), nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Index("ix_access_record_at_ms", "at_ms"),
    Index("ix_access_record_officer_id", "officer_id"),
)


access_record_head = Table(
    "access_record_head",
    metadata,
    # One row ("head"): the last seq and digest. Appending locks it (SELECT ... FOR UPDATE), so
    # several processes of one hub on one PostgreSQL database append one chain.
    Column("name", String(8), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("digest", LargeBinary, nullable=False),
)


# -- deadlines, signals and the rule book ---------------------------------------------------------

obligations = Table(
    "obligations",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("duty", String(32), primary_key=True),
    Column("unit_code", String(12), primary_key=True),
    Column("started_ms", BigInteger, nullable=False),
    Column("due_ms", BigInteger, nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("next_at_ms", BigInteger, nullable=False),
    # The next escalation instant not yet recorded: what the nodes above watch for a dark
    # unit below (supervision from above, core.deadlines.sweep).
    Column("escalate_at_ms", BigInteger, nullable=False, server_default=str(2**62)),
    Column("escalation_level", Integer, nullable=False, server_default="0"),
    Column("escalated_to", String(12), nullable=False, server_default=""),
    # The years the due date was counted over by weekends only, "2027" or "2027 2028": the
    # date is provisional (暂定) until they are loaded; "" when it is final.
    Column("provisional", String(64), nullable=False, server_default=""),
    Index("ix_obligations_next_at_ms", "next_at_ms"),
    Index("ix_obligations_escalate_at_ms", "escalate_at_ms"),
    Index("ix_obligations_escalated_to", "escalated_to"),
    Index("ix_obligations_unit_code_due_ms", "unit_code", "due_ms"),
)


ticket_signals = Table(
    "ticket_signals",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("holder_unit", String(12), nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("respondent_key", String(300), nullable=False),
    Column("name_key", String(300), nullable=False),
    Column("respondent_name", String(200), nullable=False),
    Column("phone_key", String(32), nullable=False),
    Column("id_key", String(32), nullable=False),
    Column("incident_id", String(64), nullable=False),
    Column("incident_key", String(300), nullable=False),
    Column("incident_to", String(12), nullable=False),
    Column("emergency_to", String(12), nullable=False),
    Column("emergency_reasons", String(500), nullable=False),
    Column("claimant", Boolean, nullable=False),
    # Storing order: the row's last write, numbered one above every earlier write
    # (node.views.signals.next_change), so that detection can look at what changed since its
    # last round whatever the ticket's receipt time (a county's late backlog).
    Column("change_seq", BigInteger, nullable=False, server_default="0"),
    Index("ix_ticket_signals_received_ms", "received_ms"),
    Index("ix_ticket_signals_change_seq", "change_seq"),
    Index("ix_ticket_signals_phone_key", "phone_key"),
    Index("ix_ticket_signals_id_key", "id_key"),
    Index("ix_ticket_signals_respondent_key", "respondent_key"),
    Index("ix_ticket_signals_name_key", "name_key"),
    Index("ix_ticket_signals_incident_to", "incident_to"),
    Index("ix_ticket_signals_emergency_to", "emergency_to"),
)


rule_books = Table(
    "rule_books",
    metadata,
    Column("issuer_unit", String(12), primary_key=True),
    Column("number", BigInteger, nullable=False),
    Column("signed", LargeBinary, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
)


shared_changes = Table(
    "shared_changes",
    metadata,
    # One generation per kind of state the processes of a hub hold in memory ("roster",
    # "rules", "trust"), bumped by triggers on PostgreSQL (migration 0018,
    # node.storage.shared_changes).
    Column("name", String(16), primary_key=True),
    Column("generation", BigInteger, nullable=False),
)


ALL_METADATA = (log_schema.metadata, metadata)
"""Every table of a node's database: what Alembic compares and migrates."""


# -- the ODR green channel: applications and the signed roster (node.enrolment) ------------------

odr_applications = Table(
    "odr_applications",
    metadata,
    # Applications registered at this county's node (core.odr.enrolment); never replicated.
    Column("application_id", String(40), primary_key=True),
    Column("request_id", String(64), nullable=False, unique=True),
    Column("credit_code", String(18), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("unit_code", String(12), nullable=False),
    Column("status", String(12), nullable=False),
    Column("reason", Text, nullable=False),
    # The rest of the application as JSON: licence, letter digest, address, contacts, staff.
    Column("details", Text, nullable=False),
    Column("submitted_ms", BigInteger, nullable=False),
    Column("submitted_by", String(32), nullable=False),
    Column("reviewed_ms", BigInteger, nullable=False),
    Column("reviewed_by", String(32), nullable=False),
    Index("ix_odr_applications_credit_code", "credit_code"),
)


odr_roster_records = Table(
    "odr_roster_records",
    metadata,
    # Signed roster records (core.odr.roster_record), every version held, in the order this
    # node stored them (``pos``: what a child's cursor counts).
    Column("pos", Integer, primary_key=True, autoincrement=True),
    Column("credit_code", String(18), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("unit_code", String(12), nullable=False),
    Column("issuer_unit", String(12), nullable=False),
    Column("issuer_node", String(64), nullable=False),
    Column("digest", LargeBinary, nullable=False, unique=True),
    Column("signed", LargeBinary, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    # The node it came from ('' when signed here).
    Column("received_from", String(64), nullable=False),
    Index("ix_odr_roster_records_credit_code", "credit_code"),
)


odr_roster_cursors = Table(
    "odr_roster_cursors",
    metadata,
    # How far roster records were exchanged with the parent: ``down:<node>`` (the parent's
    # ``pos`` held here) and ``up:<node>`` (this node's ``pos`` the parent holds).
    Column("peer", String(80), primary_key=True),
    Column("position", BigInteger, nullable=False),
)
