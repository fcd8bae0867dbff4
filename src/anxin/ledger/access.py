"""Who may anchor which facts, pure.

Entry types are namespaced by the module that owns the fact (``trace.``, ``collateral.``,
``lending.`` …); a role may append only in the namespaces of the work it does, so a farmer
cannot forge a warehouse receipt and a loan officer cannot invent a harvest.
"""

from __future__ import annotations

from anxin.core.security import Role

ANY = "*"

APPEND_NAMESPACES: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({ANY}),
    Role.FARMER: frozenset({"trace"}),
    Role.WAREHOUSE_OPERATOR: frozenset({"collateral"}),
    Role.SCF_OFFICER: frozenset({"collateral"}),
    Role.LOAN_OFFICER: frozenset({"lending"}),
    Role.RISK_OFFICER: frozenset({"lending"}),
    Role.CLAIMS_HANDLER: frozenset({"trace", "claims"}),
    Role.LTC_ADMIN: frozenset({"ltc"}),
    Role.LESSOR: frozenset({"leasing"}),
}

# Roles that may read any organisation's bodies (supervision, audit). Not ADMIN: every
# organisation has an admin, who reads its own organisation's bodies like its other members;
# hashes and proofs stay public, so anyone still verifies another organisation's entries.
READ_ALL_ROLES = frozenset({Role.SUPERVISOR})


def namespace(entry_type: str) -> str:
    return entry_type.split(".", 1)[0]


def may_append(role: Role, entry_type: str) -> bool:
    allowed = APPEND_NAMESPACES.get(role, frozenset())
    return ANY in allowed or namespace(entry_type) in allowed


def may_read_body(role: Role, reader_org: str, entry_org: str) -> bool:
    return role in READ_ALL_ROLES or reader_org == entry_org
