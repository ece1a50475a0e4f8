"""the day at the desk: folded family names to search, and the office's slots of a day

Requests keep their family name folded (accents, case and spacing dropped) so that the desk's day list
searches it in plain SQL on SQLite and PostgreSQL alike; existing requests are folded here. Slots are found
by office and start for that list.

Revision ID: ccb0b0cc27ff
Revises: a1471397576e
Create Date: 2026-12-06 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op
from app.domain.identity import folded_name

revision: str = "ccb0b0cc27ff"
down_revision: str | None = "a1471397576e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("appointment_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("family_name_folded", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
    with op.batch_alter_table("slot", schema=None) as batch_op:
        batch_op.create_index("ix_slot_office_id_starts_at", ["office_id", "starts_at"], unique=False)

    requests = sa.table(
        "appointment_request",
        sa.column("seq", sa.Integer),
        sa.column("family_name", sa.String),
        sa.column("family_name_folded", sa.String),
    )
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(requests.c.seq, requests.c.family_name)
            .where(requests.c.seq > last, requests.c.family_name.is_not(None))
            .order_by(requests.c.seq)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            requests.update()
            .where(requests.c.seq == sa.bindparam("row_seq"))
            .values(family_name_folded=sa.bindparam("folded")),
            [{"row_seq": seq, "folded": folded_name(name)} for seq, name in rows],
        )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("slot", schema=None) as batch_op:
        batch_op.drop_index("ix_slot_office_id_starts_at")
    with op.batch_alter_table("appointment_request", schema=None) as batch_op:
        batch_op.drop_column("family_name_folded")
