"""The Jinja2 environment of the pages (autoescaped, i18n extension) and the one function that renders them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context
from starlette.responses import HTMLResponse

from app.domain.access import Action
from app.web import i18n, labels
from app.web.csrf import FIELD as CSRF_FIELD
from app.web.page import Page

TEMPLATES_DIR = Path(__file__).parent / "templates"

_LABELS: dict[str, dict[str, str]] = {
    "request_status": labels.REQUEST_STATUS,
    "booking_status": labels.BOOKING_STATUS,
    "release_status": labels.RELEASE_STATUS,
    "release_kind": labels.RELEASE_KIND,
    "beacon_trust": labels.BEACON_TRUST,
    "beacon_status": labels.BEACON_STATUS,
    "outcome": labels.OUTCOME,
    "factor": labels.FACTOR,
    "vulnerability": labels.VULNERABILITY,
    "document_type": labels.DOCUMENT_TYPE,
    "role": labels.ROLE,
    "message_channel": labels.MESSAGE_CHANNEL,
    "message_status": labels.MESSAGE_STATUS,
    "message_kind": labels.MESSAGE_KIND,
    "error": labels.ERROR,
    "channel": labels.CHANNEL,
    "attestation_reason": labels.ATTESTATION_REASON,
    "claim": labels.CLAIM,
    "claim_status": labels.CLAIM_STATUS,
    "claim_verdict": labels.CLAIM_VERDICT,
    "verification_method": labels.VERIFICATION_METHOD,
}


def _translations(context: Context) -> NullTranslations:
    found = context.get("translations")
    return found if isinstance(found, NullTranslations) else i18n.translations(i18n.DEFAULT_LANGUAGE)


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _translations(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _translations(context).ngettext(singular, plural, n)


@pass_context
def _label(context: Context, kind: str, code: str | None) -> str:
    """A code's plain-language label in the reader's language (the code itself when unknown)."""
    if code is None:
        return ""
    message = _LABELS[kind].get(code)
    return _translations(context).gettext(message) if message else code


@pass_context
def _dt(context: Context, moment: Any, timezone: str | None = None) -> str:
    return i18n.fmt_datetime(moment, context["lang"], timezone)


@pass_context
def _dt_short(context: Context, moment: Any, timezone: str | None = None) -> str:
    return i18n.fmt_datetime_short(moment, context["lang"], timezone)


@pass_context
def _time(context: Context, moment: Any, timezone: str | None = None) -> str:
    return i18n.fmt_time(moment, context["lang"], timezone)


@pass_context
def _date(context: Context, day: Any) -> str:
    return i18n.fmt_date(day, context["lang"])


@pass_context
def _date_iso(context: Context, day: Any) -> str:
    """An ISO date string (as claims declare them) in the reader's language."""
    try:
        return i18n.fmt_date(date.fromisoformat(str(day)), context["lang"])
    except ValueError:
        return str(day)


@pass_context
def _number(context: Context, value: Any) -> str:
    return i18n.fmt_number(value, context["lang"])


@pass_context
def _weekdays(context: Context) -> list[tuple[str, str]]:
    return i18n.weekday_options(context["lang"])


def _make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["label"] = _label
    env.globals["weekday_options"] = _weekdays
    env.globals["language_name"] = i18n.native_name  # a language named in itself (Français, العربية)
    env.globals["csrf_field_name"] = CSRF_FIELD
    env.globals["Action"] = Action  # templates decide buttons with staff.can(Action.X, office)
    env.filters.update(dt=_dt, dt_short=_dt_short, time=_time, date=_date, date_iso=_date_iso, number=_number)
    return env


ENV = _make_environment()


def _language_links(page: Page) -> list[dict[str, Any]]:
    """The switcher: each language named in itself, on this page (staff pages offer their two)."""
    query = [(k, v) for k, v in page.request.query_params.multi_items() if k != "lang"]
    offered = i18n.STAFF_LANGUAGES if i18n.is_staff_path(page.request.url.path) else i18n.LANGUAGES
    return [
        {
            "code": code,
            "name": i18n.native_name(code),
            "dir": i18n.direction(code),
            "href": page.request.url.path + "?" + urlencode([*query, ("lang", code)]),
            "current": code == page.lang,
        }
        for code in offered
    ]


def render(page: Page, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` for ``page`` in its language, with its cookies and no caching."""
    values: dict[str, Any] = {
        "lang": page.lang,
        "dir": i18n.direction(page.lang),
        "translations": page.translations,
        "csrf_token": page.session.csrf,
        "language_links": _language_links(page),
        "path": page.request.url.path,
        "staff_signed_in": page.staff is not None,
        # Every staff page says who is signed in, with their roles and offices.
        "signed_in": page.staff if i18n.is_staff_path(page.request.url.path) else None,
        **context,
    }
    html = ENV.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language, Cookie"
    page.finish(response)
    return response
