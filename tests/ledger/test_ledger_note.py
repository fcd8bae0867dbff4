"""Signed notes, checkpoints and cosignatures (anxin.ledger.note)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from anxin.ledger import note
from anxin.ledger.note import (
    ALG_COSIGNATURE_V1,
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_checkpoint,
    parse_checkpoint,
    parse_note,
    sign_note,
)

ROOT = bytes(range(32))


def test_known_key_id_and_vkey() -> None:
    # Deterministic key so the encoding is pinned, not just round-tripped.
    sk = Ed25519PrivateKey.from_private_bytes(bytes(32))
    signer = Signer("example.com/log", note.ALG_ED25519, sk)
    ver = signer.verifier
    pub = ver.public_key
    assert pub.hex() == "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"
    assert ver.key_id == note.key_id("example.com/log", 1, pub)
    name, kid, blob = ver.vkey.split("+")
    assert name == "example.com/log" and len(kid) == 8
    assert base64.b64decode(blob) == b"\x01" + pub
    assert Verifier.from_vkey(ver.vkey) == ver
    with pytest.raises(NoteError):
        Verifier.from_vkey(f"{name}+00000000+{blob}")


def test_vkey_with_plus_in_base64_round_trips() -> None:
    for _ in range(200):
        ver = Signer.generate("w.example/1", ALG_COSIGNATURE_V1).verifier
        if "+" in ver.vkey.split("+", 2)[2]:
            assert Verifier.from_vkey(ver.vkey) == ver
            return
    pytest.fail("no key with '+' in its base64 in 200 tries")


def test_sign_and_open_checkpoint() -> None:
    log = Signer.generate("anxin.example/ledger")
    w1 = Signer.generate("bank.example/w1", ALG_COSIGNATURE_V1)
    body = Checkpoint("anxin.example/ledger", 42, ROOT).body()
    assert body == f"anxin.example/ledger\n42\n{base64.b64encode(ROOT).decode()}\n"
    signed = sign_note(body, log).render()
    assert signed.startswith(body + "\n\u2014 anxin.example/ledger ")
    cosigned = parse_note(signed).with_signature_lines(w1.signature_line(body, 1_700_000_000))
    text = cosigned.render()
    got = open_checkpoint(text, log.verifier, [w1.verifier])
    assert got.checkpoint.size == 42 and got.checkpoint.root_hash == ROOT
    assert [c.verifier.name for c in got.cosignatures] == ["bank.example/w1"]
    assert got.cosignatures[0].timestamp == 1_700_000_000
    # Unknown witnesses are ignored rather than rejected.
    assert open_checkpoint(text, log.verifier).cosignatures == ()


def test_tampered_or_foreign_checkpoints_are_rejected() -> None:
    log = Signer.generate("anxin.example/ledger")
    body = Checkpoint("anxin.example/ledger", 7, ROOT).body()
    signed = sign_note(body, log).render()
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(signed.replace("\n7\n", "\n8\n", 1), log.verifier)
    other = Signer.generate("anxin.example/ledger")
    with pytest.raises(NoteError, match="not signed by the log"):
        open_checkpoint(signed, other.verifier)
    impostor = Signer.generate("evil.example/ledger")
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(sign_note(body, impostor).render(), impostor.verifier)
    w = Signer.generate("w", ALG_COSIGNATURE_V1)
    line = w.signature_line(body, 5)
    raw = base64.b64decode(line.split()[-1])
    bad = base64.b64encode(raw[:4] + bytes(72)).decode()  # right key id, zeroed signature
    forged = signed + line.replace(line.split()[-1], bad)
    with pytest.raises(NoteError):
        open_checkpoint(forged, log.verifier, [w.verifier])


@pytest.mark.parametrize(
    "text",
    [
        "no blank line\n\u2014 a AAAAAAA=\n",
        "a\n1\nAAAA\n\n",
        "a\n1\nAAAA\n\n- a AAAAAAA=\n",
        "a\x01\n\n\u2014 a AAAAAAAA\n",
        "a\n\n\u2014 a !!!\n",
        "a\n\n\u2014 a AAAA\n",
    ],
)
def test_malformed_notes(text: str) -> None:
    with pytest.raises(NoteError):
        parse_note(text)


@pytest.mark.parametrize(
    "body",
    [
        "origin\n007\n" + base64.b64encode(ROOT).decode() + "\n",
        "origin\n-1\n" + base64.b64encode(ROOT).decode() + "\n",
        "origin\n1\n" + base64.b64encode(ROOT[:31]).decode() + "\n",
        "origin\n1\n",
        "\n1\n" + base64.b64encode(ROOT).decode() + "\n",
        "origin\n1\n" + base64.b64encode(ROOT).decode(),
    ],
)
def test_malformed_checkpoints(body: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(body)


def test_checkpoint_extensions_round_trip() -> None:
    cp = Checkpoint("o", 3, ROOT, ("time 123",))
    assert parse_checkpoint(cp.body()) == cp


# Published examples of other implementations, so our bytes are theirs, not just self-consistent:
# the signed note in the documentation of Go's golang.org/x/mod/sumdb/note, and verifier keys
# of types 0x01 and 0x04 from transparency-dev/formats' note tests.
GO_SKEY_SEED = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann "
    + "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfq"
    + "dngotpRZb6KE6RyyBwJnAM=\n"
)


def test_go_sumdb_note_known_answer() -> None:
    seed = base64.b64decode(GO_SKEY_SEED)
    assert seed[0] == note.ALG_ED25519
    signer = Signer(
        "PeterNeumann", note.ALG_ED25519, Ed25519PrivateKey.from_private_bytes(seed[1:])
    )
    assert signer.verifier.vkey == GO_VKEY
    assert sign_note(GO_TEXT, signer).render() == GO_NOTE  # Ed25519 is deterministic
    ver = Verifier.from_vkey(GO_VKEY)
    parsed = parse_note(GO_NOTE)
    assert parsed.text == GO_TEXT
    assert [v.verifier for v in note.verified_signatures(parsed, [ver])] == [ver]
    with pytest.raises(NoteError):
        note.verified_signatures(parse_note(GO_NOTE.replace("cryptography", "cryptographY")), [ver])


@pytest.mark.parametrize(
    "vkey",
    [
        "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
        "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
    ],
)
def test_published_verifier_keys_parse_with_matching_key_ids(vkey: str) -> None:
    # from_vkey recomputes the key id from name, type and key; a mismatch would raise.
    ver = Verifier.from_vkey(vkey)
    assert ver.vkey == vkey


# A checkpoint as served by a real log (transparency.dev's arche2025h1 staging CT log) with
# cosignatures from public witnesses, as quoted in the tests of another open implementation.
REAL_CHECKPOINT = (
    "arche2025h1.staging.ct.transparency.dev\n"
    "1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
    "\n"
    "\u2014 arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBj"
    "W5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5C"
    "h9MNL5zRNZ55lvGt0=\n"
    "\u2014 arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7X"
    "UlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n"
    "\u2014 transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbU"
    "oDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY0"
    "96st5BQ==\n"
    "\u2014 witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g"
    "2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n"
    "\u2014 remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/"
    "KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
    "\u2014 witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2"
    "NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n"
)

REAL_LOG_KEY = (
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
)
REAL_WITNESS_KEYS = [
    "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
    "witness1.smartit.nu/witness1+a48c820f+BPSFWg9G6KPiO7QPryYO5Xq4oYJJ+kAvLKLSimDhoxMO",
    "transparency.dev/DEV:witness-little-garden+d8042a87+BCtusOxINQNUTN5Oj8HObRkh2yHf/MwYaGX4CPdiVEPM",
    "witness.stagemole.eu+67f7aea0+BEqSG3yu9YrmcM3BHvQYTxwFj3uSWakQepafafpUqklv",
]


def test_real_world_cosigned_checkpoint_verifies() -> None:
    log = Verifier.from_vkey(REAL_LOG_KEY)
    witnesses = [Verifier.from_vkey(k) for k in REAL_WITNESS_KEYS]
    got = open_checkpoint(REAL_CHECKPOINT, log, witnesses)
    assert got.checkpoint.size == 1432088532
    assert sorted(c.verifier.name for c in got.cosignatures) == sorted(w.name for w in witnesses)
    assert all(c.timestamp > 1_700_000_000 for c in got.cosignatures)
    with pytest.raises(NoteError):
        open_checkpoint(REAL_CHECKPOINT.replace("1432088532", "1432088533"), log, witnesses)
