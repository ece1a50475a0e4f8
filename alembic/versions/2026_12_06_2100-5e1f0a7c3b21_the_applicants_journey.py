"""the applicant's journey: lost-code recoveries, and news to the entrants a draw did not select

An applicant recovers a lost access code alone, by SMS to the verified phone.
Each recovery asked for an entry reference and a birth date is counted under their keyed digest, whether
or not a request matches, so that a stranger's tries are answered exactly as a holder's are.

Draws tell their entrants not selected (once per request and draw day: ``draw_news``), in batches that
remember their rank; the draws made before this revision are marked told, so nobody hears of old draws.

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
    op.create_table(
        "draw_news",
        sa.Column("request_seq", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("request_seq", "day"),
    )
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.add_column(sa.Column("news_rank", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("news_done_at", app.db.types.UTCDateTime(timezone=True), nullable=True))
    draws = sa.table("draw", sa.column("drawn_at", sa.DateTime), sa.column("news_done_at", sa.DateTime))
    op.execute(draws.update().values(news_done_at=draws.c.drawn_at))


def downgrade() -> None:
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.drop_column("news_done_at")
        batch_op.drop_column("news_rank")
    op.drop_table("draw_news")
    op.drop_table("access_code_recovery")
