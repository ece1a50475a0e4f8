"""The draw's public randomness: which chain new releases use, and fetching a release's round from relays.

A release fixes its round when it is created (``app.domain.draws.beacon``). Once the round's time has come, the
scheduler (and a planner's "draw now") fetches it from the configured relays, tries each in turn, each with
one deadline for its whole answer (``relay_client``: a relay that trickles bytes cannot hold a pass or a
request longer), accepts the first whose BLS signature verifies, and stores the proof on the release; the
draw then uses its randomness and nothing else. No database transaction is open while a relay is asked:
the release is read in one short transaction and the proof written in another (any number of workers may
fetch the same round: it is the same round, the first write wins).

The local chain (``FAIRSLOT_BEACON_CHAIN=local``, the offline embedded default) is a BLS key this process
generates on first run into a file (like the secret file, mode 0600); it signs each round once its time has
come, and the process serves those rounds as a drand relay at ``/beacon``. It proves nothing against whoever
runs the host, and says so everywhere; production mode refuses it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import col, select

from app.db.models import Release, Service
from app.domain.draws import beacon
from app.domain.draws.beacon import Chain, Round
from app.domain.errors import BeaconPending, BeaconUnavailable, NotFound
from app.domain.statuses import ReleaseStatus
from app.services.beacons import relay_client
from app.services.unit_of_work import unit_of_work
from app.settings import Settings

log = logging.getLogger("fairslot.beacon")

#: ``weight_policy.beacon``: ``drand`` (the configured chain, the default) or ``none`` (v1 draws).
NONE = "none"


@dataclass(frozen=True)
class BeaconSetup:
    """The configured chain, the chains this process knows, its relays, and the local chain's key."""

    chain: Chain | None
    relays: tuple[str, ...] = ()
    timeout: float = 2.0
    local_key: bytes | None = field(default=None, repr=False)
    known: Mapping[str, Chain] = field(default_factory=dict)

    def chain_for(self, service: Service) -> Chain | None:
        """The chain a new release of ``service`` fixes its round on (None: v1, no beacon)."""
        policy = service.weight_policy or {}
        if policy.get("beacon") == NONE:
            return None
        return self.chain


def load_local_key(path: Path, *, period: int, now: float | None = None) -> tuple[bytes, Chain]:
    """The local chain's key, generated into ``path`` (mode 0600) on first use, and its public chain."""
    if not path.exists():
        genesis = int(now if now is not None else time.time())
        secret = beacon.new_local_key(secrets.token_bytes(32))
        content = json.dumps({"secret_key": secret.hex(), "genesis_time": genesis, "period": period})
        # Written whole into a private file (0600 from the start), then linked into place: processes that
        # start together never read half a key, and the first one's key wins.
        draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(content)
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink(missing_ok=True)
    stored = json.loads(path.read_text())
    secret = bytes.fromhex(stored["secret_key"])
    return secret, beacon.local_chain(
        secret, genesis_time=int(stored["genesis_time"]), period=int(stored["period"])
    )


def setup_for(settings: Settings) -> BeaconSetup:
    """The beacon setup a process runs with (cached per settings)."""
    return _setup(settings)


@lru_cache(maxsize=8)
def _setup(settings: Settings) -> BeaconSetup:
    name = settings.effective_beacon_chain
    known = dict(beacon.LEAGUE_OF_ENTROPY)
    relays = tuple(settings.beacon_relays)
    timeout = settings.beacon_timeout_seconds
    if name == NONE:
        return BeaconSetup(None, relays, timeout, known=known)
    if name == "local":
        key, chain = load_local_key(settings.beacon_key_file, period=settings.beacon_local_period_seconds)
        known[chain.chain_hash] = chain
        return BeaconSetup(chain, relays, timeout, local_key=key, known=known)
    if name in beacon.BY_NAME:
        return BeaconSetup(beacon.BY_NAME[name], relays, timeout, known=known)
    # Another chain, given by its info as JSON: trusted because the operator configured its key.
    chain = beacon.Chain.from_info(json.loads(name), trust=beacon.TRUST_PUBLIC)
    known[chain.chain_hash] = chain
    return BeaconSetup(chain, relays, timeout, known=known)


def forget_setups() -> None:
    """Drop cached setups (tests that build several)."""
    _setup.cache_clear()


