"""The package metadata installs without deprecation warnings: the licence is an SPDX string, and the build
asks for a setuptools that reads that form."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _pyproject() -> dict[str, object]:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))


def test_the_licence_is_an_spdx_expression_not_a_deprecated_table() -> None:
    license_ = _pyproject()["project"]["license"]  # type: ignore[index]

    assert isinstance(license_, str)
    assert canonicalize_license_expression(license_) == "EUPL-1.2"


def test_the_build_requires_a_setuptools_that_accepts_an_spdx_licence() -> None:
    requires = [Requirement(r) for r in _pyproject()["build-system"]["requires"]]  # type: ignore[index]
    setuptools = next(r for r in requires if r.name == "setuptools")
    floors = [Version(s.version) for s in setuptools.specifier if s.operator in (">=", "==", "~=")]

    assert floors
    assert max(floors) >= Version("77")  # the first setuptools that reads `license = "SPDX"`
