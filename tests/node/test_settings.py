"""Node settings: flags over HOTLINE_* variables over the TOML file, checked before starting."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InvalidInput
from core.units import UnitLevel
from node.settings import build_settings


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
