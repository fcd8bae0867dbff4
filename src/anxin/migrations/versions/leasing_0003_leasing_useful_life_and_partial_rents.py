"""leasing: useful life (IFRS 16.32), partial rents, penalty interest, reminders per rent

Rent receipts (one schedule row paid in full each) become rent payments of any amount, with
how each was applied; the receipts already recorded are copied over (their allocation unknown:
NULL, the replay of `leasing.arrears` applies them as it always did, each to its rent).

Revision ID: leasing_0003
Revises: leasing_0002
Create Date: 2026-12-07 08:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "leasing_0003"
down_revision: str | Sequence[str] | None = "leasing_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _receipts_table() -> None:
    op.create_table(
        "leasing_rent_receipts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("contract_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["leasing_contracts.id"],
            name=op.f("fk_leasing_rent_receipts_contract_id_leasing_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leasing_rent_receipts")),
        sa.UniqueConstraint(
            "contract_id", "number", name=op.f("uq_leasing_rent_receipts_contract_id_number")
        ),
    )
    with op.batch_alter_table("leasing_rent_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_leasing_rent_receipts_contract_id"), ["contract_id"], unique=False
        )


def upgrade() -> None:
    with op.batch_alter_table("leasing_contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("useful_life_months", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("reminded_through", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "penalty_rate",
                sa.Numeric(precision=9, scale=6),
                server_default="0.18",
                nullable=False,
            )
        )
    op.create_table(
        "leasing_rent_payments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("contract_id", sa.String(length=36), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("allocation", sa.JSON(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["leasing_contracts.id"],
            name=op.f("fk_leasing_rent_payments_contract_id_leasing_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leasing_rent_payments")),
    )
    with op.batch_alter_table("leasing_rent_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_leasing_rent_payments_contract_id"), ["contract_id"], unique=False
        )
    op.execute(
        "INSERT INTO leasing_rent_payments (id, contract_id, amount, paid_on, recorded_at) "
        "SELECT id, contract_id, amount, paid_on, recorded_at FROM leasing_rent_receipts"
    )
    with op.batch_alter_table("leasing_rent_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leasing_rent_receipts_contract_id"))
    op.drop_table("leasing_rent_receipts")


def downgrade() -> None:
    # Payments go back as numbered receipts in date order: exact for leases paid a full rent
    # at a time, which is all the earlier schema could hold.
    _receipts_table()
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, contract_id, amount, paid_on, recorded_at FROM leasing_rent_payments "
            "ORDER BY contract_id, paid_on, recorded_at, id"
        )
    ).all()
    numbers: dict[str, int] = {}
    for id_, contract_id, amount, paid_on, recorded_at in rows:
        numbers[contract_id] = numbers.get(contract_id, 0) + 1
        bind.execute(
            sa.text(
                "INSERT INTO leasing_rent_receipts "
                "(id, contract_id, number, amount, paid_on, recorded_at) "
                "VALUES (:id, :c, :n, :a, :p, :r)"
            ),
            {"id": id_, "c": contract_id, "n": numbers[contract_id], "a": amount, "p": paid_on,
             "r": recorded_at},
        )  # fmt: skip
    with op.batch_alter_table("leasing_rent_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leasing_rent_payments_contract_id"))
    op.drop_table("leasing_rent_payments")
    with op.batch_alter_table("leasing_contracts", schema=None) as batch_op:
        batch_op.drop_column("penalty_rate")
        batch_op.drop_column("reminded_through")
        batch_op.drop_column("useful_life_months")
