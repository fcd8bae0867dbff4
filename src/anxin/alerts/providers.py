"""Notification providers: one small protocol, a registry, and two implementations.

* `LocalProvider` ("local", the default for every channel): stores each message in
  `local_messages` (the Outbox the console shows) in the dispatcher's own transaction, and
  simulates a delivery receipt after `ANXIN_LOCAL_RECEIPT_DELAY_S` that fails with probability
  `ANXIN_LOCAL_FAILURE_RATE` (decided from the message's key, so a run can be replayed).
* `HttpProvider` ("http"): generic JSON over HTTP with an API key, for SMS and voice gateways
  (and webhooks, posting to the recipient's URL). See docs/alerts.md for the wire format.

A provider receives the notification's idempotency key with every attempt; a provider that
honours it never delivers the same message twice, even when the dispatcher died mid-send and
tried again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.alerts.models import LocalMessage
from anxin.core.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboundMessage:
    idempotency_key: str  # the same for every attempt at one notification
    attempt_key: str  # unique per attempt
    channel: str
    address: str  # phone number, user id, or URL
    recipient_name: str
    subject: str
    body: str


@dataclass(frozen=True)
class SendResult:
    accepted: bool
    provider_message_id: str | None = None
    error: str | None = None
    permanent: bool = False  # a refusal that retrying cannot fix (bad number, bad key)
    delivered: bool = False  # the provider knows it is delivered already (no receipt to wait for)


@dataclass(frozen=True)
class Receipt:
    provider_message_id: str
    delivered: bool
    at: datetime
    error: str | None = None


class NotificationProvider(Protocol):
    name: str

    def send(self, message: OutboundMessage, *, session: Session, now: datetime) -> SendResult:
        """Hand one message over. Raise nothing: report failure in the result."""

    def receipts(
        self, provider_message_ids: Sequence[str], *, session: Session, now: datetime
    ) -> list[Receipt]:
        """Delivery receipts that have arrived for these messages (may be none yet)."""


class LocalProvider:
    """Offline provider: the message is a row; the receipt is simulated."""

    name = "local"

    def __init__(
        self, *, receipt_delay_s: float = 2.0, failure_rate: float = 0.0, seed: str = ""
    ) -> None:
        self.receipt_delay_s = receipt_delay_s
        self.failure_rate = failure_rate
        self.seed = seed

    def _fails(self, key: str) -> bool:
        if self.failure_rate <= 0:
            return False
        digest = hashlib.sha256(f"{self.seed}:{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.failure_rate

    def send(self, message: OutboundMessage, *, session: Session, now: datetime) -> SendResult:
        existing = session.scalar(
            select(LocalMessage).where(LocalMessage.idempotency_key == message.idempotency_key)
        )
        if existing is not None:  # the same message again: never stored (or sent) twice
            return SendResult(accepted=True, provider_message_id=existing.id)
        console = message.channel == "console"
        row = LocalMessage(
            idempotency_key=message.idempotency_key,
            channel=message.channel,
            address=message.address,
            subject=message.subject,
            body=message.body,
            accepted_at=now,
            # A console message is in the console the moment it is stored.
            receipt_at=now if console else now + timedelta(seconds=self.receipt_delay_s),
            outcome="failed"
            if not console and self._fails(message.idempotency_key)
            else "delivered",
        )
        session.add(row)
        session.flush()
        return SendResult(accepted=True, provider_message_id=row.id, delivered=console)

    def receipts(
        self, provider_message_ids: Sequence[str], *, session: Session, now: datetime
    ) -> list[Receipt]:
        if not provider_message_ids:
            return []
        rows = session.scalars(
            select(LocalMessage).where(
                LocalMessage.id.in_(list(provider_message_ids)), LocalMessage.receipt_at <= now
            )
        )
        return [
            Receipt(
                provider_message_id=r.id,
                delivered=r.outcome == "delivered",
                at=r.receipt_at,
                error=None if r.outcome == "delivered" else "simulated delivery failure",
            )
            for r in rows
        ]


PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 410, 413, 422})


class HttpProvider:
    """Generic JSON-over-HTTP gateway.

    Send: ``POST <url>`` with ``{"to", "channel", "subject", "text", "idempotency_key",
    "attempt_key", "name"}``, headers ``Authorization: Bearer <api key>`` and
    ``Idempotency-Key``; a 2xx answer ``{"id": "...", "status": "accepted"|"delivered"}``.
    Receipts: ``GET <url>/<id>`` answers ``{"status": "accepted"|"delivered"|"failed",
    "error": "..."}``. A 4xx (but 408/429) is a permanent refusal; 5xx, 408, 429, timeouts and
    connection errors are retried. With ``url=None`` the message's address is the URL (webhooks).
    """

    def __init__(
        self,
        *,
        name: str,
        url: str | None,
        api_key: str | None,
        timeout_s: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/") if url else None
        self.api_key = api_key
        self.timeout_s = timeout_s
        self._client = client or httpx.Client(timeout=timeout_s)

    def _headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def send(self, message: OutboundMessage, *, session: Session, now: datetime) -> SendResult:
        url = self.url or message.address
        body: dict[str, Any] = {
            "to": message.address,
            "channel": message.channel,
            "name": message.recipient_name,
            "subject": message.subject,
            "text": message.body,
            "idempotency_key": message.idempotency_key,
            "attempt_key": message.attempt_key,
        }
        try:
            response = self._client.post(
                url, json=body, headers=self._headers(message.idempotency_key)
            )
        except httpx.HTTPError as exc:
            return SendResult(accepted=False, error=f"{type(exc).__name__}: {exc}"[:500])
        if response.status_code >= 300:
            permanent = response.status_code in PERMANENT_STATUSES
            return SendResult(
                accepted=False,
                error=f"HTTP {response.status_code}: {response.text[:300]}",
                permanent=permanent,
            )
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        status = str(data.get("status", "accepted"))
        if status == "failed":
            return SendResult(
                accepted=False, error=str(data.get("error", "refused by provider")), permanent=True
            )
        provider_id = data.get("id")
        # Without an id there is nothing to ask for a receipt: acceptance is all we will know.
        return SendResult(
            accepted=True,
            provider_message_id=str(provider_id) if provider_id is not None else None,
            delivered=status == "delivered" or provider_id is None or self.url is None,
        )

    def receipts(
        self, provider_message_ids: Sequence[str], *, session: Session, now: datetime
    ) -> list[Receipt]:
        if self.url is None:
            return []
        out: list[Receipt] = []
        for provider_id in provider_message_ids:
            try:
                response = self._client.get(f"{self.url}/{provider_id}", headers=self._headers())
                data = response.json() if response.status_code == 200 else {}
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("receipt poll for %s failed: %s", provider_id, exc)
                continue
            status = data.get("status") if isinstance(data, dict) else None
            if status in ("delivered", "failed"):
                error = data.get("error") if status == "failed" else None
                out.append(Receipt(provider_id, status == "delivered", now, error))
        return out

    def close(self) -> None:
        self._client.close()


@dataclass
class ProviderRegistry:
    """Which provider serves which channel."""

    by_channel: dict[str, NotificationProvider] = field(default_factory=dict)

    def for_channel(self, channel: str) -> NotificationProvider:
        provider = self.by_channel.get(channel)
        if provider is None:
            raise LookupError(f"no provider for channel {channel!r}")
        return provider

    def by_name(self, name: str) -> list[NotificationProvider]:
        seen: dict[int, NotificationProvider] = {}
        for provider in self.by_channel.values():
            if provider.name == name:
                seen[id(provider)] = provider
        return list(seen.values())

    def all(self) -> list[NotificationProvider]:
        unique: dict[int, NotificationProvider] = {id(p): p for p in self.by_channel.values()}
        return list(unique.values())


ProviderFactory = Callable[[Settings, str], NotificationProvider]
_factories: dict[str, ProviderFactory] = {}


def register_provider(name: str, factory: ProviderFactory) -> None:
    """Plugins register a factory under a name; settings pick a name per channel."""
    _factories[name] = factory


def provider_names() -> list[str]:
    return sorted(_factories)


def _local(settings: Settings, channel: str) -> NotificationProvider:
    return LocalProvider(
        receipt_delay_s=settings.local_receipt_delay_s, failure_rate=settings.local_failure_rate
    )


def _http(settings: Settings, channel: str) -> NotificationProvider:
    if channel == "webhook":
        return HttpProvider(
            name="http", url=None, api_key=None, timeout_s=settings.notify_http_timeout_s
        )
    url = {"sms": settings.sms_url, "voice": settings.voice_url}.get(channel)
    key = {"sms": settings.sms_api_key, "voice": settings.voice_api_key}.get(channel)
    if not url:
        raise ValueError(f"ANXIN_{channel.upper()}_URL must be set for the http provider")
    return HttpProvider(
        name="http",
        url=url,
        api_key=key.get_secret_value() if key is not None else None,
        timeout_s=settings.notify_http_timeout_s,
    )


register_provider("local", _local)
register_provider("http", _http)


def build_providers(settings: Settings) -> ProviderRegistry:
    """One provider per channel, as the settings name them; console is always local."""
    local = _local(settings, "console")
    chosen = {
        "sms": settings.sms_provider,
        "voice": settings.voice_provider,
        "push": settings.push_provider,
        "webhook": settings.webhook_provider,
    }
    registry = ProviderRegistry(by_channel={"console": local})
    for channel, name in chosen.items():
        if name == "local":
            registry.by_channel[channel] = local
            continue
        factory = _factories.get(name)
        if factory is None:
            raise ValueError(
                f"ANXIN_{channel.upper()}_PROVIDER={name!r} is not a known provider; "
                f"known: {', '.join(provider_names())}"
            )
        registry.by_channel[channel] = factory(settings, channel)
    return registry
