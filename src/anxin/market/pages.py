"""placeholder"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from anxin.core.domain import NavLink

TEMPLATES = Path(__file__).parent / "templates"
router = APIRouter(tags=["console"], include_in_schema=False)
NAV: list[NavLink] = []
LABELS: dict[str, tuple[str, str]] = {}
