"""Node settings: flags over HOTLINE_* variables over the TOML file, checked before starting.

Also the clock they give a node: a drill clock that every node of a drill shares, whenever
each of them started (docs/drills.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.deadlines.china_time import CHINA_TZ
from core.errors import InvalidInput
from core.units import UnitLevel
from node.app.clock import Clock
from node.app.settings import NodeSettings, build_settings


def test_flags_override_the_environment_which_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text(
        'level = "county"\nunit = "620102"\nparent = "10.0.0.1:7000"\n'
        'port = 7001\nsync_interval = 5.0\ndata_dir = "/srv/a"\n',
        encoding="utf-8",
    )
    env = {"HOTLINE_PORT": "7002", "HOTLINE_DATA_DIR": "/srv/b"}
    settings = build_settings({"port": 7003, "parent": None}, env, config)
    assert settings.level is UnitLevel.COUNTY
    assert settings.port == 7003
    assert settings.data_dir == Path("/srv/b")
    assert settings.parent == "10.0.0.1:7000"
    assert settings.sync_interval == 5.0
    assert settings.database_url == "sqlite:////srv/b/node.db"


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        ({"level": "county", "unit": "620100", "parent": "h:1"}, "unit"),
        ({"level": "county", "unit": "620102"}, "parent"),
        ({"level": "county", "unit": "620102", "parent": "nocolon"}, "parent"),
        ({"level": "county", "unit": "620102", "parent": "h:1", "port": "seven"}, "port"),
        ({"level": "mayor", "unit": "620102", "parent": "h:1"}, "level"),
        ({"level": "county", "unit": "620102", "parent": "h:1", "max_calls": 0}, "max_calls"),
        ({"level": "county", "unit": "620102", "parent": "h:1", "max_pushes": -1}, "max_pushes"),
        ({"level": "county", "unit": "620102", "parent": "h:1", "wait_limit": 0}, "wait_limit"),
        ({"level": "county", "unit": "620102", "parent": "h:1", "wait_limit": "nan"}, "wait_limit"),
        (
            {"level": "county", "unit": "620102", "parent": "h:1", "password_hash_memory_kib": 4},
            "password_hash_memory_kib",
        ),
    ],
)
def test_settings_that_cannot_work_name_the_setting(flags: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        build_settings({"data_dir": "/tmp/x", **flags}, {})
    assert refused.value.field == field


def test_an_unknown_setting_in_the_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text(
        'level = "national"\nunit = "100000"\ndata_dir = "x"\nspeed = 3\n', encoding="utf-8"
    )
    with pytest.raises(InvalidInput, match="speed"):
        build_settings({}, {}, config)


# -- the drill clock (docs/drills.md) ------------------------------------------------------------

DRILL = {"level": "county", "unit": "620102", "parent": "h:1", "data_dir": "/tmp/x"}
DRILL_START = dt.datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)
ANCHOR = 1_795_000_000.0
"""A real instant (2026-11-18) from which the drills below run."""


class RealTime:
    """The real clock, pinned where the test says."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def drill_settings(**more: object) -> NodeSettings:
    return build_settings(
        {
            **DRILL,
            "clock_start": "2026-12-01T10:00+08:00",
            "clock_anchor": ANCHOR,
            "clock_speed": 86_400.0,
            **more,
        },
        {},
    )


def test_nodes_started_at_different_times_on_one_drill_clock_see_the_same_time() -> None:
    settings = drill_settings()
    real = RealTime(ANCHOR + 5)
    county = Clock.from_settings(settings, real=real)  # started 5 s into the drill
    real.now = ANCHOR + 7.5
    city = Clock.from_settings(settings, real=real)  # restarted 2.5 s later
    real.now = ANCHOR + 10  # ten real seconds at a day a second
    assert county.now() == city.now() == DRILL_START + dt.timedelta(days=10)
    assert county.wall_ms() == city.wall_ms()


def test_before_its_anchor_a_drill_clock_stands_at_the_drill_start() -> None:
    real = RealTime(ANCHOR - 30)  # nodes brought up half a minute before the drill begins
    clock = Clock.from_settings(drill_settings(), real=real)
    assert clock.now() == DRILL_START
    real.now = ANCHOR - 1
    assert clock.now() == DRILL_START
    real.now = ANCHOR + 0.5
    assert clock.now() == DRILL_START + dt.timedelta(hours=12)


def test_without_an_anchor_the_drill_clock_runs_from_the_node_start() -> None:
    real = RealTime(ANCHOR)
    clock = Clock.from_settings(drill_settings(clock_anchor=None), real=real)
    assert clock.now() == DRILL_START
    real.now += 2
    assert clock.now() == DRILL_START + dt.timedelta(days=2)


