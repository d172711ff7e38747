"""The node's first security administrator, made on the node's own machine (no network).

Someone has to set the first password: a node fresh from ``hotline pki install`` has officers
to sign in and nobody who may set their credentials. ``hotline officers init-admin`` does it on
the machine that holds the node's data folder, with the node stopped (it takes the folder's
lock, as ``hotline pki`` does): whoever can do that already holds the node's keys, so no remote
caller gains anything it did not have. It puts the officer on the roster with the one role
``security_admin`` (安全管理员), sets their password, makes their TOTP secret (shown once) and
writes the act into the access record, signed with the node's key.

A station's unit is in no table: it is recorded here as the node records it at its first start
(``unit_name``), so a station can be provisioned before it ever ran.

It refuses when the node already has a security administrator with credentials: they add
others over the network (``hotline officers set-credentials``). ``reset`` renews the
credentials of that same administrator (a lost phone, a forgotten password), again only on the
node's machine.
"""

from __future__ import annotations

from pathlib import Path

from core.access.passwords import check_password
from core.access.record import AccessAction, AccessOutcome
from core.access.sessions import SessionEnd
from core.errors import DomainError, InvalidInput
from core.officers import Role
from core.units import UnitLevel, county_of, level_of
from node.access import passwords, record, store
from node.access.desk import NewCredentials, make_secret
from node.app.blocking import BlockingPool
from node.app.data_folder import hold_data_folder
from node.desks.officer_accounts import standing_in
from node.desks.roster import Roster
from node.storage.database import Database
from sync.identity import IDENTITY_FILE, IdentityError, NodeIdentity


def create_first_admin(
    db: Database,
    identity: NodeIdentity,
    roster: Roster,
    *,
    officer_id: str,
    name: str,
    password: str,
    reset: bool,
    now_ms: int,
    peer: str,
    hashing: passwords.PasswordHashing = passwords.DEFAULT_HASHING,
) -> NewCredentials:
    """Make (or with ``reset`` renew) the node's security administrator; the TOTP secret is
    returned to be shown once."""
    officer_id, name = officer_id.strip(), name.strip()
    unit = roster.own_unit().code if identity.unit_code in roster.units else ""
    if not unit:
        raise InvalidInput(
            "unit",
            f"the node's database does not know its unit {identity.unit_code} yet: start the "
            "node once (hotline serve), stop it, and run this again",
        )
    check_password(password)
    held = standing_in(db, officer_id)
    if held is not None and not (
        held.active and held.unit_code == unit and held.roles == frozenset({Role.SECURITY_ADMIN})
    ):
        raise InvalidInput(
            "id",
            f"{officer_id} has an account record (version {held.version}, {held.status.value} "
            f"{'在用' if held.active else '已注销'}, "
            f"at {held.unit_code}, managed by {held.issuer_unit}) that does not make them this "
            "node's security administrator",
        )
    admins = {o.officer_id for o in roster.officers() if o.has(Role.SECURITY_ADMIN)}
    with db.read() as conn:
        having = store.security_admins_with_credentials(conn, admins)
    if having and not (reset and officer_id in having):
        if officer_id in having:
            raise DomainError(
                f"{officer_id} already has credentials on this node: --reset renews them"
            )
        raise DomainError(
            f"this node already has a security administrator ({', '.join(having)}): they set "
            "other officers' credentials with `hotline officers set-credentials`"
        )
    known = {o.officer_id: o for o in roster.officers()}
    if officer_id in known and known[officer_id].roles != frozenset({Role.SECURITY_ADMIN}):
        roles = ", ".join(sorted(r.value for r in known[officer_id].roles))
        raise InvalidInput(
            "id",
            f"{officer_id} is on the roster as {roles}: a security administrator has a roster "
            "id of their own and no other role (三权分立)",
        )
    roster.save_officer(officer_id, name, unit, frozenset({Role.SECURITY_ADMIN}))
    hashed = hashing.hash_password(password)
    secret, shown = make_secret(officer_id, unit)
    with db.write() as conn:
        store.save_credentials(conn, officer_id, hashed, secret, at_ms=now_ms, set_by="local")
        ended = store.end_sessions_of(conn, officer_id, now_ms, SessionEnd.CREDENTIALS_CHANGED)
        record.append(
            conn,
            identity,
            at_ms=now_ms,
            officer_id=officer_id,
            action=AccessAction.INIT_ADMIN,
            outcome=AccessOutcome.DONE,
            peer=peer,
            detail=("credentials renewed" if reset else "first security administrator")
            + (f"; {ended} open session(s) ended" if ended else ""),
        )
    return shown


def init_admin_in_folder(
    folder: Path,
    unit: str,
    *,
    db_url: str = "",
    officer_id: str,
    name: str,
    password: str,
    reset: bool,
    now_ms: int,
    peer: str,
    unit_name: str = "",
    hashing: passwords.PasswordHashing = passwords.DEFAULT_HASHING,
) -> tuple[NewCredentials, str]:
    """``create_first_admin`` on the node whose data folder is ``folder`` (stopped: the folder's
    lock is taken, as ``hotline pki`` does); the new credentials and the node's id.

    What ``hotline officers init-admin`` runs, and the devnet before it starts a node.
    """
    if not (folder / IDENTITY_FILE).exists():
        raise IdentityError(f"no node in {folder}: enrol it first (hotline pki request ...)")
    with hold_data_folder(folder, create=False):
        identity = NodeIdentity.load_or_create(folder, unit, level_of(unit))
        db = Database.open(db_url or f"sqlite:///{(folder / 'node.db').resolve()}")
        blocking = BlockingPool(1)
        try:
            roster = Roster(db, unit, blocking)
            if level_of(unit) is UnitLevel.STATION and unit not in roster.units:
                # As the station's node does at its first start (station_agent.profile).
                name_of_unit = unit_name or f"{unit} 市场监管所"
                roster.save_unit(unit, name_of_unit, UnitLevel.STATION, county_of(unit))
            shown = create_first_admin(
                db,
                identity,
                roster,
                officer_id=officer_id,
                name=name,
                password=password,
                reset=reset,
                now_ms=now_ms,
                peer=peer,
                hashing=hashing,
            )
        finally:
            blocking.close()
            db.close()
    return shown, identity.node_id
