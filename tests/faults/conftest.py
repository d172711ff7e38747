"""Options of the fault tests: how many crash rounds the kill test runs, and its time limit."""

from __future__ import annotations

import os

import pytest

SECONDS_PER_ROUND = 6
"""Generous: a round is a pause of up to 0.5 s and a node restart (1-2 s on a busy runner)."""


def _rounds_of(config: pytest.Config) -> int:
    """``--fault-rounds``, else ``HOTLINE_FAULT_ROUNDS``, else 30."""
    option = config.getoption("--fault-rounds", default=None)
    if option is not None:
        return int(option)
    return int(os.environ.get("HOTLINE_FAULT_ROUNDS", "30"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give the kill test time for the rounds asked for (above the suite's 300 s default)."""
    limit = max(300, 120 + SECONDS_PER_ROUND * _rounds_of(config))
    for item in items:
        if "fault_rounds" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(limit))


@pytest.fixture
def fault_rounds(request: pytest.FixtureRequest) -> int:
    """How many kill/restart rounds to run."""
    return _rounds_of(request.config)
