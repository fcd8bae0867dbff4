from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.audit import Audited
from anxin.core.db import ID, Base, new_id


class HouseholdMode(StrEnum):
    HOME = "home"
    AWAY = "away"
    NIGHT = "night"


class Household(Audited, Base):
    __tablename__ = "households"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400))
    mode: Mapped[HouseholdMode] = mapped_column(
        Enum(HouseholdMode, native_enum=False, length=16), default=HouseholdMode.HOME
    )
    created_at: Mapped[datetime]


class Elder(Audited, Base):
    __tablename__ = "elders"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date]
    sex: Mapped[str] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(32))
    # The elder's own login, if they use the app or speaker account.
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    butler_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    conditions: Mapped[list[str]] = mapped_column(default=list)
    medications: Mapped[list[Any]] = mapped_column(default=list)
    emergency_contacts: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]


class FamilyMember(Audited, Base):
    """A family user linked to an elder; consent is recorded before they see anything."""

    __tablename__ = "family_members"
    __table_args__ = (UniqueConstraint("elder_id", "user_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    elder_id: Mapped[str] = mapped_column(ForeignKey("elders.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    relation: Mapped[str] = mapped_column(String(40))
    consent_at: Mapped[datetime]


class CareTeam(Audited, Base):
    """A butler team of the care organisation, with its team lead (the last escalation step).

    An elder's team is the team of the elder's butler; an organisation with teams but none
    containing that butler falls back to its oldest team, so an alarm always has a lead to
    escalate to once any team exists.
    """

    __tablename__ = "care_teams"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    lead_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class CareTeamMember(Audited, Base):
    __tablename__ = "care_team_members"
    __table_args__ = (UniqueConstraint("butler_user_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(ForeignKey("care_teams.id"), index=True)
    # A butler belongs to one team at a time.
    butler_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    joined_at: Mapped[datetime]
