"""The ``fairslot`` command line."""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from app.settings import Settings, get_settings

app = typer.Typer(help="Fairslot: appointments by verifiable weighted lottery.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
admin_app = typer.Typer(help="Administration.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
keys_app = typer.Typer(help="Booking-token signing keys.", no_args_is_help=True)
claims_app = typer.Typer(help="Urgency claims.", no_args_is_help=True)
app.add_typer(claims_app, name="claims")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(audit_app, name="audit")

DEMO_KEY_FILE = Path(".fairslot-demo-key")


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)


def _log_config() -> dict[str, Any]:
    """uvicorn's logging plus the service's own loggers (``fairslot.*``) on stderr at INFO, in every worker
    process: the scheduler's news, warnings, and in development each SMS and e-mail the log outlets send."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["fairslot"] = {"format": LOG_FORMAT}
    config["handlers"]["fairslot"] = {
        "formatter": "fairslot",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["fairslot"] = {"handlers": ["fairslot"], "level": "INFO", "propagate": False}
    return config


def _settings() -> Settings:
    """The environment's settings, or exit 2 with what is wrong in them (no traceback)."""
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            typer.echo(f"invalid settings: {where + ': ' if where else ''}{error['msg']}", err=True)
        raise typer.Exit(2) from exc


def listening_url(host: str, port: int) -> str:
    """The base of links when ``FAIRSLOT_PUBLIC_URL`` is unset: the address ``serve`` listens on (a wildcard
    address is reached through the loopback; an IPv6 address is bracketed)."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


#: What ``serve`` prints on starting: every page and tool a newcomer looks for, with what it is.
WELCOME_PATHS = (
    ("/", "home page"),
    ("/apply", "apply for an appointment"),
    ("/status", "follow a request (id and access code)"),
    ("/check", "check a receipt or attestation"),
    ("/recover", "recover a lost access code"),
    ("/stats", "public statistics"),
    ("/docs", "API documentation (Swagger UI); /openapi.json, /api/v1"),
    ("/staff", "staff: releases, draws, offices, keys"),
    ("/desk", "desk: check-in"),
    ("/counter", "counter: file a request for someone"),
    ("/partner", "partners: requests filed for the people they accompany"),
    ("/claims", "verifiers: declared urgency claims"),
)


def welcome(base: str, *, dev_messages: bool) -> str:
    """The lines ``serve`` prints: each URL, then (in development) where messages go."""
    paths = [*WELCOME_PATHS]
    if dev_messages:
        paths.append(("/dev/messages", "development: the SMS and e-mails sent (one-time codes, offers)"))
    width = max(len(base + path) for path, _ in paths)
    lines = [f"Fairslot on {base}/"]
    lines += [f"  {(base + path).ljust(width)}  {what}" for path, what in paths]
    return "\n".join(lines)


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
    """Serve the HTTP API and web pages, with the in-process scheduler unless told not to.

    Several workers need a rate-limit store they all see: without ``FAIRSLOT_REDIS_URL`` each worker would
    keep its own budgets (N workers, N times the budget), so that is refused with the fix."""
    import uvicorn

    from app.http.server import HeaderTimeoutProtocol

    settings = _settings()
    if not settings.public_url_is_set:
        # Links (messages, receipts, attestations, draw pages) point where this server listens, in this
        # process and in the worker processes uvicorn starts (they inherit the environment).
        os.environ["FAIRSLOT_PUBLIC_URL"] = listening_url(host, port)
        get_settings.cache_clear()
        settings = _settings()
    if workers > 1 and settings.rate_limits == "on" and not settings.redis_url:
        typer.echo(
            f"refused: --workers {workers} without FAIRSLOT_REDIS_URL would give each worker its own rate "
            f"limits ({workers} times the budget). Share them through Redis:\n"
            f"  FAIRSLOT_REDIS_URL=redis://127.0.0.1:6379/0 fairslot serve --workers {workers}\n"
            "or serve with one worker (the default).",
            err=True,
        )
        raise typer.Exit(2)
    settings.secret_bytes()  # create the development secret once, before workers race to do it
    from app.services.beacons import rounds

    rounds.setup_for(settings)  # and the local beacon chain's key, when that is the configured chain
    os.environ["FAIRSLOT_SCHEDULER"] = "off" if no_scheduler else "on"
    typer.echo(welcome(settings.public_url, dev_messages=settings.dev_messages_enabled))
    if DEMO_KEY_FILE.exists():
        typer.echo(DEMO_KEY_FILE.read_text().rstrip())
    metrics_dir = _metrics_directory()
    try:
        uvicorn.run(
            "app.asgi:create",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # The app applies X-Forwarded-For itself, from FAIRSLOT_TRUSTED_PROXIES only (see app/main.py).
            proxy_headers=False,
            timeout_keep_alive=5,
            http=HeaderTimeoutProtocol,
            limit_concurrency=settings.max_concurrency,
            log_level="info",
            log_config=_log_config(),
            access_log=access_log,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _metrics_directory() -> Path | None:
    """Set up prometheus_client's multiprocess mode before any worker starts; returns a directory we made.

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is used as given (its stale value files are removed: values
    of processes from an earlier run must not be summed in); otherwise a fresh temporary directory is made
    and removed when the server stops.
    """
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
        return None
    made = Path(tempfile.mkdtemp(prefix="fairslot-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(made)
    return made


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run one pass and exit.")] = False,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker's Prometheus metrics on 127.0.0.1:PORT.")
    ] = None,
) -> None:
    """Run the scheduler alone: due draws, offer expiries, re-draws, no-shows, notifications."""
    import threading

    from app.runtime import Runtime
    from app.services import scheduler

    settings = _settings()
    if not settings.public_url_is_set:
        typer.echo(
            "refused: FAIRSLOT_PUBLIC_URL is unset. The worker writes the links of SMS and e-mails and "
            "cannot know where the site is served; give it the address `fairslot serve` answers on, e.g.\n"
            "  FAIRSLOT_PUBLIC_URL=http://127.0.0.1:8000 fairslot worker",
            err=True,
        )
        raise typer.Exit(2)
    _logging()
    runtime = Runtime.from_settings(settings)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        from app import metrics

        start_http_server(metrics_port, addr="127.0.0.1", registry=metrics.registry())
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
    """Apply Alembic migrations up to head, then derive again the person keys a migration marked."""
    from app.db.migrations import upgrade

    upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")
    _rekey_persons(quiet=True)


@db_app.command("rekey-persons")
def db_rekey_persons() -> None:
    """Derive again the person keys marked by a migration (needs the server secret)."""
    _rekey_persons(quiet=False)


def _rekey_persons(*, quiet: bool) -> None:
    from app.runtime import Runtime
    from app.services.intake import person_keys
    from app.services.unit_of_work import unit_of_work

    runtime = Runtime.from_settings()
    with unit_of_work(runtime.engine) as session:
        marked = person_keys.pending(session)
    if marked == 0:
        if not quiet:
            typer.echo("no person key to derive again")
        return
    report = person_keys.RekeyReport()
    while True:
        with unit_of_work(runtime.engine, runtime.clock) as session:
            if not person_keys.rekey_batch(
                session, pepper=runtime.pepper, now=runtime.clock.now(), report=report
            ):
                break
    typer.echo(
        f"person keys: {report.rekeyed} derived again, {report.unchanged} unchanged, "
        f"{report.duplicates} duplicates found (see the audit log), {report.unmatched} unmatched"
    )


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
    from app.services.staff import keys as staff_keys
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
    lines = [
        *(f"Demo {role} key: {key}" for role, key in result.keys.items()),
        f"Demo staff accounts (sign in at /staff/sign-in), password for each: {result.password}",
        *(
            f"Demo {a.role} account: {a.email} ({a.display_name}), TOTP secret: {a.totp_secret}"
            for a in result.accounts
        ),
        "A TOTP code: add the secret to an authenticator app, or run "
        "python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\"",
    ]
    DEMO_KEY_FILE.write_text("".join(line + "\n" for line in lines))
    DEMO_KEY_FILE.chmod(0o600)
    typer.echo(
        f"demo loaded: {result.offices} offices, {result.services} services, {result.releases} releases, "
        f"{result.applicants} applicants online, {result.counter_requests} filed at a counter, "
        f"{result.partner_requests} by a partner; draws at {result.draw_at.isoformat()}"
    )
    for line in lines:
        typer.echo(line)


#: The largest record ``verify-draw`` reads: a 1,000,000-entry record is about 150 MB of JSON.
RECORD_MAX_MB = 512
#: The whole download's deadline, however slowly the server sends.
RECORD_DEADLINE_SECONDS = 600.0
_MAX_REDIRECTS = 5


class RecordRefused(Exception):
    """The server's answer is not a record worth reading (another origin, too large, too slow)."""


async def _download(url: str, *, max_bytes: int, into: BinaryIO) -> None:
    import httpx

    current = httpx.URL(url)
    origin = (current.scheme, current.host, current.port)
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0), follow_redirects=False) as client:
        for _ in range(_MAX_REDIRECTS + 1):
            async with client.stream("GET", current, headers={"Accept-Encoding": "gzip"}) as response:
                if response.is_redirect:
                    target = current.join(response.headers.get("location", ""))
                    if (target.scheme, target.host, target.port) != origin:
                        raise RecordRefused(f"a redirect to another origin ({target.host}) was not followed")
                    current = target
                    continue
                response.raise_for_status()
                size = 0
                async for chunk in response.aiter_bytes():  # decoded: the cap is on the JSON itself
                    size += len(chunk)
                    if size > max_bytes:
                        raise RecordRefused(f"the record is larger than {max_bytes // 2**20} MB")
                    into.write(chunk)
                return
    raise RecordRefused(f"more than {_MAX_REDIRECTS} redirects")


