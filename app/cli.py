"""The ``fairslot`` command line."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from app.settings import get_settings

app = typer.Typer(help="Fairslot: appointments by verifiable weighted lottery.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
admin_app = typer.Typer(help="Administration.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
keys_app = typer.Typer(help="Booking-token signing keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(audit_app, name="audit")

DEMO_KEY_FILE = Path(".fairslot-demo-key")


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Leave scheduling to `fairslot worker`.")
    ] = False,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Serve the HTTP API and web pages, with the in-process scheduler unless told not to."""
    import uvicorn

    settings = get_settings()
    settings.secret_bytes()  # create the development secret once, before workers race to do it
    os.environ["FAIRSLOT_SCHEDULER"] = "off" if no_scheduler else "on"
    base = f"http://{host}:{port}"
    typer.echo(f"Fairslot on {base}/  (API {base}/api/v1, OpenAPI {base}/openapi.json, staff {base}/staff)")
    if DEMO_KEY_FILE.exists():
        typer.echo(DEMO_KEY_FILE.read_text().rstrip())
    uvicorn.run(
        "app.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # The app applies X-Forwarded-For itself, from FAIRSLOT_TRUSTED_PROXIES only (see app/main.py).
        proxy_headers=False,
        timeout_keep_alive=5,
        log_level="info",
        access_log=access_log,
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run one pass and exit.")] = False,
) -> None:
    """Run the scheduler alone: due draws, offer expiries, re-draws, no-shows, notifications."""
    import threading

    from app.runtime import Runtime
    from app.services import scheduler

    _logging()
    runtime = Runtime.from_settings()
    if once:
        report = scheduler.tick(runtime)
        typer.echo(json.dumps({"draws": report.draws}))
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        scheduler.run_forever(runtime, stop)
    except KeyboardInterrupt:
        stop.set()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply Alembic migrations up to head."""
    from app.db.migrations import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@admin_app.command("create-key")
def create_key(
    role: Annotated[str, typer.Option(help="admin, planner, desk or auditor.")],
    office: Annotated[list[str] | None, typer.Option(help="Office code in scope (repeatable).")] = None,
    label: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
) -> None:
    """Create a staff key and print the key alone on stdout."""
    from pydantic import ValidationError

    from app.domain.errors import FairslotError
    from app.runtime import Runtime
    from app.schemas.staff import StaffKeyCreate
    from app.services import staff_keys
    from app.services.unit_of_work import unit_of_work

    try:
        data = StaffKeyCreate(role=role, offices=office or [], label=label)
    except ValidationError as exc:
        typer.echo(f"invalid key: {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(2) from exc
    runtime = Runtime.from_settings()
    try:
        with unit_of_work(runtime.engine, runtime.clock) as session:
            _row, key = staff_keys.create_key(session=session, data=data, staff=staff_keys.operator("cli"))
    except FairslotError as exc:
        typer.echo(f"refused: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(key)


@app.command()
def demo(
    applicants: Annotated[int, typer.Option(help="How many demo applicants.")] = 50,
    draw_in_minutes: Annotated[int, typer.Option(help="Minutes until the demo draws.")] = 5,
) -> None:
    """Load demo offices, services, releases and applicants into an empty database."""
    from app import demo as demo_service
    from app.runtime import Runtime

    runtime = Runtime.from_settings()
    result = demo_service.load(runtime, applicants=applicants, draw_in_minutes=draw_in_minutes)
    if result is None:
        typer.echo("database not empty: demo data not loaded")
        return
    DEMO_KEY_FILE.write_text("".join(f"Demo {role} key: {key}\n" for role, key in result.keys.items()))
    DEMO_KEY_FILE.chmod(0o600)
    typer.echo(
        f"demo loaded: {result.offices} offices, {result.services} services, {result.releases} releases, "
        f"{result.applicants} applicants; draws at {result.draw_at.isoformat()}"
    )
    for role, key in result.keys.items():
        typer.echo(f"Demo {role} key: {key}")


@app.command("verify-draw")
def verify_draw(source: Annotated[str, typer.Argument(help="A draw record file, or its URL.")]) -> None:
    """Recompute a draw record: exit 0 with a one-line verdict, or exit 1 with the differences."""
    from app.domain import draw_record

    try:
        if source.startswith(("http://", "https://")):
            import httpx

            response = httpx.get(source, timeout=60, follow_redirects=True)
            response.raise_for_status()
            record = response.json()
        else:
            record = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError, Exception) as exc:
        typer.echo(f"FAILED cannot read {source}: {exc}", err=True)
        raise typer.Exit(1) from exc
    differences = draw_record.verify_record(record)
    typer.echo(draw_record.verdict_line(record, differences))
    for difference in differences:
        typer.echo(f"  {difference}")
    raise typer.Exit(1 if differences else 0)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit chain: exit 0 when intact, 1 listing each edited or removed row."""
    from app.runtime import Runtime
    from app.services import audit
    from app.services.unit_of_work import unit_of_work

    runtime = Runtime.from_settings()
    with unit_of_work(runtime.engine, runtime.clock) as session:
        count, problems = audit.verify(session)
    if problems:
        typer.echo(f"FAILED audit chain: {len(problems)} problems in {count} events")
        for p in problems:
            typer.echo(f"  event {p.event_id}: {p.problem}")
        raise typer.Exit(1)
    typer.echo(f"OK audit chain intact: {count} events")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a new signing key id; tokens signed by earlier keys verify until they expire."""
    from app.runtime import Runtime
    from app.services import token_keys
    from app.services.unit_of_work import unit_of_work

    runtime = Runtime.from_settings()
    with unit_of_work(runtime.engine, runtime.clock) as session:
        token_keys.load_keyring(session, runtime.secret, runtime.clock.now())
        kid = token_keys.rotate(session, runtime.clock.now())
    typer.echo(kid)


@app.command()
def purge(
    older_than: Annotated[int, typer.Option("--older-than", help="Days since the request closed.", min=0)],
) -> None:
    """Remove names and contact details of requests closed more than DAYS ago."""
    from datetime import timedelta

    from app.runtime import Runtime
    from app.services import purge as purge_service
    from app.services.unit_of_work import unit_of_work

    runtime = Runtime.from_settings()
    with unit_of_work(runtime.engine, runtime.clock) as session:
        count = purge_service.purge(session, older_than=timedelta(days=older_than), now=runtime.clock.now())
    typer.echo(f"purged personal data of {count} closed requests")


@app.command("wait-ready", hidden=True)
def wait_ready(url: str = "http://127.0.0.1:8000/readyz", seconds: float = 30) -> None:
    """Wait until the service answers (used by scripts)."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit(1)


if __name__ == "__main__":
    app()
