"""lost-code recoveries: an applicant recovers a lost access code alone, by SMS to the verified phone

Each recovery asked for an entry reference and a birth date is counted under their keyed digest, whether
or not a request matches, so that a stranger's tries are answered exactly as a holder's are.

Revision ID: 5e1f0a7c3b21
Revises: ccb0b0cc27ff
Create Date: 2026-12-06 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import app.db.types
from alembic import op

revision: str = "5e1f0a7c3b21"
down_revision: str | None = "ccb0b0cc27ff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_code_recovery",
        sa.Column("lookup", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("last_started_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_started_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("starts", sa.Integer(), nullable=False),
        sa.Column("expires_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("lookup"),
    )


def downgrade() -> None:
    op.drop_table("access_code_recovery")