def fetch_round(
    setup: BeaconSetup, chain: Chain, round_number: int, now: datetime, down: set[str] | None = None
) -> Round:
    """The round, verified: from the local signer for the local chain, else from the first relay that
    serves it with a valid signature. ``BeaconPending`` when it is not out yet, ``BeaconUnavailable`` when no
    relay gave a valid one.

    Each relay has ``setup.timeout`` seconds for its whole answer (``relay_client``), so a fetch takes at most
    that times the number of relays. ``down`` collects the relays that could not answer (unreachable, too
    slow): the caller's later fetches skip them, so one scheduler pass pays each dead relay once."""
    out_at = chain.round_time(round_number)
    if now < out_at:
        raise BeaconPending(
            f"round {round_number} of chain {chain.name or chain.chain_hash} is out at {out_at.isoformat()}",
            round=round_number,
            out_at=out_at.isoformat(),
        )
    if setup.local_key is not None and setup.chain is not None and chain.chain_hash == setup.chain.chain_hash:
        signed = beacon.sign_round(setup.local_key, round_number)
        try:
            beacon.verify_round(chain, signed)  # the key file matches the chain releases were fixed on
        except beacon.BeaconInvalid as exc:
            raise BeaconUnavailable(f"the local chain's key does not sign round {round_number}") from exc
        return signed
    if not setup.relays:
        raise BeaconUnavailable("no beacon relay is configured (FAIRSLOT_BEACON_URLS)")
    problems: list[str] = []
    not_yet = 0
    down = set() if down is None else down
    for relay in setup.relays:
        if relay in down:
            problems.append(f"{relay}: skipped (it could not answer a moment ago)")
            continue
        url = f"{relay}/{chain.chain_hash}/public/{round_number}"
        try:
            answer = relay_client.get(url, deadline=setup.timeout)
        except relay_client.FAILURES as exc:
            down.add(relay)
            problems.append(f"{relay}: {type(exc).__name__}")
            continue
        if answer.status in (404, 425):
            not_yet += 1
            problems.append(f"{relay}: round not published yet ({answer.status})")
            continue
        if answer.status != 200:
            problems.append(f"{relay}: HTTP {answer.status}")
            continue
        try:
            body = json.loads(answer.body)
            published = _parse_round(body, round_number)
            randomness = beacon.verify_round(chain, published)
        except (ValueError, TypeError, KeyError, RecursionError) as exc:  # BeaconInvalid is a ValueError
            log.warning("relay %s served an invalid round %s: %s", relay, round_number, exc)
            problems.append(f"{relay}: invalid round ({type(exc).__name__})")
            continue
        served = body.get("randomness")
        if served is not None and served != randomness:
            problems.append(f"{relay}: randomness is not sha256(signature)")
            continue
        return published
    detail = "; ".join(problems)[:280]
    if not_yet and not_yet == len(problems):
        raise BeaconPending(f"round {round_number} is not published yet: {detail}", round=round_number)
    raise BeaconUnavailable(f"no relay gave round {round_number} with a valid signature: {detail}")


def _parse_round(body: Any, round_number: int) -> Round:
    if not isinstance(body, Mapping):
        raise ValueError("not a JSON object")
    if body.get("round") != round_number:
        raise ValueError(f"round {body.get('round')!r} served for {round_number}")
    signature = body.get("signature")
    previous = body.get("previous_signature")
    if not isinstance(signature, str) or not (previous is None or isinstance(previous, str)):
        raise ValueError("signature fields are not strings")
    return Round(round_number, signature.lower(), previous.lower() if previous else None)


@dataclass(frozen=True)
class _Due:
    release_id: int
    chain_hash: str
    round: int


def obtain(*, engine: Engine, setup: BeaconSetup, release_id: int, now: datetime) -> str | None:
    """The release's randomness, fetching and storing its round first if needed (None: a v1 release).

    Raises ``BeaconPending`` / ``BeaconUnavailable`` (and records the attempt on the release) while it
    cannot be had. Opens its own short transactions: call it with no transaction of the caller's open.
    """
    with unit_of_work(engine) as session:
        release = session.get(Release, release_id)
        if release is None:
            raise NotFound(f"no release {release_id}")
        if release.beacon_round is None or release.beacon_chain is None:
            return None
        if release.beacon_randomness is not None:
            return release.beacon_randomness
        due = _Due(release_id, release.beacon_chain, release.beacon_round)
    return _fetch_and_store(engine, setup, due, now)


