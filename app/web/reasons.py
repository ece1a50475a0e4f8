"""Weight factor reasons in the reader's language.

The services explain each factor in English (``permit expires in 12 days (within 30)``); the pages show the
same explanation translated. A reason this module does not know is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from babel.support import NullTranslations

from app.web.i18n import N_, fmt_date
from app.web.labels import VULNERABILITY


def _vulnerabilities(t: NullTranslations, codes: str) -> str:
    names = [t.gettext(VULNERABILITY[c]) if c in VULNERABILITY else c for c in codes.split(", ")]
    return ", ".join(names)


def _int(match: re.Match[str], group: str) -> int:
    return int(match.group(group))


_PATTERNS: list[tuple[re.Pattern[str], Callable[[NullTranslations, re.Match[str], str], str]]] = [
    (
        re.compile(r"^no permit expiry date given$"),
        lambda t, m, lang: t.gettext("no permit expiry date given"),
    ),
    (
        re.compile(r"^permit expired (?P<days>\d+) days ago$"),
        lambda t, m, lang: (
            t.ngettext("permit expired %(num)d day ago", "permit expired %(num)d days ago", _int(m, "days"))
            % {"num": _int(m, "days")}
        ),
    ),
    (
        re.compile(r"^permit expires in (?P<days>-?\d+) days \(within (?P<within>\d+)\)$"),
        lambda t, m, lang: (
            t.ngettext(
                "permit expires in %(num)d day (%(within)d days or less)",
                "permit expires in %(num)d days (%(within)d days or less)",
                _int(m, "days"),
            )
            % {"num": _int(m, "days"), "within": _int(m, "within")}
        ),
    ),
    (
        re.compile(r"^permit expires in (?P<days>-?\d+) days$"),
        lambda t, m, lang: (
            t.ngettext("permit expires in %(num)d day", "permit expires in %(num)d days", _int(m, "days"))
            % {"num": _int(m, "days")}
        ),
    ),
    (
        re.compile(r"^declared vulnerability \((?P<codes>[^)]*)\), checked at the desk$"),
        lambda t, m, lang: (
            t.gettext("declared situation (%(situations)s), checked at the desk")
            % {"situations": _vulnerabilities(t, m.group("codes"))}
        ),
    ),
    (
        re.compile(r"^no vulnerability declared$"),
        lambda t, m, lang: t.gettext("no situation of vulnerability declared"),
    ),
    (
        re.compile(r"^no draw entered and lost yet$"),
        lambda t, m, lang: t.gettext("no draw entered and lost yet"),
    ),
    (
        re.compile(r"^(?P<draws>\d+) draws entered and not won(?P<capped> \(capped\))?$"),
        lambda t, m, lang: (
            (
                t.ngettext(
                    "%(num)d draw entered and not won",
                    "%(num)d draws entered and not won",
                    _int(m, "draws"),
                )
                % {"num": _int(m, "draws")}
            )
            + (t.gettext(" (maximum reached)") if m.group("capped") else "")
        ),
    ),
    (
        re.compile(r"^missed appointment on (?P<day>\d{4}-\d{2}-\d{2}) \(within (?P<window>\d+) days\)$"),
        lambda t, m, lang: (
            t.gettext("appointment missed on %(day)s (less than %(window)d days ago)")
            % {"day": fmt_date(date.fromisoformat(m.group("day")), lang), "window": _int(m, "window")}
        ),
    ),
    (
        re.compile(r"^no missed appointment in (?P<window>\d+) days$"),
        lambda t, m, lang: (
            t.gettext("no appointment missed in the last %(window)d days") % {"window": _int(m, "window")}
        ),
    ),
]


#: What a claim's status adds to a factor's reason when it holds the factor at 1 (see ``app.domain.claims``).
_HELD_BACK = {
    "not counted until the claim is confirmed": N_("not counted until the claim is checked"),
    "not counted: the claim was refuted": N_("not counted: the claim was found false"),
    "not counted: the claim was not evidenced": N_("not counted: the claim could not be checked"),
    "not counted": N_("not counted"),
}


def translate_reason(reason: str, translations: NullTranslations, lang: str) -> str:
    """``reason`` in the reader's language (unchanged when its form is unknown)."""
    base, _sep, held = reason.partition("; ")
    if held in _HELD_BACK:
        return f"{_translate(base, translations, lang)}; {translations.gettext(_HELD_BACK[held])}"
    return _translate(reason, translations, lang)


def _translate(reason: str, translations: NullTranslations, lang: str) -> str:
    for pattern, render in _PATTERNS:
        match = pattern.match(reason)
        if match:
            return render(translations, match, lang)
    return reason
