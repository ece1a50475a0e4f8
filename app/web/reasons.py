"""Weight factor reasons in the reader's language, rendered from each factor's ``code`` and ``params``.

The codes and their params are listed in ``app.domain.weights``. A code this module does not know (a newer
server, a new factor) is shown as the factor's English ``reason``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from babel.support import NullTranslations

from app.schemas.requests import FactorPublic
from app.web.i18n import N_, fmt_date
from app.web.labels import VULNERABILITY

Render = Callable[[NullTranslations, Mapping[str, Any], str], str]


def _vulnerabilities(t: NullTranslations, codes: list[str]) -> str:
    return ", ".join(t.gettext(VULNERABILITY[c]) if c in VULNERABILITY else c for c in codes)


def _draw_days_lost(t: NullTranslations, p: Mapping[str, Any], lang: str) -> str:
    text = t.ngettext(
        "%(num)d day of draws entered without a win", "%(num)d days of draws entered without a win", p["days"]
    ) % {"num": p["days"]}
    return text + (t.gettext(" (maximum reached)") if p.get("capped") else "")


_RENDER: dict[str, Render] = {
    "no_expiry_date": lambda t, p, lang: t.gettext("no permit expiry date given"),
    "permit_expired": lambda t, p, lang: (
        t.ngettext("permit expired %(num)d day ago", "permit expired %(num)d days ago", p["days"])
        % {"num": p["days"]}
    ),
    "permit_expires_within": lambda t, p, lang: (
        t.ngettext(
            "permit expires in %(num)d day (%(within)d days or less)",
            "permit expires in %(num)d days (%(within)d days or less)",
            p["days"],
        )
        % {"num": p["days"], "within": p["within_days"]}
    ),
    "permit_expires_later": lambda t, p, lang: (
        t.ngettext("permit expires in %(num)d day", "permit expires in %(num)d days", p["days"])
        % {"num": p["days"]}
    ),
    "vulnerability_declared": lambda t, p, lang: (
        t.gettext("declared situation (%(situations)s), checked at the desk")
        % {"situations": _vulnerabilities(t, list(p["vulnerabilities"]))}
    ),
    "no_vulnerability": lambda t, p, lang: t.gettext("no situation of vulnerability declared"),
    "no_draw_lost": lambda t, p, lang: t.gettext("no draw entered and lost yet"),
    "draw_days_lost": _draw_days_lost,
    "no_show_within": lambda t, p, lang: (
        t.gettext("appointment missed on %(day)s (less than %(window)d days ago)")
        % {"day": fmt_date(date.fromisoformat(p["missed_on"]), lang), "window": p["window_days"]}
    ),
    "no_no_show": lambda t, p, lang: (
        t.gettext("no appointment missed in the last %(window)d days") % {"window": p["window_days"]}
    ),
    "office_cancelled": lambda t, p, lang: (
        t.gettext(
            "the office cancelled your appointment or offer on %(day)s: you come first until your next offer"
        )
        % {"day": fmt_date(date.fromisoformat(p["cancelled_on"]), lang)}
    ),
}


#: What a claim's status adds to a factor's reason when it holds the factor at 1 (see ``app.domain.claims``).
_HELD_BACK = {
    "declared": N_("not counted until the claim is checked"),
    "refuted": N_("not counted: the claim was found false"),
    "not_evidenced": N_("not counted: the claim could not be checked"),
}


def factor_reason(factor: FactorPublic, translations: NullTranslations, lang: str) -> str:
    """Why ``factor`` applies, in the reader's language (its English reason when the code is unknown)."""
    render = _RENDER.get(factor.code)
    if render is None:
        return factor.reason
    reason = render(translations, factor.params, lang)
    held = factor.params.get("held_back")
    if held is None:
        return reason
    return f"{reason}; {translations.gettext(_HELD_BACK.get(str(held), N_('not counted')))}"
