"""Walking an application through the API to any gate, for the gate, loan and page tests."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from anxin.core.clock import FrozenClock
from anxin.lending.product import PRODUCT
from tests.conftest import login
from tests.lending.test_lending_applications import BASE, _apply, application

# The smallest bytes a sniffer takes for an MP4 recording (an `ftyp` box), then some payload.
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2048
CHECKLIST = json.dumps(
    [{"statement": s, "at_seconds": 10 * n} for n, s in enumerate(PRODUCT.recording_statements)]
)
ANSWERS = {"applied_self": True, "understood_cost": True, "no_fees_paid": False, "wants_loan": True}
STEPS = ("approved", "disclosed", "acknowledged", "recorded", "cooled", "called")


class Flow:
    def __init__(self, client: TestClient, bank: dict[str, dict[str, str]], clock: FrozenClock):
        self.client, self.bank, self.clock = client, bank, clock
        self.borrower: dict[str, str] = {}
        self.username = ""
        self.id = ""
        self.facts: dict[str, Any] = {}
        self.loan: dict[str, Any] = {}  # the disbursed loan, once paid out

    def advance(self, delta: timedelta) -> None:
        """Move the clock; tokens expire, so everyone logs in again."""
        self.clock.advance(delta)
        for name in self.bank:
            self.bank[name] = login(self.client, name, f"{name}-password").headers
        if self.borrower:
            self.borrower = login(self.client, self.username, f"{self.username}-password").headers

    def url(self, tail: str = "") -> str:
        return f"{BASE}/applications/{self.id}{tail}"

    def post(self, who: str, tail: str, **kw: Any) -> Any:
        headers = self.borrower if who == "borrower" else self.bank[who]
        return self.client.post(self.url(tail), headers=headers, **kw)

    def get(self, who: str, tail: str = "", **kw: Any) -> Any:
        headers = self.borrower if who == "borrower" else self.bank[who]
        return self.client.get(self.url(tail), headers=headers, **kw)

    def ok(self, r: Any, status: int = 200) -> Any:
        assert r.status_code == status, r.text
        return r.json()

    def upload(self, who: str = "officer", **kw: Any) -> Any:
        files = kw.pop("files", {"file": ("talk.mp4", MP4, "video/mp4")})
        data = kw.pop("data", {"checklist": CHECKLIST})
        return self.post(who, "/recordings", files=files, data=data)

    def to(self, step: str, username: str = "chen") -> Flow:
        """Take a new application to `step` (one of STEPS), each gate through the API."""
        target = STEPS.index(step)
        self.id = _apply(self.client, self.bank["officer"], application())["id"]
        decision = self.ok(self.post("officer", "/decision"), 201)
        if decision["outcome"] != "approved":
            reason = "The branch knows the trader's ten years of turnover well"
            body = {"outcome": "approved", "reason": reason}
            self.ok(self.post("risk", "/override", json=body), 201)
        self.ok(
            self.post(
                "officer",
                "/borrower-account",
                json={"username": username, "password": f"{username}-password"},
            ),
            201,
        )
        self.username = username
        self.borrower = login(self.client, username, f"{username}-password").headers
        if target >= 1:
            self.facts = self.ok(self.post("officer", "/disclosure"), 201)
        if target >= 2:
            body = {"facts_sha256": self.facts["facts_sha256"]}
            self.ok(self.post("borrower", "/disclosure/acknowledge", json=body))
        if target >= 3:
            recording = self.ok(self.upload(), 201)
            review = {"approve": True, "note": "all six statements heard"}
            self.ok(self.post("risk", f"/recordings/{recording['id']}/review", json=review))
        if target >= 4:
            self.advance(timedelta(days=PRODUCT.cooling_off_days))
        if target >= 5:
            self.ok(self.post("officer", "/callbacks"), 201)
            body = {"reached": True, "answers": ANSWERS, "note": "spoke to Mr Chen"}
            self.ok(self.post("officer", "/callbacks/current", json=body))
        return self

    def disburse(self, key: str = "payout-0001") -> Any:
        return self.post("officer", "/disbursement", json={"idempotency_key": key})
