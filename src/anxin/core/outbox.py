"""The event outbox: domain events written in the publisher's transaction, relayed after commit.

Only the JetStream bus (`core.nats_bus`) writes here; the in-process bus delivers directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.db import Base

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class EventOutbox(Base):
    __tablename__ = "event_outbox"

    seq: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]
