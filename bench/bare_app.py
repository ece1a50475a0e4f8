"""The bare ceiling for ``make bench``: a minimal FastAPI endpoint validating a body like the intake's."""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field


class Identity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document_type: str = Field(max_length=32)
    document_number: str = Field(min_length=1, max_length=64)
    family_name: str = Field(min_length=1, max_length=100)
    given_names: str = Field(min_length=1, max_length=100)
    birth_date: date


class Contact(BaseModel):
    email: str | None = None


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str = Field(max_length=32)
    offices: list[str] = Field(min_length=1, max_length=10)
    identity: Identity
    contact: Contact | None = None
    language: str = "fr"


app = FastAPI()


@app.post("/bare", status_code=201)
def bare(body: Body) -> dict[str, str]:
    """Validate and answer, nothing else."""
    return {"status": "pending", "service": body.service}
