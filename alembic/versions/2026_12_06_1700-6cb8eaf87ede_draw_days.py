"""draw days: each draw's office-local date, the unit of waiting

``draw.day`` is the local date of the release's ``draw_at`` in its office's time zone; existing draws get
theirs from their release and office.

Revision ID: 6cb8eaf87ede
Revises: 08c6371c1602
Create Date: 2026-12-06 17:00:00
"""

from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa

import app.db.types
from alembic import op

revision: str = "6cb8eaf87ede"
down_revision: str | None = "08c6371c1602"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_draw = sa.table(
    "draw", sa.column("id", sa.Integer()), sa.column("release_id", sa.Integer()), sa.column("day", sa.Date())
)
_release = sa.table(
    "release",
    sa.column("id", sa.Integer()),
    sa.column("office_id", sa.Integer()),
    sa.column("draw_at", app.db.types.UTCDateTime(timezone=True)),
)
_office = sa.table("office", sa.column("id", sa.Integer()), sa.column("timezone", sa.String()))


def upgrade() -> None:
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.add_column(sa.Column("day", sa.Date(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_draw.c.id, _release.c.draw_at, _office.c.timezone)
        .select_from(_draw)
        .join(_release, _release.c.id == _draw.c.release_id)
        .join(_office, _office.c.id == _release.c.office_id)
    ).all()
    for draw_id, draw_at, zone in rows:
        bind.execute(
            sa.update(_draw)
            .where(_draw.c.id == draw_id)
            .values(day=draw_at.astimezone(ZoneInfo(zone)).date())
        )
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.alter_column("day", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.drop_column("day")
