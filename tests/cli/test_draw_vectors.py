"""The published draw test vectors (docs/draw-vectors/): ``fairslot verify-draw`` accepts each as it is,
refuses each after a one-character change to anything the draw is computed from, and trusts only the real
public rounds when asked for a public beacon; the one-file verifier written without Fairslot agrees."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import app

VECTORS = Path(__file__).parents[2] / "docs" / "draw-vectors"
FILES = sorted(p.name for p in VECTORS.glob("*.json"))
PUBLIC = ["v2-mainnet.json", "v2-quicknet.json"]
NOT_PUBLIC = ["v1-availability.json", "v2-local-chain.json"]
V2 = [name for name in FILES if name.startswith("v2-")]


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, VECTORS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _verify_draw(path: Path, *options: str) -> Any:
    return CliRunner().invoke(app, ["verify-draw", *options, str(path)])


def _text(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


#: Alphabets a changed character stays in: hex for digests, digits for numbers, letters for words.
ALPHABETS = ("0123456789abcdef", "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _next_character(character: str, alphabets: tuple[str, ...] = ALPHABETS) -> str:
    """Another character of the same kind."""
    for alphabet in alphabets:
        if character in alphabet:
            return alphabet[(alphabet.index(character) + 1) % len(alphabet)]
    return "x" if character != "x" else "y"


def _changed(value: Any, index: int) -> Any:
    """``value`` with its character at ``index`` replaced (numbers by their decimal digits)."""
    text = str(value)
    index %= len(text)
    if isinstance(value, int):
        return int(text[:index] + _next_character(text[index], ("0123456789",)) + text[index + 1 :])
    return text[:index] + _next_character(text[index]) + text[index + 1 :]


def _first(outcome: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda record: next(e for e in record["entries"] if e["outcome"] == outcome)


#: One-character changes that no genuine record survives: (what, where the value is, which character).
CHANGES: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], str, int]] = [
    ("a seed digit", lambda r: r, "seed", 0),
    ("a commitment digit", lambda r: r, "seed_commitment", -1),
    ("a beacon character", lambda r: r, "beacon", 3),
    ("the first rank", lambda r: r["entries"][0], "rank", 0),
    ("a winner's slot", _first("offered"), "slot", -1),
    ("a winner's outcome", _first("offered"), "outcome", -1),
    ("a loser's rank", _first("not_selected"), "rank", -1),
]
#: And on a v2 record, its proof.
CHANGES_V2: list[tuple[str, Callable[[dict[str, Any]], dict[str, Any]], str, int]] = [
    ("a signature digit", lambda r: r["beacon_proof"], "signature", 10),
    ("the fixed round", lambda r: r["beacon_source"], "round", -1),
    ("the proven round", lambda r: r["beacon_proof"], "round", -1),
    ("a public key digit", lambda r: r["beacon_proof"], "public_key", 20),
    ("the chain", lambda r: r["beacon_proof"], "chain_hash", 5),
    ("the draw's year", lambda r: r, "draw_at", 3),
]


def _one_character_change(
    file_name: str, where: Callable[[dict[str, Any]], dict[str, Any]], field: str, index: int
) -> str:
    original = (VECTORS / file_name).read_text(encoding="utf-8")
    record = json.loads(original)
    holder = where(record)
    holder[field] = _changed(holder[field], index)
    changed = _text(record)
    differing = [i for i, (a, b) in enumerate(zip(original, changed, strict=True)) if a != b]
    assert len(differing) == 1, f"{file_name}: the change must be one character of the published file"
    return changed


def test_the_folder_holds_v1_with_availability_and_v2_on_a_local_chain_and_on_quicknet() -> None:
    assert set(FILES) >= {*PUBLIC, *NOT_PUBLIC}
    v1 = json.loads((VECTORS / "v1-availability.json").read_text(encoding="utf-8"))
    assert v1["spec"] == "fairslot-draw-v1"
    availabilities = [e["availability"] for e in v1["entries"]]
    assert any(a["weekdays"] for a in availabilities)
    assert any(a["earliest"] or a["latest"] for a in availabilities)
    assert {e["outcome"] for e in v1["entries"]} == {"offered", "not_selected", "no_compatible_slot"}
    quicknet = json.loads((VECTORS / "v2-quicknet.json").read_text(encoding="utf-8"))
    assert quicknet["beacon_proof"]["scheme"] == "bls-unchained-g1-rfc9380"


def test_the_vectors_are_what_the_draw_code_computes_from_their_inputs() -> None:
    generate = _module("generate")
    for file_name, make in generate.VECTORS.items():
        assert (VECTORS / file_name).read_text(encoding="utf-8") == _text(make()), file_name


@pytest.mark.parametrize("file_name", FILES)
def test_verify_draw_accepts_each_vector_as_published(file_name: str) -> None:
    result = _verify_draw(VECTORS / file_name)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK ")


@pytest.mark.parametrize("file_name", FILES)
@pytest.mark.parametrize(("what", "where", "field", "index"), CHANGES, ids=[c[0] for c in CHANGES])
def test_verify_draw_refuses_a_one_character_change_to_each_vector(
    file_name: str, what: str, where: Any, field: str, index: int, tmp_path: Path
) -> None:
    path = tmp_path / file_name
    path.write_text(_one_character_change(file_name, where, field, index), encoding="utf-8")
    result = _verify_draw(path)
    assert result.exit_code == 1, f"{what}: {result.output}"
    assert result.output.startswith("FAILED ")


@pytest.mark.parametrize("file_name", V2)
@pytest.mark.parametrize(("what", "where", "field", "index"), CHANGES_V2, ids=[c[0] for c in CHANGES_V2])
def test_verify_draw_refuses_a_one_character_change_to_a_v2_proof(
    file_name: str, what: str, where: Any, field: str, index: int, tmp_path: Path
) -> None:
    path = tmp_path / file_name
    path.write_text(_one_character_change(file_name, where, field, index), encoding="utf-8")
    result = _verify_draw(path)
    assert result.exit_code == 1, f"{what}: {result.output}"


@pytest.mark.parametrize("file_name", PUBLIC)
def test_a_public_beacon_is_required_and_found_on_the_real_drand_rounds(file_name: str) -> None:
    result = _verify_draw(VECTORS / file_name, "--require-public-beacon")
    assert result.exit_code == 0, result.output
    assert "beacon trust: public chain" in result.output


@pytest.mark.parametrize("file_name", NOT_PUBLIC)
def test_a_public_beacon_is_required_and_missing_on_the_local_chain_and_on_v1(file_name: str) -> None:
    result = _verify_draw(VECTORS / file_name, "--require-public-beacon")
    assert result.exit_code == 1
    assert "--require-public-beacon asks for public" in result.output


def test_the_verifier_written_without_fairslot_agrees_on_every_vector_and_change() -> None:
    standalone = _module("verify_without_fairslot")
    for file_name in FILES:
        record = json.loads((VECTORS / file_name).read_text(encoding="utf-8"))
        assert standalone.verify(record) == [], file_name
        changes = CHANGES + (CHANGES_V2 if file_name in V2 else [])
        for what, where, field, index in changes:
            changed = json.loads(_one_character_change(file_name, where, field, index))
            try:
                differences = standalone.verify(changed)
            except (KeyError, TypeError, ValueError) as exc:  # a value it cannot even read
                differences = [str(exc)]
            assert differences, f"{file_name}: {what}"
