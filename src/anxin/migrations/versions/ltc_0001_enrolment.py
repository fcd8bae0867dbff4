"""ltc: the register of insured persons, its imports and the fund ledger

Revision ID: ltc_0001
Revises: 0001
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ltc_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("ltc",)
depends_on: str | Sequence[str] | None = None

# INTEGER PRIMARY KEY is SQLite's rowid alias; BIGINT elsewhere (as in anxin.ltc.models).
BigKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ltc_insured",
        sa.Column("id", BigKey, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("district", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_insured_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_insured")),
        sa.UniqueConstraint("org_id", "id_number", name=op.f("uq_ltc_insured_org_id_id_number")),
    )
    op.create_table(
        "ltc_imports",
        sa.Column("id", BigKey, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("rows_ok", sa.Integer(), nullable=False),
        sa.Column("rows_bad", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_imports_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_imports")),
    )
    op.create_index(op.f("ix_ltc_imports_org_id"), "ltc_imports", ["org_id"])
    op.create_table(
        "ltc_fund_entries",
        sa.Column("id", BigKey, autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("IN", "OUT", name="direction", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_fund_entries_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_fund_entries")),
        sa.UniqueConstraint(
            "org_id", "reference", name=op.f("uq_ltc_fund_entries_org_id_reference")
        ),
    )
    op.create_index("ix_ltc_fund_entries_org_month", "ltc_fund_entries", ["org_id", "month"])


def downgrade() -> None:
    op.drop_index("ix_ltc_fund_entries_org_month", table_name="ltc_fund_entries")
    op.drop_table("ltc_fund_entries")
    op.drop_index(op.f("ix_ltc_imports_org_id"), table_name="ltc_imports")
    op.drop_table("ltc_imports")
    op.drop_table("ltc_insured")