def test_a_fixed_offset_still_moves_real_time() -> None:
    real = RealTime(ANCHOR)
    settings = build_settings({**DRILL, "clock_offset": 86_400.0}, {})
    clock = Clock.from_settings(settings, real=real)
    real.now += 60
    assert clock.timestamp() == ANCHOR + 86_400 + 60


def test_drill_clock_settings_come_from_the_environment_and_the_file(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text(
        'level = "county"\nunit = "620102"\nparent = "h:1"\ndata_dir = "x"\n'
        "clock_start = 2026-12-01T10:00:00+08:00\nclock_anchor = 1795000000\n",
        encoding="utf-8",
    )
    settings = build_settings({}, {"HOTLINE_CLOCK_SPEED": "86400"}, config)
    assert settings.drill_start == DRILL_START
    assert settings.clock_anchor == ANCHOR and settings.clock_speed == 86_400.0


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        ({"clock_start": "next tuesday"}, "clock_start"),
        ({"clock_start": "2026-12-01T10:00"}, "clock_start"),  # no offset: which instant?
        ({"clock_speed": 0.0}, "clock_speed"),
        ({"clock_speed": "nan"}, "clock_speed"),
        ({"clock_anchor": -1.0}, "clock_anchor"),
        ({"clock_anchor": "soon"}, "clock_anchor"),
        ({"clock_anchor": "inf"}, "clock_anchor"),
        ({"clock_offset": 3600.0}, "clock_offset"),  # with clock_start: two answers to "when"
    ],
)
def test_drill_clock_settings_that_cannot_work_name_the_setting(
    flags: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        drill_settings(**flags)
    assert refused.value.field == field


def test_an_offset_that_is_not_a_number_of_seconds_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        build_settings({**DRILL, "clock_offset": "inf"}, {})
    assert refused.value.field == "clock_offset"


def test_incident_thresholds_come_from_the_config_file_or_a_file_named_in_the_environment(
    tmp_path: Path,
) -> None:
    config = tmp_path / "node.toml"
    config.write_text(
        'level = "city"\nunit = "620100"\nparent = "h:1"\ndata_dir = "x"\n'
        "[incidents.groups]\nmin_consumers = 3\nwindow_days = 5\n",
        encoding="utf-8",
    )
    settings = build_settings({}, {}, config)
    assert (settings.incidents.groups.min_consumers, settings.incidents.groups.window_days) == (
        3,
        5,
    )
    assert settings.incidents.claimants.min_tickets == 5  # what the file leaves out: defaults

    rules = tmp_path / "incidents.toml"
    rules.write_text('[incidents.emergencies]\nkeywords = ["爆炸"]\n', encoding="utf-8")
    from_env = build_settings({}, {"HOTLINE_INCIDENTS": str(rules)}, config)
    assert from_env.incidents.emergencies.keywords == ("爆炸",)

    config.write_text(
        'level = "city"\nunit = "620100"\nparent = "h:1"\ndata_dir = "x"\n'
        "[incidents.groups]\nmin_people = 3\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as refused:
        build_settings({}, {}, config)
    assert refused.value.field == "incidents.groups"


def test_passwords_are_hashed_with_the_owasp_memory_unless_a_setting_asks_for_less() -> None:
    default = build_settings({"data_dir": "/tmp/x", "level": "national", "unit": "100000"}, {})
    assert default.password_hashing.memory_kib == 19 * 1024
    assert not default.password_hashing.below_default
    env = {"HOTLINE_PASSWORD_HASH_MEMORY_KIB": "64"}
    cheap = build_settings({"data_dir": "/tmp/x", "level": "national", "unit": "100000"}, env)
    hashing = cheap.password_hashing
    assert hashing.below_default
    stored = hashing.hash_password("Gansu-12315-sign-in")
    assert "m=64," in stored and hashing.password_matches(stored, "Gansu-12315-sign-in")
    # A hash carries its parameters: a node back at the default checks it, then re-makes it.
    assert default.password_hashing.password_matches(stored, "Gansu-12315-sign-in")
    assert default.password_hashing.needs_rehash(stored)


def test_a_parent_takes_as_many_pushes_at_once_as_its_environment_says() -> None:
    flags = {"data_dir": "/tmp/x", "level": "city", "unit": "620100", "parent": "h:1"}
    assert build_settings(flags, {}).max_pushes == 0  # sized for the machine
    assert build_settings(flags, {"HOTLINE_MAX_PUSHES": "3"}).max_pushes == 3
