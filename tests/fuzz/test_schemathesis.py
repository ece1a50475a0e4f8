"""Schemathesis against the OpenAPI document, with staff and applicant credentials.

Every operation is fuzzed with valid and invalid data (rate limits off, as ``FAIRSLOT_RATE_LIMITS=off`` is
meant for). Checks: no 5xx, status codes, content types, headers and bodies as documented, invalid data
refused, and a custom check that one applicant's code never opens another applicant's request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.generation.case import Case

from app.db.engine import make_engine
from app.main import create_app
from app.runtime import Runtime
from app.services import scheduler
from tests.conftest import test_settings
from tests.factories import World, auth

pytestmark = pytest.mark.slow

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
    checks.unsupported_method,
]


class Credentials:
    """The keys and requests the fuzzer acts with."""

    def __init__(self, client: Any, runtime: Any, clock: Any) -> None:
        world = World(client, runtime)
        self.world = world
        self.alice = world.applicant()
        self.bob = world.applicant()
        world.release(slots=1)
        clock.advance(timedelta(hours=1))
        scheduler.tick(runtime)
        world.release(slots=2)


@pytest.fixture
def credentials(client, runtime, clock) -> Credentials:
    return Credentials(client, runtime, clock)


# One application for the module; each test points it at its own runtime (database, clock) through
# ``app.state.runtime``, which every request reads. Rate limits are off, as the fuzzer needs.
APP = create_app(Runtime(settings=test_settings("sqlite://"), engine=make_engine("sqlite://")))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


def _other_applicant_is_refused(case: Case, response: Any, credentials: Credentials) -> None:
    """Object-level authorisation: Bob's code on Alice's request is a 404, whatever Alice's answer was."""
    if "request_id" not in (case.path_parameters or {}):
        return
    if case.path_parameters["request_id"] != credentials.alice["id"] or not 200 <= response.status_code < 300:
        return
    probe = case.call(headers=auth(credentials.bob["access_code"]))
    assert probe.status_code == 404, f"Bob's code on Alice's request answered {probe.status_code}"


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_openapi_document(
    case: Case, credentials: Credentials, runtime: Runtime
) -> None:
    APP.state.runtime = runtime
    headers: dict[str, str] = {}
    if case.path_parameters and "request_id" in case.path_parameters:
        case.path_parameters["request_id"] = credentials.alice["id"]
        headers = auth(credentials.alice["access_code"])
    elif case.method != "GET" or "staff-keys" in case.path:
        headers = auth(credentials.world.admin)
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    _other_applicant_is_refused(case, response, credentials)
