"""The pieces of ``hotline bench hubs`` that make its figures: the lock probe and CPU sums.

The whole bench starts hub processes for tens of seconds (docs/scaling.md gives the command);
here its measures are checked on their own, so a figure in the docs is not a broken probe's.
"""

from __future__ import annotations

import pytest

from loadtest.hub_scale import backend_cpu, fresh_database, lock_ceiling
from tests.helpers.databases import PG_ADMIN, PostgresDatabases


@pytest.mark.postgres
def test_the_lock_probe_counts_commits_on_one_row_and_on_rows_of_their_own(
    postgres: PostgresDatabases,  # skips without a server (fails in CI); the probe makes its own
) -> None:
    with fresh_database(PG_ADMIN) as (name, _url):
        ceiling = lock_ceiling(PG_ADMIN, name, seconds=0.5, connections=2)
    assert ceiling["connections"] == 2
    assert ceiling["one_row_per_s"] > 0
    assert ceiling["own_rows_per_s"] > 0


def test_backend_cpu_sums_what_each_backend_used_and_knows_when_it_cannot_tell() -> None:
    before = {101: 1.0, 102: 2.0}
    after = {101: 1.5, 102: 2.25, 103: 0.5}  # 103 connected during the run
    assert backend_cpu(before, after) == pytest.approx(1.25)
    assert backend_cpu({}, {101: None}) is None  # the server is on another machine
