"""The hybrid logical clock (core.hlc): causes sort before effects, values stay near real time."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from core import hlc

WALL = st.integers(min_value=0, max_value=2**41)  # milliseconds, well past the year 2030
CLOCK = WALL.flatmap(lambda ms: st.integers(hlc.from_millis(ms), hlc.from_millis(ms) + 2**16 - 1))


@given(last=CLOCK, wall_ms=WALL)
def test_tick_is_above_the_last_value_and_not_behind_wall_time(last: int, wall_ms: int) -> None:
    value = hlc.tick(last, wall_ms)
    assert value > last
    assert hlc.to_millis(value) >= wall_ms


@given(start=CLOCK, walls=st.lists(WALL, min_size=1, max_size=30))
def test_ticks_are_strictly_increasing_even_when_the_wall_clock_goes_back(
    start: int, walls: list[int]
) -> None:
    values = [start]
    for wall_ms in walls:
        values.append(hlc.tick(values[-1], wall_ms))
    assert all(a < b for a, b in pairwise(values))


def test_tick_follows_the_wall_clock_when_it_is_ahead() -> None:
    last = hlc.from_millis(1_000) + 5
    assert hlc.tick(last, 2_000) == hlc.from_millis(2_000)


def test_tick_counts_within_one_millisecond() -> None:
    first = hlc.tick(0, 1_000)
    second = hlc.tick(first, 1_000)
    assert second == first + 1
    assert hlc.to_millis(second) == 1_000


@given(last=CLOCK, received=CLOCK, wall_ms=WALL)
def test_observe_moves_past_a_received_value(last: int, received: int, wall_ms: int) -> None:
    value = hlc.observe(last, received, wall_ms)
    assert value > received
    assert value >= last
    assert hlc.to_millis(value) >= wall_ms


@given(last=CLOCK, received=CLOCK, wall_ms=WALL, later_wall=WALL)
def test_an_event_recorded_after_one_was_seen_sorts_after_it(
    last: int, received: int, wall_ms: int, later_wall: int
) -> None:
    after = hlc.tick(hlc.observe(last, received, wall_ms), later_wall)
    assert after > received
    assert after > last


def test_observe_of_an_older_value_keeps_the_clock() -> None:
    last = hlc.from_millis(5_000) + 3
    assert hlc.observe(last, hlc.from_millis(4_000), 4_500) == last


@given(ms=WALL, counter=st.integers(0, 2**16 - 1))
def test_the_wall_clock_part_survives_the_counter(ms: int, counter: int) -> None:
    assert hlc.to_millis(hlc.from_millis(ms) + counter) == ms


def test_to_datetime_gives_utc_wall_time() -> None:
    moment = datetime(2026, 3, 15, 1, 2, 3, 456_000, tzinfo=UTC)
    value = hlc.from_millis(int(moment.timestamp() * 1000)) + 7
    assert hlc.to_datetime(value) == moment
