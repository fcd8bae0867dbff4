"""The ledger API end to end: append, read, prove, checkpoint, witnesses cosign, verify offline."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from anxin.ledger import merkle
from anxin.ledger.commands import app as ledger_cli
from anxin.ledger.verify import Bundle, verify_bundle
from anxin.ledger.witness import Outcome
from anxin.ledger.witnessd import HttpLogClient, Witness

API = "/api/v1/ledger"
Auth = Callable[[str], dict[str, str]]


def _append(
    client: TestClient, headers: dict[str, str], i: int, entry_type: str = "trace.event"
) -> int:
    resp = client.post(
        f"{API}/entries",
        json={"entry_type": entry_type, "body": {"lot": f"L{i}", "event": "harvest", "kg": i}},
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    return int(resp.json()["seq"])


def test_append_is_for_authorised_roles_and_namespaces(
    client: TestClient, consortium: Any, auth: Auth, members: dict[str, Any]
) -> None:
    farmer = auth("farmer1")
    body = {"entry_type": "trace.event", "body": {"lot": "L1", "event": "transplanting"}}
    first = client.post(f"{API}/entries", json=body, headers=farmer)
    assert first.status_code == 201, first.text
    entry = first.json()
    assert entry["seq"] == 0 and entry["organisation_id"] == members["farmer1"].organisation_id
    assert entry["body"] == body["body"]
    leaf = entry["leaf"].encode()
    assert base64.b64decode(entry["leaf_hash"]) == merkle.leaf_hash(leaf)

    repeat = client.post(f"{API}/entries", json=body, headers=farmer)
    assert repeat.status_code == 200 and repeat.json()["seq"] == 0

    forged = client.post(
        f"{API}/entries",
        json={"entry_type": "collateral.receipt", "body": {"x": 1}},
        headers=farmer,
    )
    assert forged.status_code == 403
    assert client.post(f"{API}/entries", json=body, headers=auth("buyer1")).status_code == 403
    assert client.post(f"{API}/entries", json=body).status_code == 401
    bad = client.post(f"{API}/entries", json={"entry_type": "trace.event"}, headers=farmer)
    assert bad.status_code == 422
    loan = client.post(
        f"{API}/entries",
        json={"entry_type": "lending.dual_recording", "payload_sha256": "cd" * 32},
        headers=auth("loanofficer"),
    )
    assert loan.status_code == 201 and loan.json()["body"] is None

    # Bodies are for the submitting organisation (and supervisors); the envelope is not secret.
    other = client.get(f"{API}/entries/0", headers=auth("loanofficer")).json()
    assert other["body"] is None and other["body_withheld"] is True
    # an admin is no supervisor: another organisation's bodies are withheld from it too,
    # in the entry and the search, while its proofs stay readable
    admin = auth("ledgeradmin")
    assert client.get(f"{API}/entries/0", headers=admin).json()["body_withheld"] is True
    listed = client.get(f"{API}/entries", params={"entry_type": "trace.event"}, headers=admin)
    assert [(e["seq"], e["body"]) for e in listed.json()] == [(0, None)]
    proof = client.get(f"{API}/proofs/inclusion?index=0&tree_size=2", headers=admin)
    assert proof.status_code == 200, proof.text
    same_org = client.get(f"{API}/entries/0", headers=farmer).json()
    assert same_org["body"] == body["body"]
    assert client.get(f"{API}/entries/0").status_code == 401
    assert client.get(f"{API}/entries/99", headers=farmer).status_code == 404

    found = client.get(f"{API}/entries", params={"payload_sha256": "CD" * 32}, headers=farmer)
    assert [e["seq"] for e in found.json()] == [1]
    mine = client.get(f"{API}/entries", params={"entry_type": "trace.event"}, headers=farmer).json()
    assert [e["seq"] for e in mine] == [0] and mine[0]["body"] == body["body"]

    assert client.delete(f"{API}/entries/0/body", headers=farmer).status_code == 403
    # another organisation's admin may not erase the coop's body; the coop's own admin may
    assert client.delete(f"{API}/entries/0/body", headers=auth("ledgeradmin")).status_code == 403
    erased = client.delete(f"{API}/entries/0/body", headers=auth("coopadmin"))
    assert erased.status_code == 200 and erased.json()["body"] is None
    assert erased.json()["payload_sha256"] == entry["payload_sha256"]


def test_checkpoints_witnesses_proofs_and_offline_verify(
    client: TestClient,
    consortium: Any,
    auth: Auth,
    witness_of: Callable[[int], Witness],
    tmp_path: Path,
) -> None:
    farmer = auth("farmer1")
    assert client.get(f"{API}/checkpoint").status_code == 404
    for i in range(6):
        _append(client, farmer, i)
    admin = auth("ledgeradmin")
    assert client.post(f"{API}/checkpoints", headers=farmer).status_code == 403
    cp = client.post(f"{API}/checkpoints", headers=admin)
    assert cp.status_code == 201, cp.text
    assert cp.json()["size"] == 6 and cp.json()["cosignatures"] == 0

    log = HttpLogClient(client)
    w0, w1 = witness_of(0), witness_of(1)
    assert w0.run_once(log, now=100).outcome is Outcome.COSIGN
    assert w1.run_once(log, now=100).outcome is Outcome.COSIGN
    latest = client.get(f"{API}/checkpoint", params={"min_cosignatures": 2}).json()
    assert latest["size"] == 6 and latest["cosignatures"] == 2
    assert latest["checkpoint"].count("\u2014 ") == 3

    for i in range(6, 11):
        _append(client, farmer, i)
    client.post(f"{API}/checkpoints", headers=admin)
    assert w0.run_once(log, now=200).outcome is Outcome.COSIGN  # checked 6 -> 11 first
    # Only one witness so far: the newest fully cosigned checkpoint is still size 6.
    assert client.get(f"{API}/checkpoint", params={"min_cosignatures": 2}).json()["size"] == 6
    assert w1.run_once(log, now=200).outcome is Outcome.COSIGN
    assert client.get(f"{API}/checkpoint", params={"min_cosignatures": 2}).json()["size"] == 11

    # A cosignature from a stranger is refused: the signature is the credential.
    from anxin.ledger.note import ALG_COSIGNATURE_V1, Signer
    from anxin.ledger.witness import cosign

    stranger = Signer.generate("evil.test/w", ALG_COSIGNATURE_V1)
    line = cosign(latest["checkpoint"], stranger, 1)
    refused = client.post(f"{API}/checkpoints/6/cosignatures", json={"cosignature": line})
    assert refused.status_code == 403

    proof = client.get(f"{API}/proofs/inclusion", params={"index": 4, "tree_size": 11}).json()
    root = base64.b64decode(client.get(f"{API}/checkpoint").json()["root_hash"])
    merkle.verify_inclusion(
        4,
        11,
        base64.b64decode(proof["leaf_hash"]),
        [base64.b64decode(p) for p in proof["proof"]],
        root,
    )
    cons = client.get(f"{API}/proofs/consistency", params={"first": 6, "second": 11}).json()
    assert len(cons["proof"]) > 0
    assert (
        client.get(f"{API}/proofs/consistency", params={"first": 6, "second": 99}).status_code
        == 422
    )

    info = client.get(API).json()
    assert info["origin"] == "anxin.test/ledger" and info["quorum"] == 2 and info["tree_size"] == 11

    bundle = client.get(f"{API}/entries/4/bundle", headers=farmer).json()
    assert bundle["body"] == {"lot": "L4", "event": "harvest", "kg": 4}
    assert verify_bundle(Bundle.from_json(bundle), consortium.policy).ok
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    runner = CliRunner()
    args = ["verify", str(path), "--log-key", info["log_key"], "--quorum", "2"]
    for w in info["witnesses"]:
        args += ["--witness-key", w]
    yes = runner.invoke(ledger_cli, args)
    assert yes.exit_code == 0 and yes.output.startswith("YES"), yes.output

    # The same proof against a checkpoint obtained elsewhere: fine if it is the same tree,
    # refused (with the reason) if it is another size.
    own = tmp_path / "checkpoint.txt"
    own.write_text(client.get(f"{API}/checkpoints/11").json()["checkpoint"])
    same = runner.invoke(ledger_cli, [*args, "--checkpoint", str(own)])
    assert same.exit_code == 0, same.output
    own.write_text(client.get(f"{API}/checkpoints/6").json()["checkpoint"])
    other = runner.invoke(ledger_cli, [*args, "--checkpoint", str(own)])
    assert other.exit_code == 1 and "inclusion proof" in other.output, other.output

    bundle["body"]["kg"] = 40
    path.write_text(json.dumps(bundle))
    no = runner.invoke(ledger_cli, args)
    assert no.exit_code == 1 and "body does not match" in no.output

    # Another organisation gets the evidence without the body, and it still verifies.
    hidden = client.get(f"{API}/entries/4/bundle", headers=auth("loanofficer")).json()
    assert "body" not in hidden
    assert verify_bundle(Bundle.from_json(hidden), consortium.policy).ok
