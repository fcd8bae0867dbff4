"""ltc: city rules, the service menu, institutions, beneficiaries, visits, rentals, settlements
and their claim lines

Revision ID: ltc_0002
Revises: ltc_0001
Create Date: 2026-12-07 03:27:49.683707
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ltc_0002"
down_revision: str | Sequence[str] | None = "ltc_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ltc_institutions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_institutions_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_institutions")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_ltc_institutions_org_id_name")),
    )
    op.create_table(
        "ltc_rules",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("city", sa.String(length=40), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("monthly_cash", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("visits_per_week", sa.Integer(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("visit_copay_ratio", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("rental_fund_ratio", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_rules_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_rules")),
    )
    with op.batch_alter_table("ltc_rules", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ltc_rules_org_city_grade", ["org_id", "city", "grade"], unique=False
        )

    op.create_table(
        "ltc_services",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("price", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_services_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_services")),
        sa.UniqueConstraint("org_id", "code", name=op.f("uq_ltc_services_org_id_code")),
    )
    op.create_table(
        "ltc_settlements",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("fund_out", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("copay", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("ledger_seq", sa.BigInteger(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_settlements_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_settlements")),
        sa.UniqueConstraint("org_id", "month", name=op.f("uq_ltc_settlements_org_id_month")),
    )
    op.create_table(
        "ltc_beneficiaries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column(
            "insured_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("city", sa.String(length=40), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("entitled_from", sa.Date(), nullable=False),
        sa.Column("entitled_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["insured_id"],
            ["ltc_insured.id"],
            name=op.f("fk_ltc_beneficiaries_insured_id_ltc_insured"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_beneficiaries_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_beneficiaries")),
        sa.UniqueConstraint("insured_id", name=op.f("uq_ltc_beneficiaries_insured_id")),
    )
    with op.batch_alter_table("ltc_beneficiaries", schema=None) as batch_op:
        batch_op.create_index("ix_ltc_beneficiaries_org", ["org_id"], unique=False)

    op.create_table(
        "ltc_claim_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "settlement_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "kind",
            sa.Enum("CASH", "VISIT", "RENTAL", name="linekind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("ref", sa.BigInteger(), nullable=False),
        sa.Column("beneficiary_id", sa.BigInteger(), nullable=False),
        sa.Column("payee", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("fund", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("copay", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "ENTERED",
                "CHECKED",
                "VALUATED",
                "REJECTED",
                name="claimstate",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["ltc_settlements.id"],
            name=op.f("fk_ltc_claim_lines_settlement_id_ltc_settlements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_claim_lines")),
    )
    with op.batch_alter_table("ltc_claim_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ltc_claim_lines_settlement_kind", ["settlement_id", "kind"], unique=False
        )

    op.create_table(
        "ltc_rentals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column(
            "beneficiary_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=24), nullable=False),
        sa.Column("monthly_rent", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["ltc_beneficiaries.id"],
            name=op.f("fk_ltc_rentals_beneficiary_id_ltc_beneficiaries"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_rentals_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_rentals")),
    )
    with op.batch_alter_table("ltc_rentals", schema=None) as batch_op:
        batch_op.create_index("ix_ltc_rentals_org", ["org_id"], unique=False)

    op.create_table(
        "ltc_visits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column(
            "beneficiary_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "institution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("caregiver", sa.String(length=64), nullable=False),
        sa.Column("check_in", sa.DateTime(timezone=True), nullable=False),
        sa.Column("check_out", sa.DateTime(timezone=True), nullable=True),
        sa.Column("in_lat", sa.Float(), nullable=False),
        sa.Column("in_lon", sa.Float(), nullable=False),
        sa.Column("out_lat", sa.Float(), nullable=True),
        sa.Column("out_lon", sa.Float(), nullable=True),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("presence", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["ltc_beneficiaries.id"],
            name=op.f("fk_ltc_visits_beneficiary_id_ltc_beneficiaries"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["ltc_institutions.id"],
            name=op.f("fk_ltc_visits_institution_id_ltc_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_ltc_visits_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ltc_visits")),
    )
    with op.batch_alter_table("ltc_visits", schema=None) as batch_op:
        batch_op.create_index("ix_ltc_visits_org_check_in", ["org_id", "check_in"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ltc_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_ltc_visits_org_check_in")

    op.drop_table("ltc_visits")
    with op.batch_alter_table("ltc_rentals", schema=None) as batch_op:
        batch_op.drop_index("ix_ltc_rentals_org")

    op.drop_table("ltc_rentals")
    with op.batch_alter_table("ltc_claim_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_ltc_claim_lines_settlement_kind")

    op.drop_table("ltc_claim_lines")
    with op.batch_alter_table("ltc_beneficiaries", schema=None) as batch_op:
        batch_op.drop_index("ix_ltc_beneficiaries_org")

    op.drop_table("ltc_beneficiaries")
    op.drop_table("ltc_settlements")
    op.drop_table("ltc_services")
    with op.batch_alter_table("ltc_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_ltc_rules_org_city_grade")

    op.drop_table("ltc_rules")
    op.drop_table("ltc_institutions")
