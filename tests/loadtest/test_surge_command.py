"""``hotline loadtest surge`` refuses bad flags before starting anything, reads Locust's
statistics file as Locust writes it, and starts Locust alone or as a master with workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.harness import BenchError
from loadtest.locust_run import locust_commands
from loadtest.surge import read_stats
from node.cli.main import main as hotline

STATS = (
    "Type,Name,Request Count,Failure Count,Median Response Time,50%,99%,100%\n"
    "grpc,RegisterTicket complaint,10,1,8,8,41,44\n"
    "shed,GetQueue,3,0,1,1,2,2\n"
    ",Aggregated,13,1,8,8,41,44\n"
)


def test_an_unknown_shape_is_refused_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert hotline(["loadtest", "surge", "--shape", "black-friday"]) == 2
    assert "no shape 'black-friday'" in capsys.readouterr().err


def test_a_threshold_without_milliseconds_is_refused() -> None:
    with pytest.raises(SystemExit) as exited:
        hotline(["loadtest", "surge", "--p99", "RegisterTicket"])
    assert exited.value.code == 2


def test_locusts_statistics_are_read_per_request_without_the_aggregate(tmp_path: Path) -> None:
    (tmp_path / "surge_stats.csv").write_text(STATS, encoding="utf-8")
    rows = read_stats(tmp_path / "surge")
    assert [(r.kind, r.name, r.requests, r.failures, r.p99_ms) for r in rows] == [
        ("grpc", "RegisterTicket complaint", 10, 1, 41.0),
        ("shed", "GetQueue", 3, 0, 2.0),
    ]


def test_a_run_without_statistics_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="Locust wrote no statistics"):
        read_stats(tmp_path / "surge")


def test_with_workers_the_master_expects_them_and_each_worker_reaches_its_port(
    tmp_path: Path,
) -> None:
    master, workers = locust_commands(
        tmp_path / "surge", tmp_path / "surge.html", ("--loglevel=INFO",), 2, 47123
    )
    assert master[master.index("--expect-workers") + 1] == "2"
    assert master[master.index("--master-bind-port") + 1] == "47123"
    assert "--headless" in master and master[-1] == "--loglevel=INFO"
    assert len(workers) == 2
    for worker in workers:
        assert "--worker" in worker and "--headless" not in worker
        assert worker[worker.index("--master-port") + 1] == "47123"


def test_alone_locust_runs_one_process_with_the_flags_given(tmp_path: Path) -> None:
    lone, workers = locust_commands(tmp_path / "surge", tmp_path / "surge.html", (), 0, 47123)
    assert workers == [] and "--master" not in lone and "--headless" in lone


def test_more_workers_than_people_per_role_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert hotline(["loadtest", "surge", "--workers", "3", "--pool", "2"]) == 2
    assert "--workers must be 0 to --pool" in capsys.readouterr().err
