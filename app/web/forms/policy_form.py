"""The admin's weight policy form: factors, urgency bands, verification and the confirmation window as fields,
with the API's JSON as an advanced option; both go through the API's own schema (``WeightPolicyIn``).

A field left empty keeps the service's rule (the default one for a new service); the JSON, when given, is
used instead of the fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.schemas.catalog import WeightPolicyIn
from app.web.form_fields import FieldErrors, text, whole_number
from app.web.i18n import N_

BAND_ROWS = 5
POLICY_MAX_CHARS = 4000
#: Numbers written as the API takes them (decimal multipliers as text, whole days as integers).
DECIMALS = ("vulnerability", "waiting_step", "waiting_cap", "no_show", "office_cancelled_factor")
WHOLE = ("no_show_window_days", "false_claim_exclusion_days", "max_requests_per_phone", "verify_within_days")
CHOICES = ("verify_claims", "entry_verification", "beacon")
FIELDS = (
    *DECIMALS,
    *WHOLE,
    *CHOICES,
    "confirm",
    "confirm_opens",
    "confirm_closes",
    "sms_not_selected",
    "news_shown",
    *(f"band_days_{i}" for i in range(1, BAND_ROWS + 1)),
    *(f"band_multiplier_{i}" for i in range(1, BAND_ROWS + 1)),
)

MESSAGES = {
    "vulnerability": N_("Enter a multiplier above 0 and up to 100, for example 1.5."),
    "waiting_step": N_("Enter what each draw lost adds, from 0 to 10, for example 0.25."),
    "waiting_cap": N_("Enter the highest waiting multiplier, from 1 to 100."),
    "no_show": N_("Enter a multiplier above 0 and up to 100, for example 0.5."),
    "office_cancelled_factor": N_("Enter a multiplier above 0 and up to 100, for example 10."),
    "no_show_window_days": N_("Enter a number of days from 0 to 3650."),
    "false_claim_exclusion_days": N_("Enter a number of days from 0 to 3650."),
    "max_requests_per_phone": N_("Enter a number of requests from 1 to 20."),
    "verify_within_days": N_("Enter a number of days from 1 to 60."),
    "verify_claims": N_("Choose when claims are checked."),
    "entry_verification": N_("Choose what a request needs before it enters draws."),
    "beacon": N_("Choose where the draws' randomness comes from."),
    "confirm_opens": N_("Enter when confirming opens, in days before the appointment, after it closes."),
    "confirm_closes": N_("Enter when confirming closes, in days before the appointment (0 to 364)."),
    "band": N_(
        "Enter both the days (0 to 3650, each band different) and the multiplier (above 0, up to 100)."
    ),
    "weight_policy": N_(
        "Enter rules the service accepts, as a JSON object (the API's weight_policy), or leave it empty "
        "for the default table."
    ),
}
#: The choices of the radio buttons, from the schema itself (a value the API adds shows here too).
OPTIONS = {
    name: list(get_args(get_args(WeightPolicyIn.model_fields[name].annotation)[0])) for name in CHOICES
}


@dataclass
class PolicyForm:
    """What the admin typed (or the service's rules, to show)."""

    fields: dict[str, str] = field(default_factory=dict)
    advanced: str = ""

    @classmethod
    def of_policy(cls, view: dict[str, Any], stored: dict[str, Any] | None = None) -> PolicyForm:
        """The form filled with an effective policy (``catalog.policy_view``) and the stored ``beacon``."""
        fields = {name: str(view[name]) for name in (*DECIMALS, *WHOLE) if name in view}
        fields.update(
            {name: str(view[name]) for name in ("verify_claims", "entry_verification") if name in view}
        )
        fields["beacon"] = str((stored or {}).get("beacon", "drand"))
        window = view.get("confirm_window_days")
        fields["confirm"] = "on" if window else ""
        fields["confirm_opens"], fields["confirm_closes"] = (
            (str(window[0]), str(window[1])) if window else ("", "")
        )
        fields["sms_not_selected"] = "on" if view.get("sms_not_selected") else ""
        fields["news_shown"] = "on"
        for i, band in enumerate(view.get("expiry_bands", [])[:BAND_ROWS], start=1):
            fields[f"band_days_{i}"] = str(band["within_days"])
            fields[f"band_multiplier_{i}"] = str(band["multiplier"])
        return cls(fields=fields)

    @classmethod
    def read(cls, form: FormData) -> PolicyForm:
        """The submitted form."""
        return cls(
            # Only what the page sent: an older form without the fields changes none of the rules.
            fields={name: text(form, name, 40) for name in FIELDS if name in form},
            advanced=text(form, "weight_policy", POLICY_MAX_CHARS),
        )

    def band(self, i: int) -> tuple[str, str]:
        """Row ``i`` (from 1) of the urgency bands."""
        return self.fields.get(f"band_days_{i}", ""), self.fields.get(f"band_multiplier_{i}", "")

    def body(self) -> tuple[dict[str, Any] | None, FieldErrors]:
        """The ``weight_policy`` the API takes (None: nothing given), or the errors of each field."""
        if self.advanced:
            try:
                parsed = json.loads(self.advanced)
            except ValueError:
                return None, {"weight_policy": MESSAGES["weight_policy"]}
            if not isinstance(parsed, dict):
                return None, {"weight_policy": MESSAGES["weight_policy"]}
            return self._validated(parsed, rows=[], advanced=True)
        f, errors = self.fields, {}
        body: dict[str, Any] = {name: f[name] for name in DECIMALS if f.get(name)}
        for name in WHOLE:
            if f.get(name):
                number = whole_number(f[name], 0, 99_999)
                if number is None:
                    errors[name] = MESSAGES[name]
                body[name] = number
        for name in CHOICES:
            if f.get(name):
                body[name] = f[name]
        rows = []
        for i in range(1, BAND_ROWS + 1):
            days, multiplier = self.band(i)
            if not days and not multiplier:
                continue
            number = whole_number(days, 0, 99_999)
            if number is None or not multiplier:
                errors[f"band_days_{i}"] = MESSAGES["band"]
            rows.append(i)
            body.setdefault("expiry_bands", []).append({"within_days": number, "multiplier": multiplier})
        if self._confirm_shown():
            if f.get("confirm"):
                opens, closes = (
                    whole_number(f.get("confirm_opens", ""), 0, 999),
                    whole_number(f.get("confirm_closes", ""), 0, 999),
                )
                if opens is None:
                    errors["confirm_opens"] = MESSAGES["confirm_opens"]
                if closes is None:
                    errors["confirm_closes"] = MESSAGES["confirm_closes"]
                body["confirm_window_days"] = [opens, closes]
            else:
                body["confirm_window_days"] = None
        if "news_shown" in f:  # the box comes with its marker; an unticked box is not sent: "e-mail only"
            body["sms_not_selected"] = bool(f.get("sms_not_selected"))
        if errors:
            return None, errors
        return self._validated(body, rows=rows, advanced=False)

    def _confirm_shown(self) -> bool:
        # The checkbox comes with its two fields; an unticked box is not sent: it means "no confirmation".
        return "confirm_opens" in self.fields

    def _validated(
        self, body: dict[str, Any], *, rows: list[int], advanced: bool
    ) -> tuple[dict[str, Any] | None, FieldErrors]:
        try:
            WeightPolicyIn.model_validate_json(json.dumps(body))  # exactly as the API reads a body
        except ValidationError as exc:
            if advanced:
                return None, {"weight_policy": MESSAGES["weight_policy"]}
            return None, _placed(exc, rows)
        return (body or None), {}


def _placed(exc: ValidationError, rows: list[int]) -> FieldErrors:
    """Each schema error on the field the admin typed it in."""
    found: FieldErrors = {}
    for err in exc.errors():
        loc = tuple(err["loc"])
        name = str(loc[0]) if loc else ""
        if name == "expiry_bands" and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(rows):
            found.setdefault(f"band_days_{rows[loc[1]]}", MESSAGES["band"])
        elif name == "confirm_window_days":
            found.setdefault("confirm_opens", MESSAGES["confirm_opens"])
        elif name in MESSAGES:
            found.setdefault(name, MESSAGES[name])
        elif "expiry bands" in str(err["msg"]):
            found.setdefault(f"band_days_{rows[0] if rows else 1}", MESSAGES["band"])
        elif "confirm_window_days" in str(err["msg"]):
            found.setdefault("confirm_opens", MESSAGES["confirm_opens"])
        else:
            found.setdefault("weight_policy", MESSAGES["weight_policy"])
    return found
