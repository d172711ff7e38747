"""The metrics port as a setting: off unless asked, from a flag, a variable or the file, checked.

And the start line and warning ``hotline serve`` prints for it (node.cli.serve).
"""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from node.app.settings import build_settings
from node.cli.main import parser
from node.cli.serve import metrics_exposure_warning

COUNTY = {"level": "county", "unit": "620102", "parent": "h:1", "data_dir": "/tmp/x"}


def test_a_node_serves_no_metrics_unless_the_port_is_set() -> None:
    assert build_settings(COUNTY, {}).metrics_port == -1


def test_the_metrics_port_comes_from_the_flag_over_the_variable() -> None:
    env = {"HOTLINE_METRICS_PORT": "9315"}
    assert build_settings(COUNTY, env).metrics_port == 9315
    assert build_settings({**COUNTY, "metrics_port": 0}, env).metrics_port == 0


def test_the_serve_command_takes_the_metrics_port_flag() -> None:
    args = parser().parse_args(["serve", "--metrics-port", "9315"])
    assert args.metrics_port == 9315


@pytest.mark.parametrize("port", [-2, 65536])
def test_a_metrics_port_that_is_no_port_is_refused_naming_the_setting(port: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        build_settings({**COUNTY, "metrics_port": port}, {})
    assert refused.value.field == "metrics_port"


def test_metrics_beyond_loopback_are_warned_of_and_on_loopback_not() -> None:
    assert metrics_exposure_warning("127.0.0.1", 9315) is None
    warning = metrics_exposure_warning("0.0.0.0", 9315)
    assert warning is not None and "firewall" in warning
