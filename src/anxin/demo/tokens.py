"""The demo's device-token files: each device id with its name, type and token, so a person
reading ``var/demo-device-tokens.json`` can tell the sleep mat's token from the radar's."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.iot.models import Device


def read_tokens(path: Path | None) -> dict[str, str]:
    """Device id -> token; entries written before names were added (plain tokens) still read."""
    if path is None or not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {
        str(device_id): str(entry["token"] if isinstance(entry, dict) else entry)
        for device_id, entry in data.items()
    }


def write_tokens(path: Path, session: Session, tokens: dict[str, str]) -> None:
    devices = {d.id: d for d in session.scalars(select(Device).where(Device.id.in_(list(tokens))))}
    entries = {
        device_id: {
            "name": devices[device_id].name if device_id in devices else "",
            "type": devices[device_id].device_type if device_id in devices else "",
            "token": token,
        }
        for device_id, token in tokens.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries, indent=2, ensure_ascii=False))
    path.chmod(0o600)  # the tokens are the devices' passwords
