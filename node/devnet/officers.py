"""Officers of a throwaway network, signed in for real: for the demo, the tests and benchmarks.

Nothing acts on a node without a session token, so a devnet or a test world provisions each node
as an operator would (docs/security.md, "Setting up a node"): the first security administrator
is made on the node's data folder (``init_admin_in_folder``, what ``hotline officers
init-admin`` runs), signs in, puts the node's officers on the roster (a system administrator
among them) and sets their credentials; each officer then signs in with their password and the
code of their TOTP secret, exactly as ``hotline login`` does from files.

A TOTP code is spent once accepted: an officer cannot sign in twice within one 30-second step.
``SignIns`` keeps each officer's token and hands it to every client made for them, signing in
again only when the token may have gone idle.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from core.access import totp
from core.officers import Role
from node.access.desk import NewCredentials
from node.edge.client import NodeClient
from sync.codec import enum_number

DEVNET_PASSWORD = "Gansu-12315-devnet"
"""Every devnet officer's password (the bureau's rules accept it). Throwaway networks only."""

DEVNET_HASH_MEMORY_KIB = 64
"""Argon2id memory (KiB) a throwaway network asks its nodes for: provisioning dozens of officers
takes milliseconds instead of seconds. Never a real node's (they warn when below the default)."""

SECURITY_ADMIN_NAME = "张安"
SYSTEM_ADMIN_NAME = "程运"

REFRESH_MS = 10 * 60_000
"""A kept token older than this (by the node's real time) is replaced by a new sign-in, well
inside the default 30-minute idle timeout."""


def security_admin_id(unit: str) -> str:
    """The roster id a devnet gives a node's security administrator (安全管理员)."""
    return f"{unit}-90"


def system_admin_id(unit: str) -> str:
    """The roster id a devnet gives a node's system administrator (系统管理员)."""
    return f"{unit}-91"


@dataclass(frozen=True)
class DevnetOfficer:
    """An officer to put on a node's roster with credentials."""

    officer_id: str
    name: str
    roles: tuple[Role, ...]
    unit: str = ""
    """Their unit ('' : the node's own)."""


def now_ms() -> int:
    """Real wall time, Unix ms (what a node's sign-in goes by)."""
    return time.time_ns() // 1_000_000


@dataclass
class SignIns:
    """The officers of one node with credentials, and their kept session tokens."""

    unit: str
    root: bytes
    """The national root (PEM) the node's certificate must chain to."""
    target: str = ""
    """The node's client port, ``HOST:PORT`` (known once it serves)."""
    real_ms: Callable[[], int] = now_ms
    """Real time as the node reads it (a test may move it by hand)."""
    secrets: dict[str, str] = field(default_factory=dict)
    """TOTP secret (base32) by officer id."""
    _tokens: dict[str, tuple[str, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    """Held while signing in: two threads asking for one officer's first token at once must
    not both spend the same TOTP code."""

    @property
    def security_admin(self) -> str:
        """The node's security administrator's id."""
        return security_admin_id(self.unit)

    @property
    def system_admin(self) -> str:
        """The node's system administrator's id."""
        return system_admin_id(self.unit)

    def admitted(self, admin: NewCredentials) -> None:
        """Keep the TOTP secret the node's first security administrator was given."""
        self.secrets[admin.officer_id] = admin.totp_secret

    def unsigned(self) -> NodeClient:
        """A client sending no token: only sign-in and health answer it."""
        return NodeClient(self.target, root=self.root, unit=self.unit)

    def token(self, officer_id: str) -> str:
        """A session token of ``officer_id``: the kept one, or a new sign-in."""
        with self._lock:
            return self._token(officer_id)

    def _token(self, officer_id: str) -> str:
        now = self.real_ms()
        kept = self._tokens.get(officer_id)
        if kept is not None and now - kept[1] < REFRESH_MS:
            return kept[0]
        secret = self.secrets.get(officer_id)
        if secret is None:
            raise KeyError(f"officer {officer_id} has no credentials on {self.target} here")
        code = totp.totp(totp.secret_bytes(secret), now)
        with self.unsigned() as client:
            token = client.sign_in(officer_id, DEVNET_PASSWORD, code).token
        self._tokens[officer_id] = (token, now)
        return token

    def forget(self, officer_id: str) -> None:
        """Drop the kept token (a test signed the officer out)."""
        self._tokens.pop(officer_id, None)

    def forget_all(self) -> None:
        """Drop every kept token (the node's keys were rotated: its sessions ended)."""
        self._tokens.clear()

    def client(self, officer_id: str) -> NodeClient:
        """A client acting as ``officer_id``, signed in."""
        return NodeClient(self.target, root=self.root, token=self.token(officer_id), unit=self.unit)

    def add(self, officers: Iterable[DevnetOfficer]) -> None:
        """Put officers on the roster (as the security administrator) and set their
        credentials; their secrets are kept for signing in."""
        with self.client(self.security_admin) as admin:
            for officer in officers:
                admin.add_officer(
                    officer.officer_id,
                    officer.name,
                    officer.unit or self.unit,
                    [enum_number(r) for r in officer.roles],
                )
                self._set_credentials(admin, officer.officer_id)

    def give_credentials(self, officer_ids: Iterable[str]) -> None:
        """Set the credentials of officers already on the roster (as the security
        administrator); their secrets are kept for signing in."""
        with self.client(self.security_admin) as admin:
            for officer_id in officer_ids:
                self._set_credentials(admin, officer_id)

    def _set_credentials(self, admin: NodeClient, officer_id: str) -> None:
        shown = admin.set_credentials(officer_id, DEVNET_PASSWORD)
        self.secrets[officer_id] = shown.totp_secret
        self._tokens.pop(officer_id, None)

    def add_system_admin(self) -> None:
        """The node's system administrator (sync, trust, units), made by the security one and
        signed in at once (so that threads asking for their client later find the token)."""
        self.add([DevnetOfficer(self.system_admin, SYSTEM_ADMIN_NAME, (Role.SYSTEM_ADMIN,))])
        self.token(self.system_admin)
