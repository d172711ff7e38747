"""``hotline serve --metrics-port 0``: a real node process answers Prometheus on the port it
prints in its start line and writes in its port file, and stops serving it when it stops."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core.units import UnitLevel
from node.devnet.hierarchy import Hierarchy
from node.devnet.processes import NodeProcess


@pytest.mark.processes
def test_a_served_node_answers_prometheus_on_the_port_it_announces(
    tmp_path: Path, hierarchy: Hierarchy
) -> None:
    node = NodeProcess(
        "province",
        UnitLevel.PROVINCE,
        "620000",
        tmp_path / "province",
        unreachable_parent=True,
        hierarchy=hierarchy,
        extra_args=("--metrics-port", "0"),
    )
    node.start()
    try:
        port = json.loads((node.data_dir / "port").read_text(encoding="utf-8"))["metrics_port"]
        assert port > 0
        assert f"metrics on http://127.0.0.1:{port}/metrics" in node.log_tail()
        with node.client() as admin:
            admin.info()
        url = f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as answer:
            text = answer.read().decode()
        assert 'hotline_rpc_requests_total{code="OK",method="GetNodeInfo"' in text
        assert 'hotline_node_info{level="province"' in text
    finally:
        node.stop()
    assert "Traceback" not in node.log_tail(100)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)
