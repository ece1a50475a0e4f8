"""The OpenAPI document only grows: every path, operation, parameter, schema and field of the snapshot taken
before the restructuring (``snapshots/openapi-2026-12-01.json``) is still there, unchanged. New members
(such as the weight factors' ``code`` and ``params``) are allowed; prose (``description``) may be reworded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi-2026-12-01.json"
PROSE = {"description", "summary"}
#: Lists whose order carries no meaning and to which members may be added.
SETS = {"enum", "tags", "anyOf", "oneOf"}
#: Lists that must not grow: a newly required input member would break the clients of the snapshot.
NO_NEW = {"required"}
#: Changes made on purpose, each with its reason (a wider pattern accepts everything it accepted).
WIDENED = {
    "$.components.schemas.OfficeCreate.properties.code.pattern": "office and service codes are accepted in any case and stored lower-case (a wider pattern)",
    "$.components.schemas.ReleaseCreate.properties.office.pattern": "office and service codes are accepted in any case and stored lower-case (a wider pattern)",
    "$.components.schemas.ReleaseCreate.properties.service.pattern": "office and service codes are accepted in any case and stored lower-case (a wider pattern)",
    "$.components.schemas.RequestCreate.properties.offices.items.pattern": "office and service codes are accepted in any case and stored lower-case (a wider pattern)",
    "$.components.schemas.RequestCreate.properties.service.pattern": "office and service codes are accepted in any case and stored lower-case (a wider pattern)",
    "$.components.schemas.ServiceCreate.properties.code.pattern": "office and service codes are accepted in any case and stored lower-case (a wider pattern)",
    "$.components.schemas.StaffKeyCreate.properties.offices.items.pattern": "office and service codes are accepted in any case and stored lower-case (a wider pattern)",
    "$.paths./api/v1/releases.get.parameters[0].schema.anyOf": "office and service codes are accepted in any case and stored lower-case (a wider pattern)",
    "$.paths./api/v1/releases.get.parameters[1].schema.anyOf": "office and service codes are accepted in any case and stored lower-case (a wider pattern)",
    "$.components.schemas.RequestCreate.properties.language.enum": "the six languages: one domain enum, referenced as a schema of its own",
    "$.components.schemas.RequestCreate.properties.language.title": "the six languages: one domain enum, referenced as a schema of its own",
    "$.components.schemas.RequestCreate.properties.language.type": "the six languages: one domain enum, referenced as a schema of its own",
    "$.components.schemas.StaffKeyCreate.properties.role.pattern": "the access table added agent, verifier, partner",
    "$.components.schemas.RequestPublic.properties.weight.$ref": "a closed request enters no draw: its weight is null",
    "$.components.schemas.RequestCreated.properties.weight.$ref": "a closed request enters no draw: its weight is null",
    "$.paths./api/v1/releases.get.parameters[2].schema.anyOf": "a release may be withdrawn before its draw: the status filter takes withdrawn too (a wider pattern)",
    "$.components.schemas.ContactIn.properties.phone.anyOf": (
        "phone numbers are parsed by phonenumbers (any national or international writing, stored E.164) "
        "instead of a character pattern"
    ),
}


def losses(old: Any, new: Any, path: str = "$") -> list[str]:
    """Where ``new`` drops or changes something ``old`` has (an empty list: ``new`` only adds)."""
    if path in WIDENED:
        return []
    if isinstance(old, dict):
        if not isinstance(new, dict):
            return [f"{path}: was an object"]
        found: list[str] = []
        for key, value in old.items():
            if key not in new:
                if f"{path}.{key}" not in WIDENED:
                    found.append(f"{path}.{key}: removed")
            elif key not in PROSE:
                found.extend(losses(value, new[key], f"{path}.{key}"))
        return found
    if isinstance(old, list):
        if not isinstance(new, list):
            return [f"{path}: was a list"]
        name = path.rsplit(".", 1)[-1]
        if name in SETS or name in NO_NEW:
            missing = [item for item in old if item not in new]
            return [f"{path}: lost {item!r}" for item in missing]
        if len(old) != len(new):
            return [f"{path}: {len(old)} items became {len(new)}"]
        return [
            loss
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for loss in losses(a, b, f"{path}[{i}]")
        ]
    return [] if old == new else [f"{path}: {old!r} became {new!r}"]


def test_the_openapi_document_only_adds_to_the_snapshot(client: TestClient) -> None:
    snapshot = json.loads(SNAPSHOT.read_text())
    current = client.get("/openapi.json").json()

    assert losses(snapshot, current) == []


def test_no_input_schema_requires_a_member_the_snapshot_did_not(client: TestClient) -> None:
    snapshot = json.loads(SNAPSHOT.read_text())["components"]["schemas"]
    current = client.get("/openapi.json").json()["components"]["schemas"]
    inputs = [
        name for name in snapshot if not name.endswith(("Public", "Created", "Summary")) and name != "Problem"
    ]

    added = {
        name: sorted(set(current[name].get("required", [])) - set(snapshot[name].get("required", [])))
        for name in inputs
    }

    assert {name: members for name, members in added.items() if members} == {}


def test_the_comparison_sees_a_removed_field_and_a_renamed_path() -> None:
    old = {"paths": {"/a": {"get": {"parameters": [{"name": "x"}]}}}, "components": {"required": ["x"]}}

    assert losses(old, {"paths": {"/b": {}}, "components": {"required": ["x"]}}) == ["$.paths./a: removed"]
    assert losses(old, {**old, "components": {"required": []}}) == ["$.components.required: lost 'x'"]
    assert losses(old, {**old, "info": {"version": "2"}}) == []
