"""The packages import in one direction only: domain ← schemas, db ← services ← http ← api | web ← main, cli.

The contract lives in ``pyproject.toml`` (``[tool.importlinter]``); this test runs import-linter on it and
shows, on failure, which import broke which layer.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    return subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_packages_import_only_downward_and_api_and_web_never_import_each_other() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_layer_contract_fails_when_a_lower_package_imports_a_higher_one(tmp_path: Path) -> None:
    """The contract really bites: a copy of the tree with ``app.domain`` importing ``app.api`` is refused."""
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__", "locales"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "app" / "domain" / "upward.py").write_text("import app.api.openapi\n")
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run(
        [exe, "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(tmp_path), "PATH": str(Path(sys.executable).parent)},
    )
    assert result.returncode != 0
    assert "app.domain.upward" in result.stdout