def download_record(
    url: str, into: BinaryIO, *, deadline: float = RECORD_DEADLINE_SECONDS, max_mb: int = RECORD_MAX_MB
) -> None:
    """Download a record over HTTP into a file: gzip accepted, redirects within the same origin only, at
    most ``max_mb`` MB of JSON and ``deadline`` seconds in all (a drip-feeding server is cut off on time)."""
    import anyio

    async def bounded() -> None:
        try:
            with anyio.fail_after(deadline):
                await _download(url, max_bytes=max_mb * 2**20, into=into)
        except TimeoutError as exc:
            raise RecordRefused(f"the download took over {deadline:g} s") from exc

    anyio.run(bounded)


def fetch_record(
    url: str, *, deadline: float = RECORD_DEADLINE_SECONDS, max_mb: int = RECORD_MAX_MB
) -> object:
    """A record downloaded over HTTP (:func:`download_record`), loaded whole."""
    body = io.BytesIO()
    download_record(url, body, deadline=deadline, max_mb=max_mb)
    return json.loads(body.getvalue())


def _read_record(stream: BinaryIO) -> tuple[Any, Any]:
    """A record's fields but ``entries`` and its entries read, streamed when possible (a million-entry
    record never held whole), else loaded whole: the same verdict either way."""
    from app.domain.draws import draw_record, record_stream

    try:
        text = io.TextIOWrapper(stream, encoding="utf-8")
        try:
            return record_stream.read_record(text)
        finally:
            text.detach()
    except (record_stream.NotStreamable, UnicodeDecodeError):
        stream.seek(0)
        return draw_record.split_record(json.loads(stream.read()))


