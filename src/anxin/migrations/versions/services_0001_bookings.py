"""services: providers, workers and bookings

Revision ID: services_0001
Revises: 0001
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "services_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("services",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_providers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_service_providers_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_providers")),
    )
    with op.batch_alter_table("service_providers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_providers_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "service_workers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("provider_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("week", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["service_providers.id"],
            name=op.f("fk_service_workers_provider_id_service_providers"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_service_workers_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_workers")),
        sa.UniqueConstraint("user_id", name=op.f("uq_service_workers_user_id")),
    )
    with op.batch_alter_table("service_workers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_workers_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "service_bookings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("elder_id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=False),
        sa.Column("scenario", sa.String(length=40), nullable=False),
        sa.Column("area", sa.String(length=60), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "requested",
                "assigned",
                "in_progress",
                "done",
                "cancelled",
                name="bookingstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "elder",
                "family",
                "butler",
                "speaker",
                name="bookingsource",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("booked_by", sa.String(length=120), nullable=False),
        sa.Column("notes", sa.String(length=1000), nullable=False),
        sa.Column("worker_id", sa.String(length=36), nullable=True),
        sa.Column("assigned_by", sa.String(length=120), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checklist_done", sa.JSON(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["elder_id"], ["elders.id"], name=op.f("fk_service_bookings_elder_id_elders")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_service_bookings_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_service_bookings_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["service_workers.id"],
            name=op.f("fk_service_bookings_worker_id_service_workers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_bookings")),
    )
    with op.batch_alter_table("service_bookings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_bookings_elder_id"), ["elder_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_bookings_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_bookings_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_bookings_start"), ["start"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_bookings_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_service_bookings_worker_id"), ["worker_id"], unique=False
        )

    op.create_table(
        "service_complaints",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("provider_id", sa.String(length=36), nullable=False),
        sa.Column("opened_by", sa.String(length=120), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=120), nullable=True),
        sa.Column("resolution", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["service_bookings.id"],
            name=op.f("fk_service_complaints_booking_id_service_bookings"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_service_complaints_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["service_providers.id"],
            name=op.f("fk_service_complaints_provider_id_service_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_complaints")),
    )
    with op.batch_alter_table("service_complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_complaints_booking_id"), ["booking_id"])
        batch_op.create_index(
            batch_op.f("ix_service_complaints_organisation_id"), ["organisation_id"]
        )
        batch_op.create_index(batch_op.f("ix_service_complaints_opened_at"), ["opened_at"])
        batch_op.create_index(batch_op.f("ix_service_complaints_provider_id"), ["provider_id"])


def downgrade() -> None:
    with op.batch_alter_table("service_complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_complaints_provider_id"))
        batch_op.drop_index(batch_op.f("ix_service_complaints_opened_at"))
        batch_op.drop_index(batch_op.f("ix_service_complaints_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_service_complaints_booking_id"))

    op.drop_table("service_complaints")
    with op.batch_alter_table("service_bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_bookings_worker_id"))
        batch_op.drop_index(batch_op.f("ix_service_bookings_status"))
        batch_op.drop_index(batch_op.f("ix_service_bookings_start"))
        batch_op.drop_index(batch_op.f("ix_service_bookings_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_service_bookings_household_id"))
        batch_op.drop_index(batch_op.f("ix_service_bookings_elder_id"))

    op.drop_table("service_bookings")
    with op.batch_alter_table("service_workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_workers_provider_id"))

    op.drop_table("service_workers")
    with op.batch_alter_table("service_providers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_providers_organisation_id"))

    op.drop_table("service_providers")
