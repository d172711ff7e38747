"""Surge shapes: 3·15 reaches ten times its baseline, an epidemic about twenty times and holds
it, a normal day stays low; every shape ends with its run."""

from __future__ import annotations

import pytest

from loadtest.shapes import SHAPES, share_at, users_at


def _shares(shape: str) -> list[float]:
    return [s for s in (share_at(shape, i / 100) for i in range(100)) if s is not None]


def test_the_315_surge_goes_to_ten_times_its_baseline_within_a_tenth_of_the_run() -> None:
    assert share_at("315", 0.1) == pytest.approx(0.1)
    assert share_at("315", 0.3) == pytest.approx(1.0)
    baseline = share_at("315", 0.0)
    assert baseline is not None
    assert max(_shares("315")) / baseline == pytest.approx(10.0)


def test_the_epidemic_surge_is_about_twenty_times_and_sustained_to_the_end() -> None:
    baseline = share_at("epidemic", 0.0)
    assert baseline is not None
    assert share_at("epidemic", 0.99) == pytest.approx(20 * baseline)
    assert all(s == pytest.approx(1.0) for s in _shares("epidemic")[30:])


def test_a_normal_day_never_reaches_a_fifth_of_the_surge_peak() -> None:
    assert max(_shares("normal")) <= 0.2


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_ends_with_its_run_scaled_to_the_minutes_given(shape: str) -> None:
    assert users_at(shape, 29.0, peak_users=10, minutes=0.5) is not None
    assert users_at(shape, 30.0, peak_users=10, minutes=0.5) is None


def test_the_always_on_users_come_on_top_of_the_shape() -> None:
    at_peak = users_at("315", 60.0, peak_users=10, minutes=2.0, always_on=3)
    assert at_peak == (13, 13.0)
