"""Are the catalogs in step with the code? What is left to translate, per language.

The messages are extracted from the code and templates as ``make translations`` does (``babel.cfg``) and
compared with each language's ``.po`` file:

- every language's catalog holds every message (``missing``), with the same ``%(name)s`` placeholders as
  the source (``placeholders``; a plural form may leave the number out);
- every language but English (the msgids are English) translates every message a page of that language can
  show (``untranslated``): fuzzy entries count as untranslated, since gettext skips them, and so does a
  translation that repeats the English text, unless it is a single word many languages share (``Code``);
- staff pages are French and English only, so messages found only in staff sources
  (``STAFF_SOURCES``) need no Arabic, Spanish, Portuguese or Ukrainian.

``python -m app.web.catalog_check`` prints the list (the integrator's to-do after a merge) and exits 1 when
something is left; ``--export todo.json`` writes it with the English and French of each message for a
translator, who fills each ``translation`` (a list of plural forms for a plural); ``--import todo.json``
writes them into the catalogs (then ``make translations``). ``tests/web/test_catalogs.py`` asserts the list
is empty.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from app.web import i18n

ROOT = Path(__file__).resolve().parents[2]
LOCALES = i18n.LOCALES_DIR
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}

#: Sources of the staff pages (paths relative to the repository, shell patterns).
STAFF_SOURCES = (
    "app/web/templates/staff_*.html",
    "app/web/templates/staff/*.html",
    "app/web/templates/desk*.html",
    "app/web/templates/not_desk.html",
    "app/web/templates/counter*.html",
    "app/web/templates/claims*.html",
    "app/web/routes/staff/*.py",
    "app/web/forms/release_form.py",
    "app/web/forms/policy_form.py",
    "app/web/forms/planning_forms.py",
    "app/web/staff_auth.py",
)

MessageId = str | tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """One message of one catalog that is not as it should be."""

    lang: str
    kind: str  # missing | untranslated | placeholders
    msgid: str

    def __str__(self) -> str:
        return f"{self.lang}\t{self.kind}\t{self.msgid}"


def _key(message_id: MessageId) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _strings(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ("",)
    return (value,) if isinstance(value, str) else tuple(value)


def extracted(root: Path = ROOT) -> dict[str, tuple[MessageId, set[str]]]:
    """Every message of the code and templates: its id (with plural) and the files that use it."""
    with (root / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[str, tuple[MessageId, set[str]]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS
    ):
        message_id: MessageId = message if isinstance(message, str) else tuple(message)
        entry = found.setdefault(_key(message_id), (message_id, set()))
        entry[1].add(Path(filename).as_posix())
    return found


def is_staff_source(filename: str) -> bool:
    """Whether ``filename`` (relative to the repository) belongs to the staff pages alone."""
    return any(fnmatch(filename, pattern) for pattern in STAFF_SOURCES)


def catalog(lang: str, locales: Path = LOCALES) -> Catalog:
    """The ``.po`` catalog of ``lang``."""
    with (locales / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _repeats_source(message_id: MessageId, strings: tuple[str, ...]) -> bool:
    ids = _strings(message_id)
    return any(s == ids[min(i, len(ids) - 1)] and " " in s.strip() for i, s in enumerate(strings))


def problems(
    lang: str, messages: dict[str, tuple[MessageId, set[str]]] | None = None, locales: Path = LOCALES
) -> list[Problem]:
    """What is missing, untranslated or has other placeholders than the source in ``lang``'s catalog."""
    messages = extracted() if messages is None else messages
    po = catalog(lang, locales)
    needs_translation = lang != i18n.SOURCE_LANGUAGE
    staff_language = lang in i18n.STAFF_LANGUAGES
    found: list[Problem] = []
    for key, (message_id, files) in sorted(messages.items()):
        entry = po.get(message_id if isinstance(message_id, str) else message_id[0])
        if entry is None:
            found.append(Problem(lang, "missing", key))
            continue
        strings = _strings(entry.string)
        wanted = _placeholders(" ".join(_strings(message_id)))
        if isinstance(message_id, str):
            wrong = any(s and _placeholders(s) != wanted for s in strings)
        else:  # a plural form may leave the number out ("one day"), never add a name
            wrong = any(s and not _placeholders(s) <= wanted for s in strings)
        if wrong:
            found.append(Problem(lang, "placeholders", key))
        if not needs_translation:
            continue
        staff_only = all(is_staff_source(f) for f in files)
        if staff_only and not staff_language:
            continue
        if entry.fuzzy or not all(s.strip() for s in strings) or _repeats_source(message_id, strings):
            found.append(Problem(lang, "untranslated", key))
    return found