@app.command("verify-draw")
def verify_draw(
    source: Annotated[str, typer.Argument(help="A draw record file, or its URL.")],
    timeout: Annotated[
        float, typer.Option(help="Seconds the whole download may take.", min=1)
    ] = RECORD_DEADLINE_SECONDS,
    max_mb: Annotated[
        int, typer.Option(help="The largest record read, in MB of JSON.", min=1)
    ] = RECORD_MAX_MB,
    require_public_beacon: Annotated[
        bool,
        typer.Option(
            "--require-public-beacon",
            help="Fail unless the beacon is a verified round of a trusted public chain (not local, not none).",
        ),
    ] = False,
    trust_chain: Annotated[
        list[Path] | None,
        typer.Option(
            "--trust-chain",
            help="A drand chain info JSON file (its /info) to trust besides the League of Entropy's chains.",
        ),
    ] = None,
) -> None:
    """Recompute a draw record: exit 0 with a one-line verdict, or exit 1 with the differences.

    A ``fairslot-draw-v2`` record's beacon proof is checked too (chain trusted, BLS signature, round time
    at or after ``draw_at``, beacon = the round's randomness), and the trust that applies is printed.
    """
    from app.domain.draws import beacon, draw_record

    try:
        if source.startswith(("http://", "https://")):
            with tempfile.TemporaryFile() as downloaded:
                download_record(source, downloaded, deadline=timeout, max_mb=max_mb)
                downloaded.seek(0)
                header, entries = _read_record(downloaded)
        else:
            path = Path(source)
            if path.stat().st_size > max_mb * 2**20:
                raise RecordRefused(f"the record is larger than {max_mb} MB")
            with path.open("rb") as file:
                header, entries = _read_record(file)
        trusted = dict(beacon.LEAGUE_OF_ENTROPY)
        for chain_path in trust_chain or []:
            chain = beacon.Chain.from_info(json.loads(chain_path.read_text(encoding="utf-8")))
            trusted[chain.chain_hash] = chain
    except (OSError, ValueError, Exception) as exc:
        typer.echo(f"FAILED cannot read {source}: {exc}", err=True)
        raise typer.Exit(1) from exc
    check = draw_record.check_record(header, entries, trusted)
    differences = check.differences
    trust = draw_record.record_trust(header, trusted)
    if require_public_beacon and trust != beacon.TRUST_PUBLIC:
        differences = [*differences, f"beacon trust is {trust}, and --require-public-beacon asks for public"]
    verdict = draw_record.verdict_line(header, differences, counts=(check.entries, check.offered))
    typer.echo(f"{verdict}; beacon trust: {beacon.TRUST_LABELS[trust]}")
    for difference in differences:
        typer.echo(f"  {difference}")
    raise typer.Exit(1 if differences else 0)


