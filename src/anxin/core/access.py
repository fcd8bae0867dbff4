"""Who may see which owners' things, asked across domains without importing them.

`iot` is upstream of the domains that own devices (households, warehouses, farms), so it
cannot ask them directly. Each owning domain registers a scope function for its owner kind;
`iot` asks the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlalchemy.orm import Session

from anxin.core.security import Principal

# None means "every owner of this kind in the caller's organisation".
OwnerScope = Callable[[Session, Principal], Collection[str] | None]

_scopes: dict[str, OwnerScope] = {}


def register_owner_scope(owner_kind: str, scope: OwnerScope) -> None:
    _scopes[owner_kind] = scope


def visible_owner_ids(
    session: Session, principal: Principal, owner_kind: str
) -> Collection[str] | None:
    """Owner ids of `owner_kind` the principal may see; an unregistered kind shows nothing."""
    scope = _scopes.get(owner_kind)
    if scope is None:
        return ()
    return scope(session, principal)


def registered_owner_kinds() -> list[str]:
    return sorted(_scopes)
