"""QR codes for booking tokens render as standalone SVG documents."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.domain.proofs.qr import qr_svg

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    "data",
    ["hello", "eyJhbGciOiJFZERTQSJ9." + "x" * 600 + ".sig", 'accents: é à ü — and <xml> & "quotes"'],
)
def test_the_qr_code_is_a_standalone_svg_document(data: str) -> None:
    svg = qr_svg(data)
    assert svg.startswith("<svg")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox")
    paths = root.findall(f"{SVG}path")
    assert len(paths) == 1
    assert paths[0].get("d")


def test_the_qr_code_has_a_white_ground_for_dark_pages() -> None:
    root = ET.fromstring(qr_svg("hello"))
    assert root.find(f"{SVG}rect") is not None
    assert root.find(f"{SVG}rect").get("fill") == "white"  # type: ignore[union-attr]


def test_the_svg_does_not_contain_the_data_in_clear() -> None:
    assert "secret-token-value" not in qr_svg("secret-token-value")


def test_longer_data_gives_a_larger_code_and_the_same_data_the_same_svg() -> None:
    def size(svg: str) -> float:
        return float(ET.fromstring(svg).get("viewBox", "").split()[2])

    assert size(qr_svg("x" * 500)) > size(qr_svg("x"))
    assert qr_svg("same") == qr_svg("same")
