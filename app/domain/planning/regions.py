"""Public holidays of an office, from the ``holidays`` package's calendar of France and its subdivisions.

An office's ``holiday_region`` is null for metropolitan France, or a subdivision the package knows: the
overseas departments (``GP`` Guadeloupe, ``MQ`` Martinique, ``GY`` Guyane, ``RE`` La Réunion, ``YT``
Mayotte, or their INSEE numbers 971-976), the overseas collectivities (``BL``, ``MF``, ``PM``, ``NC``, ``PF``,
``WF``) and Alsace-Moselle (``GES``, or ``57`` and ``6AE``), each with its own days: the abolition of
slavery in the overseas departments, Good Friday and Saint Stephen's Day in Alsace-Moselle. Anything else is
refused. ``GES`` is the code the package used for Alsace-Moselle before it split it into ``57`` (Moselle) and
``6AE`` (Alsace), which keep the same days; it is read as ``6AE``.
"""

from __future__ import annotations

import warnings
from datetime import date
from functools import cache

import holidays

#: Codes the package no longer knows under that name, and the subdivision with the same days.
_RENAMED = {"GES": "6AE"}
#: The languages the package names French holidays in (others read French).
_NAME_LANGUAGES = {"fr": "fr", "en": "en_US", "uk": "uk"}


class UnknownRegion(ValueError):
    """Not a subdivision of France the ``holidays`` package knows."""


def _calendar(region: str | None, years: tuple[int, ...], language: str) -> holidays.HolidayBase:
    subdiv = _RENAMED.get(region, region) if region else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return holidays.France(subdiv=subdiv, years=years, language=language)


def canonical_region(value: str) -> str:
    """``value`` as stored: a subdivision code or alias the package knows (``re`` is read ``RE``).

    ``UnknownRegion`` otherwise.
    """
    for candidate in dict.fromkeys((value.strip(), value.strip().upper())):
        if not candidate:
            continue
        try:
            _calendar(candidate, (2027,), "fr")
        except (NotImplementedError, KeyError):
            continue
        return candidate
    raise UnknownRegion(
        f"unknown holiday region {value!r}: use a French subdivision such as GES, GP, MQ, GY, RE or YT, "
        "or null for metropolitan France"
    )


def is_known(value: str) -> bool:
    """Whether ``value`` names a subdivision (as typed)."""
    try:
        canonical_region(value)
    except UnknownRegion:
        return False
    return True


@cache
def _year(region: str | None, year: int, language: str) -> dict[date, str]:
    return dict(_calendar(region, (year,), language).items())


def holidays_between(region: str | None, first: date, last: date, language: str = "fr") -> dict[date, str]:
    """The public holidays of ``region`` from ``first`` to ``last`` (inclusive), named in ``language``
    (French unless ``en`` or ``uk``)."""
    name_language = _NAME_LANGUAGES.get(language, "fr")
    found: dict[date, str] = {}
    for year in range(first.year, last.year + 1):
        for day, name in _year(region, year, name_language).items():
            if first <= day <= last:
                found[day] = name
    return dict(sorted(found.items()))


#: The regions offered in forms: (code, name), metropolitan France being the empty choice.
COMMON_REGIONS: tuple[tuple[str, str], ...] = (
    ("GES", "Alsace-Moselle"),
    ("GP", "Guadeloupe"),
    ("MQ", "Martinique"),
    ("GY", "Guyane"),
    ("RE", "La Réunion"),
    ("YT", "Mayotte"),
    ("BL", "Saint-Barthélemy"),
    ("MF", "Saint-Martin"),
    ("PM", "Saint-Pierre-et-Miquelon"),
    ("NC", "Nouvelle-Calédonie"),
    ("PF", "Polynésie française"),
    ("WF", "Wallis-et-Futuna"),
)