@claims_app.command("import")
def claims_import(
    file: Annotated[Path, typer.Argument(help="The registry export (CSV), read and never stored.")],
    office: Annotated[str, typer.Option(help="The office whose registry this is.")],
) -> None:
    """Confirm or refute declared permit-expiry claims from the office's permit registry export.

    Rows are ``document_number,birth_date,permit_expires_on``, matched through the identity key. A
    malformed file changes nothing and names its first bad line (exit 1). Rows whose request a draw under
    way holds among its frozen entries are left for the next run and named (exit 1 once the rest is done).
    """
    from app.db.engine import session_scope
    from app.domain.errors import FairslotError
    from app.runtime import Runtime
    from app.services.claims import registry_import as registry

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"cannot read {file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    rows, malformed = registry.parse(text)
    if malformed:
        summary = registry.ImportSummary(rows=len(rows) + len(malformed), malformed=len(malformed))
        summary.first_malformed = malformed[0]
        for line in summary.lines():
            typer.echo(line)
        raise typer.Exit(1)
    runtime = Runtime.from_settings()
    try:
        with session_scope(runtime.engine) as session:
            summary = registry.import_registry(
                session=session,
                office=office.lower(),
                rows=rows,
                pepper=runtime.pepper,
                now=runtime.clock.now(),
            )
    except FairslotError as exc:
        typer.echo(f"refused: {exc.detail}", err=True)
        raise typer.Exit(2) from exc
    for line in summary.lines():
        typer.echo(line)
    if summary.held:
        raise typer.Exit(1)


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
    from app.services.bookings import token_keys
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
    from app.services.requests import purge as purge_service
    from app.services.unit_of_work import unit_of_work

    runtime = Runtime.from_settings()
    with unit_of_work(runtime.engine, runtime.clock) as session:
        count = purge_service.purge(session, older_than=timedelta(days=older_than), now=runtime.clock.now())
    typer.echo(f"purged personal data of {count} closed requests")


