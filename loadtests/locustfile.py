"""Locust scenario: real applicants, a planner, bots and scalpers against one Fairslot server.

Started by ``make loadtest`` (``loadtests/run.py``), which prepares the server and passes the keys:
``FAIRSLOT_LOAD_OFFICE``, ``FAIRSLOT_LOAD_SERVICE``, ``FAIRSLOT_LOAD_PLANNER_KEY``, ``FAIRSLOT_LOAD_DESK_KEY``.
Every user connects from a loopback source address of its own, as production would see it through the edge
(``make loadtest`` puts nginx with the generated configuration in front): bots and scalpers from a few
addresses 127.0.1.x, every real applicant a different person from a different address 127.0.2.x (then
127.0.3.x, ...).
"""

from __future__ import annotations

import itertools
import os
import random
import uuid
from datetime import UTC, datetime, timedelta

from locust import HttpUser, between, events, task
from requests.adapters import HTTPAdapter

OFFICE = os.environ.get("FAIRSLOT_LOAD_OFFICE", "paris-cite")
SERVICE = os.environ.get("FAIRSLOT_LOAD_SERVICE", "first-permit")
PLANNER_KEY = os.environ.get("FAIRSLOT_LOAD_PLANNER_KEY", "")
DESK_KEY = os.environ.get("FAIRSLOT_LOAD_DESK_KEY", "")
_people = itertools.count(1)
OUTCOMES: dict[str, int] = {
    "bot_accepted": 0,
    "bot_refused": 0,
    "scalper_bookings": 0,
    "transfers_tried": 0,
    "transfers_admitted": 0,
    "applicant_bookings": 0,
}


