"""The catalogue of ``hotline`` sub-commands: each filed under the people who use it.

``hotline --help`` lists the commands by role (signing in, call-takers, dispatchers, handlers
and heads, supervisors, node administrators, security administrators, the trust hierarchy,
auditors, ops tools) rather than in the
order they were added. Every command is registered here with a one-line summary and at least
one example, shown at the end of its own ``--help``; its flags are grouped so that what is
required reads as required, and every flag says what it is.
"""

from __future__ import annotations

import argparse
import enum
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from node.cli.display import width

Run = Callable[[argparse.Namespace], int]
"""What a command does: takes the parsed flags, returns the exit status."""


class Audience(enum.Enum):
    """Who runs a command: the headings of ``hotline --help``, in the order shown."""

    SIGNING_IN = "Signing in (every officer: 登录)"
    OPERATORS = "Operators and call-takers (接线员/登记员)"
    DISPATCHERS = "Dispatchers (分流/派单)"
    HANDLERS = "Handlers and unit heads (承办人/负责人)"
    SUPERVISORS = "Supervisors and the province's rule book (督办)"
    ADMINISTRATORS = "Node administrators"
    SECURITY = "Security administrators (安全管理员: officers' credentials)"
    PKI = "The trust hierarchy (PKI: keys and certificates)"
    AUDITORS = "Auditors (审计管理员: the access record; offline checks of a node's database)"
    TOOLS = "Ops tools"


@dataclass(frozen=True)
class Entry:
    """One line of the overview: a command's full name and summary under its audience."""

    audience: Audience
    name: str
    summary: str


WIDTH = 96
"""Columns the help is laid out in."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of descriptions and examples; wider help column."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=WIDTH)


def shell_words(command: str) -> list[str]:
    """``command`` split at the spaces outside quotes, each word kept as written."""
    words, current, quote = [], "", ""
    for char in command:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == " ":
            if current:
                words.append(current)
            current = ""
            continue
        current += char
    return [*words, current] if current else words


def _flag_units(words: list[str]) -> list[str]:
    """Words grouped so that a flag stays on one line with its value."""
    units: list[str] = []
    for word in words:
        if units and units[-1].startswith("--") and " " not in units[-1] and word[:1] != "-":
            units[-1] += " " + word
        else:
            units.append(word)
    return units


def example_lines(command: str) -> list[str]:
    """One example as shell lines a reader can paste: long ones continued with a backslash."""
    lines, line = [], "  "
    for word in _flag_units(shell_words(command)):
        if line.strip() and width(line) + 1 + width(word) > WIDTH - 2:
            lines.append(line + " \\")
            line = "      "
        line += ("" if not line.strip() else " ") + word
    return [*lines, line]


def examples_text(examples: Sequence[str]) -> str:
    """The epilog of a command: its examples."""
    heading = "example:" if len(examples) == 1 else "examples:"
    return "\n".join([heading, *(line for e in examples for line in example_lines(e))])


def paragraphs(text: str) -> str:
    """``text`` wrapped to the help's width, its paragraphs (blank-line separated) kept."""
    return "\n\n".join(
        textwrap.fill(" ".join(p.split()), WIDTH) for p in text.split("\n\n") if p.strip()
    )


class Catalogue:
    """Registers commands on one level of sub-parsers and files each one under its audience."""

    def __init__(self, sub: Any, prefix: str = "", entries: list[Entry] | None = None) -> None:
        self._sub = sub
        self._prefix = prefix
        self.entries: list[Entry] = entries if entries is not None else []

    def command(
        self,
        audience: Audience,
        name: str,
        *,
        summary: str,
        examples: Sequence[str],
        run: Run,
        description: str = "",
    ) -> argparse.ArgumentParser:
        """A sub-command: summary, examples in its epilog, ``run`` called with its flags."""
        if not examples:
            raise ValueError(f"give `hotline {self._prefix}{name}` an example")
        parser: argparse.ArgumentParser = self._sub.add_parser(
            name,
            help=summary,
            description=paragraphs(summary + (f"\n\n{description}" if description else "")),
            epilog=examples_text(examples),
            formatter_class=HelpFormatter,
        )
        parser.set_defaults(run=run)
        self.entries.append(Entry(audience, self._prefix + name, summary))
        return parser

    def family(self, name: str, *, summary: str, description: str = "") -> Catalogue:
        """A command with sub-commands of its own (``hotline pki ...``)."""
        parser: argparse.ArgumentParser = self._sub.add_parser(
            name,
            help=summary,
            description=paragraphs(summary + (f"\n\n{description}" if description else "")),
            formatter_class=HelpFormatter,
        )
        sub = parser.add_subparsers(
            dest=f"{name}_command",
            metavar="COMMAND",
            required=True,
            prog=f"hotline {self._prefix}{name}",
        )
        return Catalogue(sub, f"{self._prefix}{name} ", self.entries)

    def overview(self) -> str:
        """Every command by audience, for ``hotline --help``."""
        widest = max(len(e.name) for e in self.entries)
        blocks = []
        for audience in Audience:
            lines = [
                f"  {e.name:{widest}}  {e.summary}" for e in self.entries if e.audience is audience
            ]
            if lines:
                blocks.append(f"{audience.value}:\n" + "\n".join(lines))
        return "\n\n".join(blocks)


def required_flags(
    parser: argparse.ArgumentParser, title: str = "required"
) -> argparse._ArgumentGroup:
    """The parser's group of required flags (made on first use), listed before the others;
    ``title`` says so where they may also be given another way."""
    for group in parser._action_groups:
        if group.title == title:
            return group
    group = parser.add_argument_group(title)
    # Show it right after the positional arguments, before the optional flags.
    parser._action_groups.insert(1, parser._action_groups.pop())
    return group


def node_flags(parser: argparse.ArgumentParser, *, officer: bool | None) -> None:
    """``--node`` (required), ``--token-file``, ``--root`` and, unless ``officer`` is None,
    ``--officer`` (optional: a check that the session kept is that officer's).

    A command sends the session token ``hotline login`` kept for the node
    (``node.cli.session_file``), over TLS checked against the national root.
    """
    required_flags(parser).add_argument(
        "--node",
        required=True,
        metavar="HOST:PORT",
        help="the node's client port (the address after 'serving on' in its start line)",
    )
    parser.add_argument(
        "--token-file",
        dest="token_file",
        metavar="FILE",
        help="the session file of `hotline login` (default: one per node under "
        "~/.config/hotline/sessions/, or HOTLINE_TOKEN_FILE)",
    )
    parser.add_argument(
        "--root",
        metavar="FILE",
        help="the national root certificate the node's must chain to (the hierarchy's "
        "root.pem); default: HOTLINE_ROOT, else the one kept at sign-in",
    )
    if officer is None:
        return
    parser.add_argument(
        "--officer",
        default="",
        metavar="ID",
        help="refuse to act unless the session kept is this officer's (e.g. 620102-07)",
    )
