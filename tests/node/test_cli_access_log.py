"""`hotline access-log` as the audit administrator reads it: China time, Chinese terms, filters,
JSON, and the anchor of the read that `hotline audit --anchor` takes.

The audit administrator signed in (their session kept in a token file, as `hotline login`
keeps it); the county's record holds refused tries.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node.cli.main import main as hotline
from node.cli.session_file import SavedSession, save_session
from node.edge.client import CallError
from tests.helpers.auditing import AUDITOR, HANDLER, AuditedCounty, start_audited_county
from tests.helpers.signin import access_rows
from tests.helpers.world import World


def _signed_in(county: AuditedCounty, officer: str, folder: Path) -> Path:
    """A session file of ``officer`` on the county's node."""
    with county.sign_in(officer) as client:
        token, expires = client.token, client.who_am_i().expires_ms
    path = folder / f"{officer}.json"
    node = county.node
    save_session(
        path,
        SavedSession(
            node.target, node.node.identity.node_id, officer, token, expires, node.root.decode()
        ),
    )
    return path


@pytest.fixture
def county(world: World) -> AuditedCounty:
    """Chengguan with two wrong passwords of the handler in its record."""
    county = start_audited_county(world)
    with county.node.unsigned() as guesser:
        for _ in range(2):
            with pytest.raises(CallError):
                guesser.sign_in(HANDLER, "Wrong-password-123", "000000")
    return county


def test_the_refused_tries_print_in_china_time_with_chinese_terms_and_the_anchor(
    county: AuditedCounty, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = _signed_in(county, AUDITOR, tmp_path)
    node = county.node.target
    capsys.readouterr()
    status = hotline(
        ["access-log", "--node", node, "--token-file", str(session), "--outcome", "refused"]
    )
    out = capsys.readouterr().out.splitlines()
    assert status == 0, out
    assert out[0].split()[:4] == ["seq", "time", "(China)", "officer"]
    refused = [line for line in out[1:] if "refused 拒绝" in line]
    assert len(refused) == 2
    assert all("+08:00" in line and "sign-in 登录" in line for line in refused)
    assert all(HANDLER in line and "wrong-password" in line for line in refused)
    assert out[-2] == "2 row(s)"
    anchor = out[-1].rsplit(" ", 1)[-1]
    last = access_rows(county.node)[-1]
    assert last.action.value == "read-record" and last.officer_id == AUDITOR
    assert anchor.startswith(f"{last.seq}:") and len(anchor) == len(str(last.seq)) + 65


def test_json_and_filters_by_officer_action_and_china_time(
    county: AuditedCounty, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = _signed_in(county, AUDITOR, tmp_path)
    node = county.node.target
    first = access_rows(county.node)[0]
    capsys.readouterr()
    args = ["access-log", "--node", node, "--token-file", str(session), "--json"]
    assert hotline([*args, "--officer", HANDLER, "--action", "sign-in"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["count"] == 2 == len(document["rows"])
    assert {r["reason"] for r in document["rows"]} == {"wrong-password"}
    assert document["rows"][0]["time"].endswith("+08:00") and document["head"]

    assert hotline([*args, "--until", "2000-01-01T08:00", "--since", "1999-12-31"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 0
    assert hotline([*args, "--since", "2000-01-01", "--limit", "1"]) == 0
    assert [r["seq"] for r in json.loads(capsys.readouterr().out)["rows"]] == [first.seq]


def test_other_officers_and_bad_flags_are_refused_on_one_line(
    county: AuditedCounty, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    node = county.node.target
    handler = _signed_in(county, HANDLER, tmp_path)
    capsys.readouterr()
    assert hotline(["access-log", "--node", node, "--token-file", str(handler)]) == 2
    printed = capsys.readouterr()
    err = printed.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hotline: PERMISSION_DENIED: ReadAccessRecord")
    assert printed.out == ""  # nothing half-printed before the refusal
    auditor = _signed_in(county, AUDITOR, tmp_path)
    assert (
        hotline(["access-log", "--node", node, "--token-file", str(auditor), "--since", "soon"])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "hotline: since: 'soon' is not a date or time like 2026-12-01T08:00 (China time)"
    ]
