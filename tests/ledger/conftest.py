"""Ledger fixtures: keys preset on the app, consortium users, a witness pair."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from anxin.core.context import AppContext
from anxin.core.security import Role
from anxin.ledger.config import LedgerKeys
from anxin.ledger.note import ALG_COSIGNATURE_V1, Signer
from anxin.ledger.runtime import KEYS
from anxin.ledger.verify import Policy
from anxin.ledger.witnessd import Witness
from anxin.people import service as people
from anxin.people.models import OrganisationKind
from anxin.people.schemas import UserCreate

ORIGIN = "anxin.test/ledger"


@dataclass
class Consortium:
    log: Signer
    witnesses: list[Signer]
    policy: Policy


@pytest.fixture
def consortium(app: FastAPI) -> Consortium:
    """A log key and two witness keys; the app trusts both witnesses and needs both."""
    log = Signer.generate(ORIGIN)
    witnesses = [Signer.generate(f"bank-{c}.test/witness", ALG_COSIGNATURE_V1) for c in "ab"]
    policy = Policy(log.verifier, tuple(w.verifier for w in witnesses), quorum=2)
    app.state.context.put(KEYS, LedgerKeys(log, policy))
    return Consortium(log, witnesses, policy)


@pytest.fixture
def witness_of(consortium: Consortium, tmp_path: Path) -> Callable[[int], Witness]:
    def make(i: int) -> Witness:
        return Witness(
            signer=consortium.witnesses[i],
            log_key=consortium.log.verifier,
            state_path=tmp_path / f"witness-{i}" / "state.json",
        )

    return make


@dataclass
class Member:
    organisation_id: str
    username: str
    password: str


@pytest.fixture
def members(context: AppContext) -> dict[str, Member]:
    """Users of two organisations with the roles that may (and may not) append."""
    out: dict[str, Member] = {}
    with context.unit(actor="test:seed") as uow:
        session, now = uow.session, uow.now()
        coop = people.create_organisation(
            session=session, name="Rice Coop", kind=OrganisationKind.COOPERATIVE, now=now
        )
        bank = people.create_organisation(
            session=session, name="Test Bank", kind=OrganisationKind.BANK, now=now
        )
        for username, role, org in (
            ("farmer1", Role.FARMER, coop.id),
            ("coopadmin", Role.ADMIN, coop.id),
            ("loanofficer", Role.LOAN_OFFICER, bank.id),
            ("bankfarmer", Role.FARMER, bank.id),
            ("ledgeradmin", Role.ADMIN, bank.id),
            ("buyer1", Role.BUYER, bank.id),
        ):
            password = f"{username}-password"
            people.create_user(
                session=session,
                organisation_id=org,
                data=UserCreate(
                    username=username, display_name=username, role=role, password=password
                ),
                now=now,
            )
            out[username] = Member(org, username, password)
    return out


@pytest.fixture
def auth(client: TestClient, members: dict[str, Member]) -> Callable[[str], dict[str, str]]:
    def headers(username: str) -> dict[str, str]:
        m = members[username]
        resp = client.post(
            "/api/v1/auth/token", data={"username": m.username, "password": m.password}
        )
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['access_token']}"}

    return headers
