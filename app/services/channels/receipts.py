"""The printable receipt: one A4 page with the statement, the attestation as a QR code, and how to check it.

Rendered by WeasyPrint from a Jinja template (HarfBuzz shapes Arabic and lays it right to left) with the
DejaVu fonts Debian ships (``fonts-dejavu-core``, installed by ``.ci/browser-deps``). The access code is
never on it: a receipt may be handed to an employer. Each receipt carries a freshly signed attestation.
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_timezone_location
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Office, Service
from app.domain.proofs.qr import qr_svg
from app.services.channels import attestations
from app.services.channels.receipt_texts import CHANNEL, OUTCOME, RTL, STATUS, TEXTS, language_of

#: Draws listed in words on the page (the latest); the attestation states them all.
DRAWS_SHOWN = 8
#: The signed text is printed when it fits the page's foot; longer ones are opened by the QR link.
TOKEN_PRINTED_UP_TO = 2600

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "receipt_templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


#: Unicode isolates: a name of either direction keeps its own order inside a sentence of the other direction.
FIRST_STRONG_ISOLATE, POP_ISOLATE = "\u2068", "\u2069"


def url_in_text(url: str) -> Markup:
    """A URL inside a sentence: one left-to-right run, never broken across lines (an Arabic receipt would
    otherwise lay ``http://…/check`` out as ``/…  http://`` and ``check`` on the next line)."""
    return Markup('<span class="url" dir="ltr">{}</span>').format(url)


def isolated(text: str) -> str:
    """``text`` (a name) laid out in its own direction, without reordering the sentence around it."""
    return f"{FIRST_STRONG_ISOLATE}{text}{POP_ISOLATE}"


def _when(moment: datetime | str, lang: str, zone: ZoneInfo) -> str:
    """A date and time in the office's zone, named ("1 décembre 2026, 09:00 (heure de Paris)")."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    locale = "en_GB" if lang == "en" else lang
    city = get_timezone_location(zone, locale=locale, return_city=True)
    when = format_datetime(value, "d MMMM y, HH:mm", tzinfo=zone, locale=locale)
    return f"{when} ({TEXTS[language_of(lang)]['zone_time'] % {'city': city}})"


def receipt_html(
    *, session: Session, request: AppointmentRequest, now: datetime, secret: bytes, public_url: str, lang: str
) -> str:
    """The receipt as HTML in ``lang`` (French, English or Arabic), with a new attestation."""
    lang = language_of(lang)
    issued = attestations.issue(
        session=session, request=request, now=now, secret=secret, public_url=public_url
    )
    statement = issued.statement
    offices = {
        o.code: o for o in session.exec(select(Office).where(col(Office.code).in_(request.offices))).all()
    }
    service = session.get(Service, request.service_id)
    assert service is not None
    zone = ZoneInfo(offices[request.offices[0]].timezone)
    t = TEXTS[lang]
    all_draws = [
        t["draw_line"]
        % {
            "draw": d["draw_id"],
            "office": isolated(offices[d["office"]].name if d["office"] in offices else d["office"]),
            "at": _when(d["drawn_at"], lang, zone),
            "outcome": OUTCOME[lang].get(d["outcome"], d["outcome"]),
        }
        for d in statement["draws"]
    ]
    # One page whatever the history: the latest draws in words, every draw in the signed statement.
    draws = all_draws[-DRAWS_SHOWN:]
    earlier = len(all_draws) - len(draws)
    base = public_url.rstrip("/")
    qr = "data:image/svg+xml;base64," + base64.b64encode(qr_svg(issued.check_url).encode()).decode("ascii")
    return _ENV.get_template("receipt.html").render(
        lang=lang,
        rtl=lang in RTL,
        t=t,
        statement=statement,
        service_name=service.name,
        office_names=[offices[code].name if code in offices else code for code in request.offices],
        channel=CHANNEL[lang].get(request.channel, request.channel),
        submitted_at=_when(request.submitted_at, lang, zone),
        issued_at=_when(now, lang, zone),
        status=STATUS[lang].get(request.status, request.status),
        draws=draws,
        earlier_draws=t["earlier_draws"] % {"count": earlier} if earlier else None,
        print_token=len(issued.token) <= TOKEN_PRINTED_UP_TO,
        check_how=escape(t["check_how"])
        % {"check": url_in_text(f"{base}/check"), "keys": url_in_text(f"{base}/api/v1/token-keys")},
        check_url=issued.check_url,
        qr=qr,
        token=issued.token,
    )


def receipt_pdf(
    *, session: Session, request: AppointmentRequest, now: datetime, secret: bytes, public_url: str, lang: str
) -> bytes:
    """The receipt as a one-page PDF."""
    # Imported on first use: loading Pango costs a second at start-up.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = receipt_html(
        session=session, request=request, now=now, secret=secret, public_url=public_url, lang=lang
    )
    # Only the template's own data: images load: a receipt never fetches anything from anywhere.
    inline_only = URLFetcher(allowed_protocols={"data"})
    pdf: bytes = HTML(string=html, url_fetcher=inline_only).write_pdf()
    return pdf
