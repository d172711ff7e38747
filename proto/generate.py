"""Generate the Python modules of the ``hotline.v1`` contracts: ``python -m proto.generate``.

Runs ``grpc_tools.protoc`` for ``*_pb2.py`` and ``*_pb2_grpc.py`` and mypy-protobuf for the
``.pyi`` stubs, then rewrites the generated ``from hotline.v1 import`` lines to
``from proto.hotline.v1 import`` so the modules live inside this package (the .proto files keep
the clean ``hotline/v1/...`` import paths other languages expect). Never edit the output by
hand; change the .proto and run this again. ``--check`` regenerates into a temporary folder and
exits 1 naming every file that differs, which is what the staleness test does.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import grpc_tools

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE / "hotline" / "v1"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2_grpc.py", "_pb2.pyi", "_pb2_grpc.pyi")
_IMPORT = re.compile(r"^(from|import) hotline\.v1", re.MULTILINE)


def _plugin(name: str) -> str:
    """A protoc plugin installed beside the running interpreter (the venv's bin folder)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install the dev extras (mypy-protobuf)")
    return found


def generate_into(out_dir: Path) -> list[Path]:
    """Run protoc over every .proto into ``out_dir/hotline/v1``; return the files written."""
    protos = sorted(p.relative_to(HERE).as_posix() for p in SOURCE_DIR.glob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    command = [
        sys.executable, "-m", "grpc_tools.protoc",
        f"-I{HERE}", f"-I{well_known}",
        f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
        f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
        f"--mypy_out={out_dir}", f"--mypy_grpc_out={out_dir}",
        *protos,
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=HERE)
    written = sorted(
        p for p in (out_dir / "hotline" / "v1").iterdir() if p.name.endswith(GENERATED_SUFFIXES)
    )
    for path in written:
        text = path.read_text(encoding="utf-8")
        path.write_text(_IMPORT.sub(r"\1 proto.hotline.v1", text), encoding="utf-8")
    return written


def stale_files() -> list[str]:
    """Names of generated files that are missing, extra or differ from a fresh generation."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p for p in generate_into(Path(tmp))}
        current = {p.name: p for p in SOURCE_DIR.iterdir() if p.name.endswith(GENERATED_SUFFIXES)}
        names = sorted(set(fresh) | set(current))
        return [
            n
            for n in names
            if n not in fresh
            or n not in current
            or not filecmp.cmp(fresh[n], current[n], shallow=False)
        ]


def main(argv: list[str] | None = None) -> int:
    """Generate in place, or with ``--check`` report stale files."""
    parser = argparse.ArgumentParser(prog="python -m proto.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"stale: proto/hotline/v1/{name}")
        return 1 if stale else 0
    with tempfile.TemporaryDirectory() as tmp:
        changed = 0
        for path in generate_into(Path(tmp)):
            target = SOURCE_DIR / path.name
            if not target.exists() or not filecmp.cmp(path, target, shallow=False):
                shutil.copyfile(path, target)
                changed += 1
        print(f"proto: {changed} generated file(s) updated in proto/hotline/v1")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
