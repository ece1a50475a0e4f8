"""registry identities: the keyed digests of the last permit registry import, for registry-only services

Under ``entry_verification: "registry"`` a request is verified when its identity matches the office's
permit registry export; the import keeps each row's keyed digest (never the number) for 90 days, so that a
request filed after it is verified at once.

Revision ID: e7d1c2a9b4f3
Revises: 5e1f0a7c3b21
Create Date: 2026-12-06 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import app.db.types
from alembic import op

revision: str = "e7d1c2a9b4f3"
down_revision: str | None = "5e1f0a7c3b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registry_identity",
        sa.Column("identity_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("office", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("kept_until", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("identity_key", "office"),
    )
    with op.batch_alter_table("registry_identity", schema=None) as batch_op:
        batch_op.create_index("ix_registry_identity_kept_until", ["kept_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("registry_identity", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_identity_kept_until")
    op.drop_table("registry_identity")
