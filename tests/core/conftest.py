"""Fixtures for the pure domain tests: the unit directory, a decision context, ticket histories.

The officers and the history builder live in ``tests.helpers.domain`` so hypothesis tests can use
them too; these fixtures are the one-line way in for ordinary tests.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.officers import Officer
from core.ticket.commands import RegisterTicket
from core.ticket.decisions import DecisionContext
from core.units import UnitDirectory
from tests.helpers import domain
from tests.helpers.domain import History


@pytest.fixture
def directory() -> UnitDirectory:
    """The standard units plus the stations 620102001 and 620103001."""
    return domain.units()


@pytest.fixture
def ctx() -> DecisionContext:
    """A decision context at 2026-03-16 09:30 (+08:00)."""
    return domain.context()


@pytest.fixture
def new_ticket() -> Callable[..., History]:
    """``new_ticket(officer=HUB, command=draft())``: a history holding one registration."""

    def make(officer: Officer = domain.HUB, command: RegisterTicket | None = None) -> History:
        return History.registered(officer, command or domain.draft())

    return make


@pytest.fixture
def routed_complaint() -> History:
    """A complaint registered at the hub and routed to Chengguan (620102)."""
    return domain.routed()


@pytest.fixture
def accepted_complaint() -> History:
    """A complaint accepted by Chengguan: mediating."""
    return domain.accepted()


@pytest.fixture
def closed_complaint() -> History:
    """A complaint settled, signed and approved: closed, awaiting callback."""
    return domain.closed_complaint()
