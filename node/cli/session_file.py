"""Where ``hotline login`` keeps a session token, and the client every other command makes.

The token lets whoever holds it act as the officer until the session ends, so it is kept like
a key: in a file of mode 0600 in a folder of mode 0700, written whole (a temporary file
renamed over the old one), never printed. One file per node, since an officer signs in to
each node they use: ``~/.config/hotline/sessions/HOST_PORT.json`` (``$XDG_CONFIG_HOME`` is
honoured). ``--token-file`` or ``HOTLINE_TOKEN_FILE`` names one file instead, for scripts and
tests. ``node_client`` makes the ``NodeClient`` of every sub-command: it sends the token of
the node's file, over TLS checked against the national root.

The root a command trusts: ``--root FILE``, else ``HOTLINE_ROOT``, else the one ``hotline
login`` kept in the session file (it was given one of the first two then). After a sign-in the
session also says which unit's node answered, and later commands insist on that unit's name in
the node's certificate.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from core.errors import NotPermitted, NotSignedIn
from node.edge.channels import ROOT_VARIABLE, read_root
from node.edge.client import NodeClient
from sync.pki import PkiError

TOKEN_FILE_VARIABLE = "HOTLINE_TOKEN_FILE"
"""Names the session file instead of the per-node default."""


@dataclass(frozen=True)
class SavedSession:
    """What ``hotline login`` keeps: enough to send the token and to say whose it is."""

    node: str
    """The address signed in to (``--node``)."""
    node_id: str
    officer_id: str
    token: str
    expires_ms: int
    root_pem: str = ""
    """The national root (PEM) the node's certificate was checked against at sign-in."""

    @property
    def unit(self) -> str:
        """The unit of the node signed in to (its id is the unit code, a dash, a suffix)."""
        return self.node_id.rpartition("-")[0]


def session_path(node: str, token_file: str | None, env: Mapping[str, str]) -> Path:
    """The session file for ``node``: ``token_file``, else ``HOTLINE_TOKEN_FILE``, else the
    node's file under the user's configuration folder."""
    if token_file:
        return Path(token_file)
    if env.get(TOKEN_FILE_VARIABLE):
        return Path(env[TOKEN_FILE_VARIABLE])
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in node)
    return base / "hotline" / "sessions" / f"{safe}.json"


def save_session(path: Path, session: SavedSession) -> None:
    """Write ``session`` to ``path`` with mode 0600 (its folder 0700 if made here)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask, or a file left over with another mode
        os.write(fd, json.dumps(asdict(session), indent=1).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def load_session(path: Path, *, exposed_too: bool = False) -> SavedSession | None:
    """The session kept at ``path``; None when there is none. A file others may read is
    refused (the token in it may already be known): ``PermissionError``, unless
    ``exposed_too`` (signing out, which is what to do with such a token); one that is no
    session file: ``ValueError``."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    if mode & 0o077 and not exposed_too:
        raise PermissionError(
            f"{path} is readable by others (mode {mode:o}): its token may be known; "
            "sign out (hotline logout) and sign in again"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return SavedSession(**raw)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"{path} is not a session file of hotline login: {exc}") from None


def forget_session(path: Path) -> bool:
    """Remove the session file; False when there was none."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def saved_session(
    args: argparse.Namespace, *, exposed_too: bool = False
) -> tuple[Path, SavedSession | None]:
    """The session file of a command's ``--node`` (and ``--token-file``), and what it holds."""
    path = session_path(args.node, getattr(args, "token_file", None), os.environ)
    return path, load_session(path, exposed_too=exposed_too)


def trusted_root(args: argparse.Namespace, session: SavedSession | None) -> bytes:
    """The national root a command checks the node against: ``--root``, else
    ``HOTLINE_ROOT``, else the session's; ``PkiError`` saying how to give one."""
    path = getattr(args, "root", None) or os.environ.get(ROOT_VARIABLE, "")
    if path:
        return read_root(path)
    if session is not None and session.root_pem:
        return session.root_pem.encode("ascii")
    raise PkiError(
        f"no national root to check {args.node} against: give --root FILE (the hierarchy's "
        f"root.pem; every node's data folder holds a copy) or {ROOT_VARIABLE}"
    )


def node_client(args: argparse.Namespace) -> NodeClient:
    """The client of a sub-command: to ``--node`` over TLS, sending the session token kept
    for it; ``NotSignedIn`` when there is none. ``--officer``, when given, must be the
    session's officer."""
    _, session = saved_session(args)
    if session is None:
        raise NotSignedIn(
            f"not signed in to {args.node}: sign in first (hotline login --node {args.node} "
            "--officer ID)"
        )
    officer = getattr(args, "officer", "") or ""
    if officer and officer != session.officer_id:
        raise NotPermitted(
            f"the session kept for {args.node} is officer {session.officer_id}'s, not "
            f"{officer}'s: sign in as {officer} (hotline login), or name their session file "
            "with --token-file"
        )
    root = trusted_root(args, session)
    return NodeClient(args.node, root=root, token=session.token, unit=session.unit)