def _fetch_and_store(
    engine: Engine,
    setup: BeaconSetup,
    due: _Due,
    now: datetime,
    fetched: dict[tuple[str, int], Round] | None = None,
    down: set[str] | None = None,
) -> str:
    chain = setup.known.get(due.chain_hash)
    if chain is not None and now < chain.round_time(due.round):
        fetch_round(setup, chain, due.round, now)  # raises BeaconPending: nothing asked, nothing recorded
    try:
        if chain is None:
            raise BeaconUnavailable(f"chain {due.chain_hash} is not configured on this service")
        published = (fetched or {}).get((due.chain_hash, due.round)) or fetch_round(
            setup, chain, due.round, now, down
        )
        randomness = published.randomness  # fetch_round returns only rounds whose signature verified
        if fetched is not None:
            fetched[(due.chain_hash, due.round)] = published
    except (BeaconPending, BeaconUnavailable) as exc:
        with unit_of_work(engine) as session:
            session.execute(
                update(Release)
                .where(col(Release.id) == due.release_id, col(Release.beacon_randomness).is_(None))
                .values(beacon_checked_at=now, beacon_error=exc.detail[:300])
            )
        raise
    with unit_of_work(engine) as session:
        session.execute(
            update(Release)
            .where(col(Release.id) == due.release_id, col(Release.beacon_randomness).is_(None))
            .values(
                beacon_proof=beacon.proof(chain, published),
                beacon_randomness=randomness,
                beacon_checked_at=now,
                beacon_error=None,
            )
        )
        stored = session.get(Release, due.release_id)
        assert stored is not None and stored.beacon_randomness is not None
        return stored.beacon_randomness


def fetch_due(*, engine: Engine, setup: BeaconSetup, now: datetime, retry_after: timedelta) -> list[int]:
    """The scheduler's step: fetch the rounds of due releases still waiting for one; the ids now ready."""
    with unit_of_work(engine) as session:
        waiting = session.exec(
            select(Release)
            .where(
                Release.status == ReleaseStatus.SCHEDULED,
                Release.draw_at <= now,
                col(Release.beacon_round).is_not(None),
                col(Release.beacon_randomness).is_(None),
            )
            .order_by(col(Release.draw_at), col(Release.id))
            .limit(50)
        ).all()
        due = []
        for release in waiting:
            assert release.id is not None and release.beacon_chain and release.beacon_round
            chain = setup.known.get(release.beacon_chain)
            out_at = chain.round_time(release.beacon_round) if chain else now
            recent = release.beacon_checked_at is not None and release.beacon_checked_at > now - retry_after
            # A round not out yet costs nothing to wait for; a failed fetch is retried after a pause, so
            # hanging relays never hold up the scheduler's other jobs on every pass.
            if out_at <= now and not recent:
                due.append(_Due(release.id, release.beacon_chain, release.beacon_round))
    ready = []
    fetched: dict[tuple[str, int], Round] = {}  # releases drawn at one time share their round: ask once
    down: set[str] = set()  # relays that could not answer: this pass asks them no more
    for item in due:
        try:
            _fetch_and_store(engine, setup, item, now, fetched, down)
        except (BeaconPending, BeaconUnavailable) as exc:
            log.info("release %s waits for its public round: %s", item.release_id, exc.detail)
            continue
        ready.append(item.release_id)
    return ready


def waiting_for_round(release: Release, now: datetime) -> bool:
    """Whether a due release waits for its public round (shown as "waiting for the public round")."""
    return (
        release.status == ReleaseStatus.SCHEDULED
        and release.beacon_round is not None
        and release.beacon_randomness is None
        and now >= release.draw_at
    )


def release_source(release: Release) -> dict[str, Any] | None:
    """The release's public beacon source, or None for a v1 release."""
    if release.beacon_round is None or release.beacon_chain is None:
        return None
    return {"scheme": "drand", "chain_hash": release.beacon_chain, "round": release.beacon_round}


def round_out_at(setup: BeaconSetup, release: Release) -> datetime | None:
    """When the release's round is published (None for v1 or an unknown chain)."""
    if release.beacon_round is None or release.beacon_chain is None:
        return None
    chain = setup.known.get(release.beacon_chain)
    return chain.round_time(release.beacon_round) if chain else None
