"""The ``hotline`` command: serve a node, act on tickets, administer, audit, run the demo.

This is an entry point: it alone reads ``os.environ`` (for ``serve``, and for sign-in: the
session file and the secrets of scripts) and turns flags into calls. The commands live one
module per role (``node.cli.access``, ``tickets``, ``admin``, ``sync``, ``supervision``,
``rules``, ``pki``, ``audit``, ``access_log``, ``serve``, ``tools``) and are filed by role in
``hotline --help`` (``node.cli.catalogue``). Every failure ends with one line on stderr and a
non-zero exit status; a bad flag too.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from core.errors import HotlineError
from node.cli.access import add_access_commands
from node.cli.access_log import add_access_log_command
from node.cli.admin import add_admin_commands
from node.cli.audit import add_audit_command
from node.cli.catalogue import Catalogue, HelpFormatter
from node.cli.keys import add_keys_commands
from node.cli.loadtest import add_loadtest_commands
from node.cli.odr_disputes import add_odr_dispute_commands
from node.cli.odr_enrolment import add_odr_enrolment_commands
from node.cli.personal import add_personal_commands
from node.cli.pki import add_pki_commands
from node.cli.rules import add_rules_commands
from node.cli.serve import add_serve_command
from node.cli.serve_web import add_serve_web_command
from node.cli.supervision import add_supervision_commands
from node.cli.sync import add_sync_commands
from node.cli.tickets import add_ticket_commands
from node.cli.tools import add_tool_commands
from node.edge.client import CallError
from sync.errors import StorageError

log = logging.getLogger("hotline")


class Parser(argparse.ArgumentParser):
    """An argument parser whose refusals are one line, naming the command's own help."""

    def error(self, message: str) -> NoReturn:
        """Print ``message`` on one line and exit 2 (argparse would print the usage too)."""
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def parser() -> argparse.ArgumentParser:
    """The ``hotline`` argument parser, its commands filed by who uses them."""
    top = Parser(
        prog="hotline",
        usage="hotline [-h] [-v] COMMAND ...",
        formatter_class=HelpFormatter,
        epilog="Each command's --help lists its flags, required ones first, and an example: "
        "hotline register --help.\nTimes are shown in China time (+08:00).",
    )
    top.add_argument("-v", "--verbose", action="store_true", help="log more (on stderr)")
    # The overview in the description lists the commands by role; argparse's own flat list of
    # them is hidden.
    sub = top.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help=argparse.SUPPRESS, prog="hotline"
    )
    catalogue = Catalogue(sub)
    add_access_commands(catalogue)
    add_ticket_commands(catalogue)
    add_personal_commands(catalogue)
    add_supervision_commands(catalogue)
    add_rules_commands(catalogue)
    odr = catalogue.family(
        "odr",
        summary="the ODR green channel (在线消费纠纷解决): enrolment, the roster, disputes",
    )
    add_odr_enrolment_commands(odr)
    add_odr_dispute_commands(odr)
    add_serve_command(catalogue)
    add_serve_web_command(catalogue)
    add_admin_commands(catalogue)
    add_sync_commands(catalogue)
    add_pki_commands(catalogue)
    add_keys_commands(catalogue)
    add_audit_command(catalogue)
    add_access_log_command(catalogue)
    add_tool_commands(catalogue)
    add_loadtest_commands(catalogue)
    top.description = (
        "The 12315 network's node and tools. Commands, by who runs them:\n\n" + catalogue.overview()
    )
    return top


def _say(reason: str) -> None:
    """A failure's reason on stderr, on one line (a driver's message may run over several)."""
    first = reason.strip().splitlines()[0] if reason.strip() else "failed"
    print(f"hotline: {first}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hotline`` command; returns the exit status."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        return int(args.run(args))
    except CallError as exc:
        _say(f"{exc.code}: {exc.message}")
    except StorageError as exc:
        _say(f"storage: {exc}")
    except HotlineError as exc:  # every other error of ours: its message is the reason
        _say(str(exc))
    except (OSError, ValueError) as exc:
        _say(str(exc))
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
