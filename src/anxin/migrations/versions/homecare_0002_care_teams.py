"""homecare: butler care teams and their leads (the last step of a care escalation)

Revision ID: homecare_0002
Revises: 0001
Create Date: 2026-11-29 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "homecare_0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "care_teams",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("lead_user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_user_id"], ["users.id"], name=op.f("fk_care_teams_lead_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_care_teams_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_teams")),
    )
    with op.batch_alter_table("care_teams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_teams_organisation_id"), ["organisation_id"])

    op.create_table(
        "care_team_members",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("team_id", sa.String(length=36), nullable=False),
        sa.Column("butler_user_id", sa.String(length=36), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["butler_user_id"], ["users.id"], name=op.f("fk_care_team_members_butler_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["care_teams.id"], name=op.f("fk_care_team_members_team_id_care_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_team_members")),
        sa.UniqueConstraint("butler_user_id", name=op.f("uq_care_team_members_butler_user_id")),
    )
    with op.batch_alter_table("care_team_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_team_members_team_id"), ["team_id"])


def downgrade() -> None:
    with op.batch_alter_table("care_team_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_team_members_team_id"))
    op.drop_table("care_team_members")
    with op.batch_alter_table("care_teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_teams_organisation_id"))
    op.drop_table("care_teams")
