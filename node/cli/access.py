"""Signing in and out, and officers' credentials: ``login``, ``logout``, ``whoami``,
``officers init-admin`` and ``officers set-credentials``.

Secrets never travel as flags (a flag shows in ``ps`` and in the shell's history): a password
is read from a file (``--password-file``, mode 0600), an environment variable, or typed without
echo; a TOTP code is typed without echo, or computed here from the secret in a file or a
variable (scripts, the demo and the tests sign in that way). docs/security.md ("Signing in").
"""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import stat
import sys
import time
from pathlib import Path

from core.access import totp
from core.officers import Role
from node.cli.catalogue import Audience, Catalogue, node_flags, required_flags
from node.cli.display import china_time
from node.cli.officer_accounts import add_account_commands
from node.cli.session_file import (
    SavedSession,
    forget_session,
    load_session,
    node_client,
    save_session,
    saved_session,
    session_path,
    trusted_root,
)
from node.cli.terms import term
from node.edge.client import CallError, NodeClient
from sync.codec import enum_member

PASSWORD_VARIABLE = "HOTLINE_PASSWORD"
"""The signing-in officer's password (``hotline login``), for scripts."""
TOTP_SECRET_VARIABLE = "HOTLINE_TOTP_SECRET"
"""The signing-in officer's TOTP secret (base32), for scripts: the code is computed from it."""
NEW_PASSWORD_VARIABLE = "HOTLINE_NEW_PASSWORD"
"""The password being set (``officers init-admin``, ``officers set-credentials``)."""


def _read_secret_file(path: str) -> str:
    """The first line of a secret file, refused when others may read it."""
    file = Path(path)
    mode = stat.S_IMODE(file.stat().st_mode)
    if mode & 0o077:
        raise PermissionError(f"{file} is readable by others (mode {mode:o}); chmod 600 it")
    lines = file.read_text(encoding="utf-8").splitlines()
    return lines[0] if lines else ""


def _secret(file: str | None, variable: str, prompt: str, *, confirm: bool = False) -> str:
    """A secret from ``file``, else the environment ``variable``, else typed without echo."""
    if file:
        return _read_secret_file(file)
    if os.environ.get(variable):
        return os.environ[variable]
    if not sys.stdin.isatty():
        raise ValueError(f"no terminal to ask for it: give {prompt.lower()} by file or {variable}")
    typed = getpass.getpass(f"{prompt}: ")
    if confirm and getpass.getpass(f"{prompt} again: ") != typed:
        raise ValueError("the two entries differ")
    return typed


