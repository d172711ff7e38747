"""A client port bound beyond loopback says, in one line, what it exposes; on loopback, nothing.

(The real process's line is checked by tests/e2e/test_flood.py, which binds 0.0.0.0.)
"""

from __future__ import annotations

import pytest

from node.cli.serve import exposure_warning, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_a_loopback_address_exposes_nothing(host: str) -> None:
    assert is_loopback(host)
    assert exposure_warning(host, 7300) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "192.168.1.20"])
def test_any_other_address_says_what_is_exposed_in_one_line(host: str) -> None:
    warning = exposure_warning(host, 7300)
    assert warning is not None and "\n" not in warning
    assert f"{host}:7300" in warning
    assert "TLS" in warning and "session token" in warning and "sign in" in warning
