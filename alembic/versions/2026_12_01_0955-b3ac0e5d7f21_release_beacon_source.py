"""release beacon source, proof and sealed seed (fairslot-draw-v2)

Revision ID: b3ac0e5d7f21
Revises: e4d3aacd2de2
Create Date: 2026-12-01 09:55:00

Existing releases keep their seed in clear (``seed_sealed`` NULL) and no beacon source: they draw as v1.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import app.db.types
from alembic import op

revision: str = "b3ac0e5d7f21"
down_revision: str | None = "e4d3aacd2de2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("release", schema=None) as batch_op:
        batch_op.alter_column(
            "seed", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        )
        batch_op.add_column(
            sa.Column("seed_sealed", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
        )
        batch_op.add_column(
            sa.Column("beacon_chain", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("beacon_round", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "beacon_trust",
                sqlmodel.sql.sqltypes.AutoString(length=8),
                nullable=False,
                server_default="none",
            )
        )
        batch_op.add_column(sa.Column("beacon_proof", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("beacon_randomness", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("beacon_checked_at", app.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("beacon_error", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("release", schema=None) as batch_op:
        for name in (
            "beacon_error",
            "beacon_checked_at",
            "beacon_randomness",
            "beacon_proof",
            "beacon_trust",
            "beacon_round",
            "beacon_chain",
            "seed_sealed",
        ):
            batch_op.drop_column(name)
        batch_op.alter_column(
            "seed", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        )
