"""Regenerates the committed Python code for `protos/`: `python -m kernel.protogen`.

It needs only grpcio-tools, so it runs even when the generated code is broken or missing.
`tests/unit/test_protos_drift.py` regenerates into a temporary directory and fails when the
result differs from what is committed.
"""

from __future__ import annotations

import argparse
import importlib.resources
import pathlib
import sys

from grpc_tools import protoc

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO_ROOT = REPO_ROOT / "protos"


def proto_files(root: pathlib.Path = PROTO_ROOT) -> list[pathlib.Path]:
    return sorted(root.rglob("*.proto"))


def generate(out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Writes *_pb2.py, *_pb2.pyi, *_pb2_grpc.py and package __init__ files under out_dir."""
    files = proto_files()
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *[str(f.relative_to(PROTO_ROOT)) for f in files],
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed; see the messages above")
    packages = {f.relative_to(PROTO_ROOT).parent for f in files}
    for package in packages:
        for depth in range(1, len(package.parts) + 1):
            init = out_dir.joinpath(*package.parts[:depth], "__init__.py")
            if not init.exists():
                init.write_text("")
    return sorted(p for p in (out_dir / "turnout").rglob("*_pb2*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=pathlib.Path, default=REPO_ROOT)
    written = generate(parser.parse_args(argv).out)
    print(f"generated {len(written)} files from {len(proto_files())} protos")
    return 0


if __name__ == "__main__":
    sys.exit(main())
