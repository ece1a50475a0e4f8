"""The identity-recovery form of the counter and desk screens, read into the API's body."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.schemas.recoveries import RecoveryCreate
from app.web.form_fields import FieldErrors, text
from app.web.i18n import N_

FIELDS = ("service", "document_number", "birth_date", "reason")
MESSAGES = {
    "service": N_("Choose the service of the request."),
    "document_number": N_("Enter the number of the document the person shows."),
    "birth_date": N_("Enter the date of birth shown on the document, for example 1990-04-12."),
    "reason": N_("Choose what the person needs."),
}


def read(form: FormData) -> tuple[dict[str, str], RecoveryCreate | None, FieldErrors]:
    """The typed fields, the validated body (or None) and the errors in plain words."""
    fields = {name: text(form, name, 64) for name in FIELDS}
    try:
        return fields, RecoveryCreate.model_validate(fields), {}
    except ValidationError as exc:
        errors: FieldErrors = {}
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "service"
            errors.setdefault(
                name if name in MESSAGES else "service", MESSAGES.get(name, MESSAGES["service"])
            )
        return fields, None, errors
