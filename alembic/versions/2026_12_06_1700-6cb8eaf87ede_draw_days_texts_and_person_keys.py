"""draw days, the text budget of unverified numbers, person keys to derive again

``draw.day`` is the local date of the release's ``draw_at`` in its office's time zone, the unit of waiting;
existing draws get theirs from their release and office. ``sms_grant`` records each text let through to a
number that has not verified a code (at most three a day).

Person keys now fold look-alike letters of other scripts (``app.domain.identity``). A key is
``HMAC(pepper, names | birth date)``: deriving it again needs the pepper, a server secret a migration does not
hold (``alembic upgrade`` may run with nothing but the database's address), and the birth date, which is not
stored. So this migration only marks every request that has a person key and its names (``person_rekey``);
``fairslot db rekey-persons``, which ``fairslot db upgrade`` runs right after migrating, finds each marked
key's birth date from the key itself and the names (the dates from 1900 to today, keyed once each) and
writes the new key wherever the folding changes the names, then removes the mark.

Revision ID: 6cb8eaf87ede
Revises: 5c15747601b9
Create Date: 2026-12-06 17:00:00
"""

from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel

import app.db.types
from alembic import op

revision: str = "6cb8eaf87ede"
down_revision: str | None = "5c15747601b9"
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
    op.create_table(
        "sms_grant",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("phone_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("granted_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["outbox_message.id"], name=op.f("fk_sms_grant_message_id_outbox_message")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_sms_grant")),
    )
    with op.batch_alter_table("sms_grant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sms_grant_phone_digest_granted_at", ["phone_digest", "granted_at"], unique=False
        )

    op.create_table(
        "person_rekey",
        sa.Column("request_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_seq"],
            ["appointment_request.seq"],
            name=op.f("fk_person_rekey_request_seq_appointment_request"),
        ),
        sa.PrimaryKeyConstraint("request_seq", name=op.f("pk_person_rekey")),
    )
    op.execute(
        "INSERT INTO person_rekey (request_seq) SELECT seq FROM appointment_request "
        "WHERE person_key IS NOT NULL AND family_name IS NOT NULL AND given_names IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("person_rekey")
    with op.batch_alter_table("sms_grant", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_grant_phone_digest_granted_at")
    op.drop_table("sms_grant")
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.drop_column("day")
