"""lean draw writes: fewer indexes and foreign-key checks on the rows a draw writes by the thousand

A draw writes up to a million ``draw_entry`` rows and ten thousand offers in one transaction, and the
server's cost per row was mostly its indexes and foreign-key checks.

- ``draw_entry``: the unique pair ``(request_seq, draw_id)`` becomes the primary key; the record's order
  ``(draw_id, rank)`` is a BRIN index (PostgreSQL; a plain index elsewhere), since a draw appends its
  entries in rank order; the foreign key to the draw goes (the draw is the table's only writer, in the
  transaction that writes the draw).
- ``offer``: ``active_slot_id`` is the offer's slot or nothing (a check constraint; the slot's foreign key
  covers it, so its own goes), and the foreign key to the draw goes, for the same reason as above.

Revision ID: a3f9d6b1c8e4
Revises: e7d1c2a9b4f3
Create Date: 2026-12-07 02:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a3f9d6b1c8e4"
down_revision: str | None = "e7d1c2a9b4f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("draw_entry", schema=None) as batch_op:
        batch_op.drop_constraint("fk_draw_entry_draw_id_draw", type_="foreignkey")
        batch_op.drop_constraint("uq_draw_entry_request_seq_draw_id", type_="unique")
        batch_op.drop_constraint("pk_draw_entry", type_="primary")
        batch_op.create_primary_key("pk_draw_entry", ["request_seq", "draw_id"])
        batch_op.create_index(
            "ix_draw_entry_draw_id_rank",
            ["draw_id", "rank"],
            unique=False,
            postgresql_using="brin",
            postgresql_with={"pages_per_range": 16},
        )
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.drop_constraint("fk_offer_active_slot_id_slot", type_="foreignkey")
        batch_op.drop_constraint("fk_offer_draw_id_draw", type_="foreignkey")
        batch_op.create_check_constraint(
            op.f("ck_offer_active_slot_is_the_slot"), "active_slot_id IS NULL OR active_slot_id = slot_id"
        )


def downgrade() -> None:
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_offer_active_slot_is_the_slot"), type_="check")
        batch_op.create_foreign_key("fk_offer_draw_id_draw", "draw", ["draw_id"], ["id"])
        batch_op.create_foreign_key("fk_offer_active_slot_id_slot", "slot", ["active_slot_id"], ["id"])
    with op.batch_alter_table("draw_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_draw_entry_draw_id_rank")
        batch_op.drop_constraint("pk_draw_entry", type_="primary")
        batch_op.create_primary_key("pk_draw_entry", ["draw_id", "rank"])
        batch_op.create_unique_constraint("uq_draw_entry_request_seq_draw_id", ["request_seq", "draw_id"])
        batch_op.create_foreign_key("fk_draw_entry_draw_id_draw", "draw", ["draw_id"], ["id"])
