"""The domain core imports no framework, database or I/O layer, so it stays testable in microseconds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import app.domain

DOMAIN = Path(app.domain.__file__).parent
FORBIDDEN = (
    "fastapi",
    "starlette",
    "sqlmodel",
    "sqlalchemy",
    "pydantic",
    "alembic",
    "httpx",
    "redis",
    "app.db",
    "app.services",
    "app.api",
    "app.web",
)


def imported_modules(source: str) -> set[str]:
    """Every module a domain file imports, relative imports resolved, ``from a import b`` also as a.b."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative to app.domain: one dot is the package itself
                base = "app.domain".rsplit(".", node.level - 1)[0]
                module = f"{base}.{module}" if module else base
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def forbidden_in(source: str) -> list[str]:
    return sorted(
        module
        for module in imported_modules(source)
        if any(module == name or module.startswith(name + ".") for name in FORBIDDEN)
    )


@pytest.mark.parametrize("path", sorted(DOMAIN.rglob("*.py")), ids=lambda p: str(p.relative_to(DOMAIN)))
def test_a_domain_module_imports_no_framework_or_database(path: Path) -> None:
    assert forbidden_in(path.read_text(encoding="utf-8")) == []


def test_the_purity_check_sees_every_way_of_importing() -> None:
    source = (
        "import fastapi\n"
        "import sqlalchemy.orm as orm\n"
        "from pydantic import BaseModel\n"
        "from app import db\n"
        "from ..services import releases\n"
        "from . import weights\n"
        "from app.domain.draws.lottery import run_draw\n"
        "def later():\n"
        "    import httpx\n"
    )
    assert forbidden_in(source) == [
        "app.db",
        "app.services",
        "app.services.releases",
        "fastapi",
        "httpx",
        "pydantic",
        "pydantic.BaseModel",
        "sqlalchemy.orm",
    ]


def test_the_domain_package_has_the_draw_modules() -> None:
    names = {str(p.relative_to(DOMAIN)) for p in DOMAIN.rglob("*.py")}
    assert {"draws/lottery.py", "draws/draw_record.py", "weights.py"} <= names
