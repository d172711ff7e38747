"""The generated protobuf modules match the .proto contracts (python -m proto.generate)."""

from __future__ import annotations

from proto.generate import stale_files


def test_generated_code_matches_the_contracts() -> None:
    assert stale_files() == [], "run `python -m proto.generate` (make generate) and commit"
