"""`hotline --help` as an operator reads it: commands by role, every flag explained, examples.

No node is started: these read the parser the command builds.
"""

from __future__ import annotations

import argparse
import enum
import re
import shlex

import pytest

from core.ticket import events
from node.cli.catalogue import Audience
from node.cli.main import main, parser
from node.cli.terms import ENUMS, EVENT_TERMS, TERMS, term


def commands(top: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    """Every leaf command by its full name (``pki issue``)."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = commands(sub, f"{prefix}{name} ")
                found.update(nested or {f"{prefix}{name}": sub})
    return found


ALL = commands(parser())


def test_help_lists_every_command_once_under_the_role_that_runs_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    headings = [a.value for a in Audience]
    positions = [text.index(h + ":") for h in headings]
    assert positions == sorted(positions), "roles in their order"
    listed = re.findall(r"^  ([a-z][a-z0-9 -]*?)  +\S", text, flags=re.MULTILINE)
    assert sorted(listed) == sorted(ALL), "each command once, nothing else"
    add_unit = text.index("  add-unit ")
    assert text.index("Node administrators:") < add_unit < text.index(Audience.PKI.value)
    assert text.index(Audience.DISPATCHERS.value) < text.index("  route-ticket ")


def test_help_shows_no_markup() -> None:
    texts = [parser().format_help(), *(p.format_help() for p in ALL.values())]
    for text in texts:
        assert "``" not in text and ":class:" not in text and "%(" not in text


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_flag_says_what_it_is_and_required_flags_read_as_required(name: str) -> None:
    command = ALL[name]
    groups = {id(a): g.title for g in command._action_groups for a in g._group_actions}
    for action in command._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"hotline {name}: {action.dest} has no help"
        if action.required and action.option_strings:
            assert "required" in (groups[id(action)] or ""), f"hotline {name}: {action.dest}"
    for action in command._actions:
        if action.option_strings and not action.required:
            # Only where the group says how else it may be given (serve: a variable, a file).
            title = groups[id(action)] or ""
            assert title != "required", f"hotline {name}: {action.dest}"


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_command_shows_an_example_that_parses(name: str) -> None:
    epilog = ALL[name].epilog or ""
    assert epilog.startswith("example"), f"hotline {name} has no example"
    examples = " ".join(epilog.splitlines()[1:]).replace(" \\ ", " ").split("  hotline ")
    examples = [e.strip().removeprefix("hotline ") for e in examples if e.strip()]
    assert examples
    for example in examples:
        argv = [w for w in shlex.split(example) if w != ">" and not w.endswith(".csv")]
        assert " ".join(argv).startswith(name), example
        args = parser().parse_args(argv)
        assert callable(args.run)


def test_a_bad_flag_is_refused_in_one_line_naming_the_command_s_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["refuse-complaint", "T1", "--node", "127.0.0.1:7300", "--officer", "x"])
    assert done.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "hotline refuse-complaint: the following arguments are required: --ground, --notice "
        "(see `hotline refuse-complaint --help`)"
    ]


def test_every_state_and_word_shown_has_its_chinese_term() -> None:
    for kind in ENUMS.values():
        for member in kind:
            assert TERMS.get(member), f"{kind.__name__}.{member.name} has no Chinese term"
    recorded = {
        name
        for name, cls in vars(events).items()
        if isinstance(cls, type) and cls.__module__ == events.__name__ and name.endswith(
            ("Registered", "Routed", "Returned", "Accepted", "Refused", "Assigned", "Paused",
             "Resumed", "Ended", "Verified", "Opened", "Submitted", "Approved", "Rejected",
             "Answered", "Recorded", "Reopened", "Sent", "Escalated", "Requested", "Decided",
             "Ordered", "Reported", "Linked", "Flagged")
        )
    }  # fmt: skip
    assert recorded - {"RecordedEvent"} <= set(EVENT_TERMS)


def test_a_state_is_shown_with_its_chinese_term_beside_it() -> None:
    from core.ticket.state import TicketStatus

    assert term(TicketStatus.ROUTED) == "routed 已分流"

    class Unnamed(enum.Enum):
        X = "x"

    assert term(Unnamed.X) == "x"
