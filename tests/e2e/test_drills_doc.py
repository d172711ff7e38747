"""docs/drills.md's example, followed as written on real processes, on whatever day it runs.

Every ``sh`` block of "Running a drill" runs in order in an empty folder
(``tests.helpers.shell_doc``): a drill hierarchy valid from 2026-12-01 made with `hotline pki`,
three nodes enrolled in it and started on one drill clock from 2026-12-01 10:00 at 86,400x, a
complaint registered and routed before the anchor, and after the drill's first fortnight the
queues and the ticket. The fixed ports become free ones and ``TICKET`` the registered id; the
one other change is the lead time before the anchor, a minute for a person typing and
``LEAD_SECONDS`` here. So when the doc changes the test follows it, and a step that stops
working (or a date that stops being valid) fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.shell_doc import DocShell, command_lines, section, sh_blocks

ROOT = Path(__file__).resolve().parents[2]
LEAD_SECONDS = 55
"""Real seconds from the anchor's computation to the drill's start: three nodes come up, their
administrators sign in and give the officers credentials (Argon2id at the default cost), the
officers sign in, the province publishes the drill's grace and a complaint is registered (about
8 s on an idle 2-core machine; room for a busy one)."""


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[DocShell]:
    reader = DocShell(tmp_path)
    try:
        yield reader
    finally:
        reader.stop_all()


def drill_commands() -> list[str]:
    """The commands of the doc's example, the anchor's lead time shortened."""
    doc = (ROOT / "docs" / "drills.md").read_text(encoding="utf-8")
    example = section(doc, "Running a drill: a province, a city and a county")
    commands = [line for block in sh_blocks(example) for line in command_lines(block)]
    anchors = [n for n, line in enumerate(commands) if line.startswith("ANCHOR=")]
    assert len(anchors) == 1, "the example sets one ANCHOR"
    lead = re.compile(r"\$\(date \+%s\) \+ \d+ \)\)")
    assert lead.search(commands[anchors[0]]), commands[anchors[0]]
    commands[anchors[0]] = lead.sub(f"$(date +%s) + {LEAD_SECONDS} ))", commands[anchors[0]])
    return commands


def node_level(name: str) -> str:
    """The level of the doc's node in ``drill/name``."""
    return {"gansu": "province", "lanzhou": "city", "chengguan": "county"}[name]


def printed_by(shell: DocShell, start: str) -> str:
    """What the last line starting with ``start`` printed."""
    return [out for line, out in shell.printed if line.startswith(start)][-1]


@pytest.mark.processes
def test_the_drills_doc_s_example_runs_as_written_on_any_day(shell: DocShell) -> None:
    commands = drill_commands()
    text = "\n".join(commands)
    for step in ("pki init-root --dir drill/secure/root --drill --valid-from", "serve", "queue"):
        assert f"hotline {step}" in text, f"the example no longer shows `hotline {step}`"

    for line in commands:
        shell.run(line)

    county = printed_by(shell, "hotline queue --node 127.0.0.1:7300")
    assert "OVERDUE: 1" in county and f"{shell.ticket}  " in county, county
    assert "escalated 2x to 620000" in county, county
    for node in ("7200", "7100"):
        queue = printed_by(shell, f"hotline queue --node 127.0.0.1:{node}")
        assert f"escalated to us (督办): 1\n  {shell.ticket}" in queue, queue
    shown = printed_by(shell, "hotline show TICKET")
    assert shown.count("TicketEscalated") == 2, shown
    assert "2026-12-01 10:00:00 +08:00" in shown, "registered when the drill clock started"

    codes = shell.stop_all()
    assert set(codes.values()) == {0}, codes
    for name, _ in shell.servers:
        output = shell.output(name)
        assert output.splitlines()[0].startswith(f"hotline: {node_level(name)} node "), output
        for noise in ("Traceback", "Event loop is closed", "Exception ignored", "drill clock with"):
            assert noise not in output, output