def report(langs: tuple[str, ...] = i18n.LANGUAGES, locales: Path = LOCALES) -> dict[str, list[Problem]]:
    """The problems of every catalog, by language."""
    messages = extracted()
    by_lang: dict[str, list[Problem]] = defaultdict(list)
    for lang in langs:
        by_lang[lang] = problems(lang, messages, locales)
    return dict(by_lang)


def export_todo(
    langs: tuple[str, ...] = i18n.LANGUAGES, locales: Path = LOCALES
) -> dict[str, dict[str, Any]]:
    """What is left to translate, for a translator: per language, each msgid with its English and French."""
    french = catalog(i18n.DEFAULT_LANGUAGE)
    todo: dict[str, dict[str, Any]] = {}
    for lang, found in report(langs, locales).items():
        entries: dict[str, Any] = {}
        for problem in found:
            message = french.get(problem.msgid)
            english = _strings(message.id) if message else (problem.msgid,)
            in_french = _strings(message.string) if message else ("",)
            plural = len(english) > 1
            entries[problem.msgid] = {
                "problem": problem.kind,
                "english": list(english) if plural else english[0],
                "french": list(in_french) if plural else in_french[0],
                "translation": [] if plural else "",
            }
        if entries:
            todo[lang] = entries
    return todo


def import_translations(todo: dict[str, dict[str, Any]], locales: Path = LOCALES) -> int:
    """Write the filled ``translation`` of each entry into its catalog (then ``make translations``)."""
    written = 0
    for lang, entries in todo.items():
        path = locales / lang / "LC_MESSAGES" / "messages.po"
        po = catalog(lang, locales)
        for msgid, entry in entries.items():
            translation = entry.get("translation")
            message = po.get(msgid)
            if not translation or message is None:
                continue
            if isinstance(message.id, str):
                message.string = str(translation)
            else:
                forms = [translation] if isinstance(translation, str) else list(translation)
                forms += [forms[-1]] * (po.num_plurals - len(forms))
                message.string = tuple(forms[: po.num_plurals])
            message.flags.discard("fuzzy")
            written += 1
        with path.open("wb") as f:
            write_po(f, po, width=0)
    return written


def main(argv: list[str] | None = None) -> int:
    """Print what is left to translate (exit 1 when anything is), or export it to / import it from JSON."""
    parser = argparse.ArgumentParser(prog="python -m app.web.catalog_check", description=__doc__)
    parser.add_argument("--export", type=Path, help="write what is left to translate to this JSON file")
    parser.add_argument(
        "--import", dest="import_", type=Path, help="write the translations of this JSON file"
    )
    args = parser.parse_args(argv)
    if args.import_:
        written = import_translations(json.loads(args.import_.read_text(encoding="utf-8")))
        print(f"{written} translations written; now run `make translations`", file=sys.stderr)
        return 0
    if args.export:
        todo = export_todo()
        args.export.write_text(json.dumps(todo, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{sum(map(len, todo.values()))} entries to translate in {args.export}", file=sys.stderr)
        return 1 if todo else 0
    left = report()
    for lang, found in left.items():
        print(f"{lang}: {len(found)} to do", file=sys.stderr)
        for problem in found:
            print(problem)
    return 1 if any(left.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
