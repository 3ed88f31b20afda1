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


def test_every_error_reason_raised_is_declared_in_errors_proto() -> None:
    """ErrorInfo.reason is a contract (errors.proto): a reason raised in code but missing
    there is one clients cannot look up."""
    import re

    from turnout.common.v1 import errors_pb2

    declared = {name.removeprefix("ERROR_REASON_") for name in errors_pb2.ErrorReason.keys()}
    raised: dict[str, str] = {}
    for package in ("kernel", "event_service", "participant_service", "reporting_service", "gateway"):
        for path in (REPO_ROOT / package).rglob("*.py"):
            for reason in re.findall(r'reason\s*=\s*"([A-Z][A-Z_]+)"', path.read_text()):
                raised.setdefault(reason, str(path.relative_to(REPO_ROOT)))
    assert raised, "the scan found no reasons at all: its pattern is out of date"
    undeclared = {reason: where for reason, where in raised.items() if reason not in declared}
    assert not undeclared, f"add these to protos/turnout/common/v1/errors.proto: {undeclared}"
