"""The probe of the personal-data jobs' searches (``loadtest.seal_searches``) runs and finds
nothing to do on a store where every seal is current, as it was and as it is now."""

from __future__ import annotations

from pathlib import Path

from loadtest.seal_searches import main, probe


def test_every_search_of_a_current_store_finds_nothing_and_is_timed(tmp_path: Path) -> None:
    lines = probe(f"sqlite:///{tmp_path / 'seals.db'}", 2_000)
    assert [line.split(": ")[1] for line in lines] == [
        "re-key search before",
        "re-wrap search before",
        "re-key search now",
        "re-wrap search now",
    ]
    assert all(line.endswith("found 0") and "2,000 seals" in line for line in lines)


def test_a_bad_command_line_says_how_to_call_it(tmp_path: Path) -> None:
    assert main([f"sqlite:///{tmp_path / 'x.db'}", "many"]) == 2
