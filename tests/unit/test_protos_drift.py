"""The committed generated code must be exactly what `python -m kernel.protogen` makes."""

from __future__ import annotations

import filecmp
import pathlib

from kernel.protogen import REPO_ROOT, generate


def _generated(root: pathlib.Path) -> dict[str, pathlib.Path]:
    return {str(p.relative_to(root)): p for p in (root / "turnout").rglob("*_pb2*") if p.is_file()}


def test_generated_code_matches_protos(tmp_path: pathlib.Path) -> None:
    generate(tmp_path)
    fresh, committed = _generated(tmp_path), _generated(REPO_ROOT)
    assert fresh.keys() == committed.keys(), "run: python -m kernel.protogen"
    stale = [name for name in fresh if not filecmp.cmp(fresh[name], committed[name], shallow=False)]
    assert not stale, f"generated code is stale, run: python -m kernel.protogen ({stale})"
