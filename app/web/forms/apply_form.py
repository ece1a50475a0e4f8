"""The request form: its fields, the API body it builds, and its errors in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.schemas.requests import RequestCreate
from app.web.form_fields import FieldErrors, first_per_field, located, text, values, whole_number
from app.web.i18n import N_

OFFICE_CHOICES = 3
TEXT_FIELDS = (
    "service",
    "document_type",
    "document_number",
    "family_name",
    "given_names",
    "birth_date",
    "permit_expires_on",
    "earliest",
    "latest",
    "email",
    "phone",
    "language",
)
#: Field order on the page, for the error summary.
ORDER = [
    "service",
    *(f"office_{i}" for i in range(1, OFFICE_CHOICES + 1)),
    "document_type",
    "document_number",
    "family_name",
    "given_names",
    "birth_date",
    "permit_expires_on",
    "vulnerabilities",
    "earliest",
    "latest",
    "weekdays",
    "email",
    "phone",
    "language",
]

REQUIRED = {
    "service": N_("Choose the service you need."),
    "office_1": N_("Choose at least one office."),
    "document_type": N_("Choose the type of your identity document."),
    "document_number": N_("Enter the number of your identity document."),
    "family_name": N_("Enter your family name."),
    "given_names": N_("Enter your given names."),
    "birth_date": N_("Enter your date of birth."),
}

INVALID = {
    "service": N_("Choose a service from the list."),
    "office_1": N_("Choose an office from the list."),
    "office_2": N_("Choose an office from the list."),
    "office_3": N_("Choose an office from the list."),
    "document_type": N_("Choose a document type from the list."),
    "document_number": N_(
        "Enter the document number as printed on it: 4 to 32 letters or digits (spaces and dashes are allowed)."
    ),
    "family_name": N_("Enter your family name as written on your document, in at most 100 characters."),
    "given_names": N_("Enter your given names as written on your document, in at most 100 characters."),
    "birth_date": N_(
        "Enter your date of birth as a real date between 1900 and today, for example 1990-04-12."
    ),
    "permit_expires_on": N_("Enter the expiry date of your permit as a date, for example 2027-03-31."),
    "vulnerabilities": N_("Choose only situations from the list."),
    "earliest": N_("Enter the first date as a date, for example 2027-01-15."),
    "latest": N_("Enter the last date as a date, for example 2027-02-28."),
    "weekdays": N_("Choose days from the list."),
    "email": N_("Enter an e-mail address like name@example.org."),
    "phone": N_("Enter a phone number with digits only, for example +33 6 12 34 56 78."),
    "language": N_("Choose a language from the list."),
}

#: A name with an invisible or filler character (a soft hyphen or a zero-width space pasted with it).
NAME_INVISIBLE = {
    "family_name": N_(
        "Your family name contains an invisible character (often copied along with the name, such as a soft "
        "hyphen or a zero-width space). Type it again as printed on your document."
    ),
    "given_names": N_(
        "Your given names contain an invisible character (often copied along with the name, such as a soft "
        "hyphen or a zero-width space). Type them again as printed on your document."
    ),
}
OFFICE_REPEATED = N_("Choose a different office for each choice.")
MOBILE_NEEDED = N_(
    "This service confirms online requests with a code sent by SMS: enter a French mobile number (overseas "
    "departments included). Without a mobile phone, an office counter or a partner association (La Cimade, "
    "a CCAS...) can file your request with you."
)
LATEST_BEFORE_EARLIEST = N_("The last date must be on or after the first date.")
CHECK_ANSWER = N_("Check this answer.")


@dataclass
class ApplyForm:
    """What the applicant typed, kept to show the form again."""

    fields: dict[str, str] = field(default_factory=dict)
    offices: list[str] = field(default_factory=lambda: [""] * OFFICE_CHOICES)
    vulnerabilities: list[str] = field(default_factory=list)
    weekdays: list[str] = field(default_factory=list)

    @classmethod
    def blank(cls, lang: str) -> ApplyForm:
        """An empty form in the reader's language."""
        return cls(fields=dict.fromkeys(TEXT_FIELDS, "") | {"language": lang})

    @classmethod
    def read(cls, form: FormData) -> ApplyForm:
        """The submitted form."""
        return cls(
            fields={name: text(form, name, 400) for name in TEXT_FIELDS},
            offices=[text(form, f"office_{i}", 64) for i in range(1, OFFICE_CHOICES + 1)],
            vulnerabilities=values(form, "vulnerabilities", 10),
            weekdays=values(form, "weekdays", 10),
        )

    def body(self) -> tuple[dict[str, Any], FieldErrors]:
        """The ``POST /api/v1/requests`` body, and the errors found before the schema sees it."""
        f = self.fields
        errors: FieldErrors = {}
        chosen: list[str] = []
        for index, code in enumerate(self.offices, 1):
            if not code:
                continue
            if code in chosen:
                errors[f"office_{index}"] = OFFICE_REPEATED
            chosen.append(code)
        weekdays: list[int] = []
        for day in self.weekdays:
            number = whole_number(day, 0, 9) if len(day) == 1 else None
            if number is not None:
                weekdays.append(number)
            else:
                errors["weekdays"] = INVALID["weekdays"]
        body: dict[str, Any] = {
            "service": f["service"],
            "offices": list(dict.fromkeys(chosen)),
            "identity": {
                "document_type": f["document_type"],
                "document_number": f["document_number"],
                "family_name": f["family_name"],
                "given_names": f["given_names"],
                "birth_date": f["birth_date"],
            },
            "vulnerabilities": self.vulnerabilities,
            "language": f["language"] or "fr",
        }
        if f["permit_expires_on"]:
            body["permit_expires_on"] = f["permit_expires_on"]
        if f["earliest"] or f["latest"] or weekdays:
            body["availability"] = {
                "earliest": f["earliest"] or None,
                "latest": f["latest"] or None,
                "weekdays": weekdays or None,
            }
        if f["email"] or f["phone"]:
            body["contact"] = {"email": f["email"] or None, "phone": f["phone"] or None}
        return body, errors

    def validate(self) -> tuple[RequestCreate | None, FieldErrors]:
        """The validated request, or the errors of each field in plain words."""
        body, errors = self.body()
        for name, message in REQUIRED.items():
            value = next((o for o in self.offices if o), "") if name == "office_1" else self.fields.get(name)
            if not value:
                errors.setdefault(name, message)
        try:
            data = RequestCreate.model_validate(body)
        except ValidationError as exc:
            found = first_per_field(
                (name, self._message(name, msg)) for name, _type, msg in located(exc, self._locate) if name
            )
            for name, message in found.items():
                errors.setdefault(name, message)
            return None, errors
        return (None, errors) if errors else (data, errors)

    def _locate(self, loc: tuple[int | str, ...], message: str) -> str | None:
        head = loc[0] if loc else ""
        if head == "offices":
            return self._office_field(loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0)
        if head in ("identity", "contact", "availability"):
            if len(loc) > 1 and isinstance(loc[1], str):
                return loc[1]
            if head == "availability":
                return "weekdays" if "weekdays" in message else "latest"
            return None
        return str(head) if head else None

    def _office_field(self, index: int) -> str:
        """The select holding the ``index``-th chosen office (blank choices are skipped)."""
        chosen = [i for i, code in enumerate(self.offices, 1) if code]
        return f"office_{chosen[index]}" if index < len(chosen) else "office_1"

    @staticmethod
    def _message(name: str, pydantic_message: str) -> str:
        if name == "latest" and "earliest must not be after latest" in pydantic_message:
            return LATEST_BEFORE_EARLIEST
        if name in NAME_INVISIBLE and "invisible or filler character" in pydantic_message:
            return NAME_INVISIBLE[name]
        return INVALID.get(name) or REQUIRED.get(name) or CHECK_ANSWER

    def service_errors(self, errors: list[dict[str, Any]]) -> FieldErrors:
        """The intake service's field errors (``offices.0``, ``service``) placed on the page."""
        placed: FieldErrors = {}
        for error in errors:
            path = str(error.get("path", ""))
            if path.startswith("offices"):
                index = path.partition(".")[2]
                name = self._office_field(whole_number(index) or 0)
            elif path == "contact.phone":
                placed.setdefault("phone", MOBILE_NEEDED)
                continue
            else:
                name = path.split(".")[-1]
            if name in ORDER:
                placed.setdefault(name, self._message(name, ""))
        return placed