def _totp_code(args: argparse.Namespace) -> str:
    """The code of now: computed from the secret (file or variable), else typed."""
    secret = ""
    if args.totp_secret_file:
        secret = _read_secret_file(args.totp_secret_file)
    elif os.environ.get(TOTP_SECRET_VARIABLE):
        secret = os.environ[TOTP_SECRET_VARIABLE]
    if secret:
        return totp.totp(totp.secret_bytes(secret), time.time_ns() // 1_000_000)
    if not sys.stdin.isatty():
        raise ValueError(
            f"no terminal to ask for the code: give --totp-secret-file or {TOTP_SECRET_VARIABLE}"
        )
    return getpass.getpass("TOTP code (6 digits, from the authenticator app): ")


def _roles_text(roles: list[int]) -> str:
    return ", ".join(term(enum_member(Role, r, "roles")) for r in roles)


def _login(args: argparse.Namespace) -> int:
    path = session_path(args.node, args.token_file, os.environ)
    try:
        old = load_session(path)
    except (PermissionError, ValueError):
        old = None  # replaced below: only its root could have been reused
    root = trusted_root(args, old)
    password = _secret(args.password_file, PASSWORD_VARIABLE, "Password")
    code = _totp_code(args)
    # Signing in anew: an old token is not sent. Any node of the hierarchy may answer; the
    # session says which unit's did, and later commands insist on that one.
    with NodeClient(args.node, root=root) as client:
        response = client.sign_in(args.officer, password, code)
    session = response.session
    save_session(
        path,
        SavedSession(
            args.node,
            session.node_id,
            session.officer_id,
            response.token,
            session.expires_ms,
            root.decode("ascii"),
        ),
    )
    print(
        f"signed in to {session.node_id} as {session.officer_id} {session.officer_name} "
        f"({_roles_text(list(session.roles))}) until {china_time(session.expires_ms)}, "
        f"or {session.idle_timeout_ms // 60_000} min without a call; session kept in {path}"
    )
    return 0


def _logout(args: argparse.Namespace) -> int:
    # Even a session file others could read is signed out: ending its session is the remedy.
    path, session = saved_session(args, exposed_too=True)
    if session is None:
        print(f"not signed in to {args.node} (no session in {path})")
        return 0
    try:
        root = trusted_root(args, session)
        with NodeClient(args.node, root=root, token=session.token, unit=session.unit) as client:
            client.sign_out()
        said = f"signed out of {session.node_id} ({session.officer_id})"
    except CallError as exc:
        if exc.code != "UNAUTHENTICATED" and exc.code != "UNAVAILABLE":
            raise
        said = (
            f"the session of {session.officer_id} had already ended ({exc.message})"
            if exc.code == "UNAUTHENTICATED"
            else f"{args.node} did not answer: the session there ends at its idle timeout"
        )
    forget_session(path)
    print(f"{said}; {path} removed")
    return 0


def _whoami(args: argparse.Namespace) -> int:
    _, saved = saved_session(args)
    if saved is None:
        print(f"not signed in to {args.node}")
        return 1
    with node_client(args) as client:
        session = client.who_am_i()
    print(
        f"{session.officer_id} {session.officer_name} of {session.unit_code} "
        f"({_roles_text(list(session.roles))}) on {session.node_id}, signed in at "
        f"{china_time(session.issued_ms)}, until {china_time(session.expires_ms)}"
    )
    return 0


def _show_new_credentials(officer_id: str, secret: str, uri: str, out: str | None) -> None:
    """Print the new TOTP secret once; with ``out``, also write it to that file (0600), for a
    script that signs the officer in (``hotline login --totp-secret-file``)."""
    print(f"TOTP secret of {officer_id} (shown once; enter it in an authenticator app): {secret}")
    print(f"  or as a URI (for a QR code): {uri}")
    if out:
        save_secret(Path(out), secret)
        print(f"  and written to {out} (mode 0600)")


def save_secret(path: Path, secret: str) -> None:
    """Write ``secret`` to ``path``, readable by its owner only (its folder 0700 if made)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (secret + "\n").encode("ascii"))
    finally:
        os.close(fd)


def _init_admin(args: argparse.Namespace) -> int:
    from node.access.provisioning import init_admin_in_folder

    password = _secret(args.password_file, NEW_PASSWORD_VARIABLE, "New password", confirm=True)
    shown, node_id = init_admin_in_folder(
        Path(args.data_dir),
        args.unit,
        db_url=args.db or "",
        officer_id=args.id,
        name=args.name,
        password=password,
        reset=args.reset,
        now_ms=time.time_ns() // 1_000_000,
        peer=f"local:{getpass.getuser()}@{socket.gethostname()}",
        unit_name=args.unit_name or "",
    )
    print(
        f"security administrator (安全管理员) {shown.officer_id} {args.name.strip()} "
        f"{'renewed' if args.reset else 'created'} on node {node_id}"
    )
    _show_new_credentials(shown.officer_id, shown.totp_secret, shown.otpauth_uri, args.secret_out)
    return 0


def _set_credentials(args: argparse.Namespace) -> int:
    password = _secret(args.password_file, NEW_PASSWORD_VARIABLE, "New password", confirm=True)
    with node_client(args) as client:
        shown = client.set_credentials(args.id, password)
    print(f"credentials of {shown.officer_id} set; their open sessions ended")
    _show_new_credentials(shown.officer_id, shown.totp_secret, shown.otpauth_uri, args.secret_out)
    return 0


def _add_enterprise_user(args: argparse.Namespace) -> int:
    password = _secret(args.password_file, NEW_PASSWORD_VARIABLE, "New password", confirm=True)
    with node_client(args) as client:
        added = client.add_enterprise_user(
            args.credit_code,
            args.id,
            args.name,
            password,
            enterprise_name=args.enterprise_name or "",
        )
    enrolled = " (enterprise enrolled on this node)" if added.enrolled else ""
    print(
        f"enterprise user (企业用户) {added.user_id} of {added.credit_code} set{enrolled}; "
        "their open sessions ended"
    )
    _show_new_credentials(
        f"{added.credit_code}:{added.user_id}",
        added.totp_secret,
        added.otpauth_uri,
        getattr(args, "secret_out", None),
    )
    return 0


def _secret_flags(parser: argparse.ArgumentParser, *, new: bool) -> None:
    variable = NEW_PASSWORD_VARIABLE if new else PASSWORD_VARIABLE
    parser.add_argument(
        "--password-file",
        dest="password_file",
        metavar="FILE",
        help=f"read the {'new ' if new else ''}password from the first line of FILE (mode "
        f"0600); else {variable}; else it is asked without echo",
    )
    if new:
        parser.add_argument(
            "--totp-secret-file",
            dest="secret_out",
            metavar="FILE",
            help="also write the new TOTP secret to FILE (mode 0600), for a script that "
            "signs the officer in with `hotline login --totp-secret-file FILE`",
        )


def add_access_commands(catalogue: Catalogue) -> None:
    """Register ``login``, ``logout``, ``whoami`` and ``officers init-admin|set-credentials``."""
    login = catalogue.command(
        Audience.SIGNING_IN,
        "login",
        summary="sign in to a node (password and TOTP code); later commands use the session",
        description="The password and the code are asked without echo; scripts give the "
        f"password by file or {PASSWORD_VARIABLE} and the TOTP secret by file or "
        f"{TOTP_SECRET_VARIABLE} (never as a flag). The session token is kept in a file of "
        "mode 0600, one per node; every other command to that node sends it.",
        examples=["hotline login --node 127.0.0.1:7300 --officer 620102-07"],
        run=_login,
    )
    node_flags(login, officer=None)
    required_flags(login).add_argument(
        "--officer", required=True, metavar="ID", help="your roster id on the node"
    )
    _secret_flags(login, new=False)
    login.add_argument(
        "--totp-secret-file",
        dest="totp_secret_file",
        metavar="FILE",
        help=f"compute the code from the base32 secret in FILE (mode 0600; scripts); else "
        f"{TOTP_SECRET_VARIABLE}; else it is asked",
    )

    logout = catalogue.command(
        Audience.SIGNING_IN,
        "logout",
        summary="sign out of a node: the session ends there and its token file is removed",
        examples=["hotline logout --node 127.0.0.1:7300"],
        run=_logout,
    )
    node_flags(logout, officer=None)

    whoami = catalogue.command(
        Audience.SIGNING_IN,
        "whoami",
        summary="who is signed in to a node from here, and until when",
        examples=["hotline whoami --node 127.0.0.1:7300"],
        run=_whoami,
    )
    node_flags(whoami, officer=None)

    officers = catalogue.family(
        "officers",
        summary="officers' accounts and sign-in credentials (security administrators)",
    )
    init = officers.command(
        Audience.SECURITY,
        "init-admin",
        summary="create the node's first security administrator, on the node's machine",
        description="Needs the node's data folder, not the network: run it where the node "
        "runs, with the node stopped (it takes the folder's lock). Prints the TOTP secret "
        "once. Refused when the node already has a security administrator with credentials, "
        "except --reset for that same officer (a lost phone).",
        examples=[
            "hotline officers init-admin --data-dir var/chengguan --unit 620102 "
            "--id 620102-90 --name 张安"
        ],
        run=_init_admin,
    )
    need = required_flags(init)
    need.add_argument("--data-dir", required=True, metavar="DIR", help="the node's data folder")
    need.add_argument("--unit", required=True, metavar="CODE", help="the node's unit code")
    need.add_argument("--id", required=True, metavar="ID", help="the administrator's roster id")
    need.add_argument("--name", required=True, help="the administrator's full name")
    init.add_argument(
        "--db",
        metavar="URL",
        help="the node's database when not SQLite in the data folder (postgresql://...)",
    )
    init.add_argument(
        "--unit-name",
        dest="unit_name",
        metavar="NAME",
        help="a station's full name, recorded with its unit as its first start would",
    )
    _secret_flags(init, new=True)
    init.add_argument(
        "--reset",
        action="store_true",
        help="renew the credentials of the node's existing security administrator --id",
    )

    setc = officers.command(
        Audience.SECURITY,
        "set-credentials",
        summary="set an officer's password and a new TOTP secret (signed in as security admin)",
        description="Ends the officer's open sessions and lifts a lockout. Prints the new TOTP "
        "secret once, for the officer's authenticator app.",
        examples=["hotline officers set-credentials --node 127.0.0.1:7300 --id 620102-07"],
        run=_set_credentials,
    )
    node_flags(setc, officer=None)
    required_flags(setc).add_argument(
        "--id", required=True, metavar="ID", help="the officer (on the node's roster)"
    )
    _secret_flags(setc, new=True)

    companies = catalogue.family(
        "enterprises",
        summary="enterprise accounts for online dispute resolution (security administrators)",
    )
    add_user = companies.command(
        Audience.SECURITY,
        "add-user",
        summary="add an enterprise user (企业用户), or set their credentials anew",
        description="On the county node that enrolls the enterprise, signed in as its security "
        "administrator. The enterprise (its unified social credit code, 统一社会信用代码) is "
        "enrolled with its first user (--enterprise-name needed then); each user has their own "
        "id, password and TOTP secret, printed once. Setting a user again ends their open "
        "sessions and lifts a lockout.",
        examples=[
            "hotline enterprises add-user --node 127.0.0.1:7300 --credit-code "
            "91620102MA74A1B2C9 --id zhang --name 张经理 --enterprise-name 兰州某健身有限公司"
        ],
        run=_add_enterprise_user,
    )
    node_flags(add_user, officer=None)
    need = required_flags(add_user)
    need.add_argument(
        "--credit-code",
        dest="credit_code",
        required=True,
        metavar="CODE",
        help="the enterprise's unified social credit code (18 characters)",
    )
    need.add_argument("--id", required=True, metavar="ID", help="the user's id in the enterprise")
    need.add_argument("--name", required=True, help="the user's full name")
    add_user.add_argument(
        "--enterprise-name",
        dest="enterprise_name",
        metavar="NAME",
        help="the enterprise's name (needed when it is not enrolled on the node yet)",
    )
    _secret_flags(add_user, new=True)
    add_account_commands(officers)