@app.command()
def simulate(
    scenario: Annotated[
        Path | None, typer.Option(help="A TOML scenario (default: the one shipped with Fairslot).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same results.")] = 1,
    out: Annotated[Path, typer.Option(help="Where summary.json, the plots and the reports go.")] = Path(
        "simulation"
    ),
) -> None:
    """First-come booking, lotteries and Fairslot with adaptive resellers, bots and false claims, on Fairslot's
    own rules: every section of summary.json, PNG plots and a self-contained report in English and French
    (report.html, report.fr.html)."""
    from rich.console import Console
    from rich.table import Table

    from app.simulation import run
    from app.simulation.plots import LABELS
    from app.simulation.scenario import ScenarioError, load

    try:
        chosen = load(scenario)
    except (OSError, ScenarioError) as exc:
        typer.echo(f"invalid scenario: {exc}", err=True)
        raise typer.Exit(2) from exc
    outputs = run.write(chosen, seed, out)
    data = outputs.summary
    m = chosen.market
    table = Table(
        title=f"{chosen.name} scenario, seed {seed}: {m.weeks} weekly releases of {m.slots_per_week} slots, "
        f"{m.oversubscription:g}x oversubscribed; resellers adapt",
        caption=run.fairslot_caption(chosen),
    )
    table.add_column("")
    for name in data["mechanisms"]:
        table.add_column(LABELS[name], justify="right")
    for row in run.table_rows(data):
        table.add_row(*row)
    best = [
        f"{data['best_response'][n]['strategy']} {data['best_response'][n]['reseller_profit_eur']:,.0f}"
        for n in data["mechanisms"]
    ]
    table.add_row("resellers' best strategy (EUR)", *best)
    console = Console(width=130)
    console.print(table)
    sensitivity = Table(
        title="Sensitivity: Fairslot when false or forged dates are caught only some of the time"
    )
    for column in (
        "detection",
        "claims checked",
        "expired vs first come",
        "false-claim wins",
        "best strategy",
    ):
        sensitivity.add_column(column, justify="right")
    for row in data["sensitivity"]:
        sensitivity.add_row(
            f"{row['registry_detection']:g}",
            row["claims_checked"],
            f"{row['expired_ratio_vs_fcfs']:.2f}" if row["expired_ratio_vs_fcfs"] is not None else "-",
            f"{100 * row['false_claim_win_share']:.1f} %",
            f"{row['best_strategy']} {row['reseller_profit_eur']:,.0f}",
        )
    console.print(sensitivity)
    fake_table = Table(
        title=f"Fake identities: a real applicant's chance in one draw of {m.slots_per_week} slots "
        f"among {outputs.real:,} real applicants"
    )
    for name in run.FAKE_COLUMNS:
        fake_table.add_column(name, justify="right")
    for row in run.fake_rows(data["fake_identities"]):
        fake_table.add_row(*row)
    console.print(fake_table)
    for path in outputs.files:
        console.print(f"wrote {path}")


@app.command("edge-config")
def edge_config(
    listen: Annotated[str, typer.Option(help="HOST:PORT nginx listens on (an IPv6 host in brackets).")],
    upstream: Annotated[
        str, typer.Option(help="The application's processes: HOST:PORT[,HOST:PORT...] (`fairslot serve`).")
    ],
    tls_cert: Annotated[Path | None, typer.Option(help="Certificate chain (PEM); with --tls-key.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Its private key (PEM).")] = None,
    static_root: Annotated[
        Path | None, typer.Option(help="The static files to serve (default: this installation's).")
    ] = None,
) -> None:
    """Print the production edge's nginx configuration (deploy/nginx/), filled in for these addresses.

    Run it with ``nginx -p DIR -c FILE``: pid, logs and temporary files live under DIR. Its per-address
    limits key on the connecting address; its body limits are the application's."""
    from app.http import edge
    from app.web import STATIC_DIR

    try:
        chosen = edge.edge_settings(
            listen=listen,
            upstreams=upstream,
            static_root=static_root or STATIC_DIR,
            tls_cert=tls_cert,
            tls_key=tls_key,
            max_body_bytes=get_settings().max_body_bytes,
        )
    except edge.EdgeConfigError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(edge.render(chosen), nl=False)


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
