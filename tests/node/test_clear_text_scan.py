"""The clear-text scan the demo and fault tests use finds what it looks for (so a clean result
means something)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.clear_text import clear_personal_data, sample_personal_values


def test_the_scan_finds_a_value_written_plain_or_json_escaped(tmp_path: Path) -> None:
    values = sample_personal_values()
    name, phone = values[0], values[1]
    (tmp_path / "a.db").write_bytes(b"\x00\x01" + phone.encode() + b"\x02")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "node.log").write_text(json.dumps({"who": name}), encoding="utf-8")
    found = clear_personal_data([tmp_path], values)
    assert sorted(f.split(": ", 1)[1] for f in found) == sorted([phone, name])


def test_masked_forms_are_not_taken_for_the_values(tmp_path: Path) -> None:
    values = sample_personal_values()
    (tmp_path / "view").write_text("张* 139****0001 6201**********0427", encoding="utf-8")
    assert clear_personal_data([tmp_path], values) == []