class _From(HTTPAdapter):
    """Connections that leave from one source address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _connect_from(user: HttpUser, address: str) -> None:
    user.client.mount("http://", _From(address))
    user.client.mount("https://", _From(address))


def _identity(document: str, birth: str = "1990-04-12") -> dict[str, str]:
    return {
        "document_type": "passport",
        "document_number": document,
        "family_name": "Diallo",
        "given_names": "Aïcha",
        "birth_date": birth,
    }


def _body(document: str, birth: str = "1990-04-12") -> dict[str, object]:
    # A French mobile number: the demo service verifies entries by SMS (a request without one is a 422).
    mobile = f"+336{int(uuid.uuid4().int % 90_000_000) + 10_000_000:08d}"
    return {
        "service": SERVICE,
        "offices": [OFFICE],
        "identity": _identity(document, birth),
        "contact": {"phone": mobile},
        "language": "fr",
    }


class Applicant(HttpUser):
    """A real person: submits once, then checks the status now and then, and accepts an offer."""

    weight = 6
    wait_time = between(1, 3)

    def on_start(self) -> None:
        n = next(_people)
        self.address = f"127.0.{2 + n // 250 % 250}.{n % 250 + 1}"
        _connect_from(self, self.address)
        self.document = f"AP{uuid.uuid4().hex[:10].upper()}"
        self.request: dict[str, str] | None = None

    def _headers(self, code: str | None = None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if code:
            headers["Authorization"] = f"Bearer {code}"
        return headers

    @task
    def follow_my_request(self) -> None:
        if self.request is None:
            with self.client.post(
                "/api/v1/requests",
                json=_body(self.document),
                headers=self._headers(),
                name="applicant: submit",
                catch_response=True,
            ) as response:
                if response.status_code == 201:
                    self.request = {"id": response.json()["id"], "code": response.json()["access_code"]}
                else:
                    response.failure(f"submit answered {response.status_code}")
            return
        request_id, code = self.request["id"], self.request["code"]
        with self.client.get(
            f"/api/v1/requests/{request_id}",
            headers=self._headers(code),
            name="applicant: status",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status answered {response.status_code}")
                return
            status = response.json()["status"]
        if status == "offered":
            accepted = self.client.post(
                f"/api/v1/requests/{request_id}/accept", headers=self._headers(code), name="applicant: accept"
            )
            if accepted.status_code == 200:
                OUTCOMES["applicant_bookings"] += 1


class Planner(HttpUser):
    """Publishes a small release now and then."""

    weight = 1
    wait_time = between(20, 40)

    @task
    def publish(self) -> None:
        if not PLANNER_KEY:
            return
        now = datetime.now(UTC)
        first = (now + timedelta(days=random.randint(3, 20))).replace(minute=0, second=0, microsecond=0)
        body = {
            "office": OFFICE,
            "service": SERVICE,
            "draw_at": (now + timedelta(seconds=15)).isoformat(),
            "slots": [
                {"starts_at": (first + timedelta(minutes=20 * i)).isoformat(), "desks": 2} for i in range(6)
            ],
        }
        self.client.post(
            "/api/v1/releases",
            json=body,
            headers={"Authorization": f"Bearer {PLANNER_KEY}"},
            name="planner: publish",
        )


class Bot(HttpUser):
    """Floods intake from a few addresses: fake identities, and one identity replayed."""

    weight = 3
    wait_time = between(0, 0.05)

    def on_start(self) -> None:
        self.address = f"127.0.1.{random.randint(1, 4)}"
        _connect_from(self, self.address)

    @task(3)
    def fake_identity(self) -> None:
        self._submit(f"BOT{uuid.uuid4().hex[:12].upper()}", "bot: fake identity")

    @task(1)
    def replayed_identity(self) -> None:
        self._submit("BOT-REPLAYED-0001", "bot: replayed identity")

    def _submit(self, document: str, name: str) -> None:
        with self.client.post(
            "/api/v1/requests",
            json=_body(document),
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code >= 500:
                response.failure(f"server error {response.status_code}")
            else:
                response.success()  # 201, 409 and 429 are the service doing its job
                key = "bot_accepted" if response.status_code == 201 else "bot_refused"
                OUTCOMES[key] += 1


class Scalper(HttpUser):
    """Books under many identities, then tries to pass each token to a buyer at the desk."""

    weight = 1
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.address = f"127.0.1.{random.randint(11, 12)}"
        _connect_from(self, self.address)
        self.held: list[dict[str, str]] = []

    def _headers(self, code: str | None = None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if code:
            headers["Authorization"] = f"Bearer {code}"
        return headers

    @task(2)
    def book_under_a_straw_name(self) -> None:
        with self.client.post(
            "/api/v1/requests",
            json=_body(f"STRAW{uuid.uuid4().hex[:10].upper()}"),
            headers=self._headers(),
            name="scalper: straw request",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                self.held.append({"id": response.json()["id"], "code": response.json()["access_code"]})
            if response.status_code < 500:
                response.success()

    @task(3)
    def sell_a_token(self) -> None:
        if not self.held:
            return
        held = random.choice(self.held)
        view = self.client.get(
            f"/api/v1/requests/{held['id']}", headers=self._headers(held["code"]), name="scalper: status"
        )
        if view.status_code != 200:
            return
        data = view.json()
        if data["status"] == "offered":
            view = self.client.post(
                f"/api/v1/requests/{held['id']}/accept",
                headers=self._headers(held["code"]),
                name="scalper: accept",
            )
            data = view.json() if view.status_code == 200 else data
        booking = data.get("booking")
        if not booking or not DESK_KEY:
            return
        OUTCOMES["scalper_bookings"] += 1
        OUTCOMES["transfers_tried"] += 1
        with self.client.post(
            "/api/v1/check-ins",
            json={
                "token": booking["token"],
                "document_number": f"BUYER{random.randint(1, 10**8)}",
                "birth_date": "1985-01-01",
            },
            headers={"Authorization": f"Bearer {DESK_KEY}"},
            name="scalper: buyer at the desk",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                OUTCOMES["transfers_admitted"] += 1
                response.failure("a transferred token was admitted")
            else:
                response.success()
        self.held.remove(held)


@events.quitting.add_listener
def _report(environment, **_kwargs) -> None:  # type: ignore[no-untyped-def]
    """Print what bots and scalpers obtained."""
    print("OUTCOMES " + " ".join(f"{key}={value}" for key, value in OUTCOMES.items()))
    if OUTCOMES["transfers_admitted"]:
        environment.process_exit_code = 1
