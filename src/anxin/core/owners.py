"""Owner kinds: who may see which owners' things, and what rules may know of an owner.

Devices, alarms and other shared things belong to an owner (a household, a warehouse, a
pledge, a farm) of a domain that the shared layers (`iot`, `alerts`) must not import. Each
owning domain declares its owner kinds once, in its setup (`core.domain.Domain.owner_kinds`):
a visibility scope, and optionally the facts its rules may test as ``ctx.<name>``. The
composition root collects them into one `OwnerKinds` per application; units of work carry it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from anxin.core.security import Principal

# None means "every owner of this kind in the caller's organisation".
OwnerScope = Callable[[Session, Principal], Collection[str] | None]
# provider(session, owner ids) -> facts per owner id (owners it does not know are left out).
ContextProvider = Callable[[Session, Sequence[str]], Mapping[str, Mapping[str, Any]]]

# links(session, owner ids) -> a name and a console page per owner id (for lists of alarms).
LinkProvider = Callable[[Session, Sequence[str]], Mapping[str, "OwnerLink"]]

# belongs(session, organisation id, owner id) -> whether that owner exists in that organisation.
# A scope of None trusts the caller's organisation, so whoever attaches a thing to an owner
# by naming its id must also pass this check, or it could name another organisation's owner.
OwnerBelongs = Callable[[Session, str, str], bool]

CONTEXT_CHUNK = 2000  # owner ids per provider call (an IN (...) list)


@dataclass(frozen=True)
class OwnerLink:
    """How a console names an owner and where its page is."""

    label: str
    href: str
    phone: str | None = None  # whom the console offers to call about it


@dataclass(frozen=True)
class OwnerKind:
    name: str
    scope: OwnerScope
    context: ContextProvider | None = None
    links: LinkProvider | None = None
    belongs: OwnerBelongs | None = None  # None: no owner of this kind may be named by id


def rows_of_organisation(
    owner_id: InstrumentedAttribute[str], organisation_id: InstrumentedAttribute[str]
) -> OwnerBelongs:
    """The usual `belongs`: the owner is the row with that id whose organisation column matches."""

    def belongs(session: Session, organisation: str, owner: str) -> bool:
        where: list[ColumnElement[bool]] = [owner_id == owner, organisation_id == organisation]
        return session.scalar(select(owner_id).where(*where).limit(1)) is not None

    return belongs


class OwnerKinds:
    """The owner kinds of one application, declared by its domains."""

    def __init__(self, kinds: Iterable[OwnerKind] = ()) -> None:
        self._kinds: dict[str, OwnerKind] = {}
        for kind in kinds:
            self.add(kind)

    def add(self, kind: OwnerKind) -> None:
        if kind.name in self._kinds and self._kinds[kind.name] != kind:
            raise ValueError(f"owner kind {kind.name!r} is declared twice")
        self._kinds[kind.name] = kind

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def visible_ids(
        self, session: Session, principal: Principal, owner_kind: str
    ) -> Collection[str] | None:
        """Owner ids of `owner_kind` the principal may see; an undeclared kind shows nothing."""
        kind = self._kinds.get(owner_kind)
        if kind is None:
            return ()
        return kind.scope(session, principal)

    def belongs(
        self, session: Session, owner_kind: str, owner_id: str, organisation_id: str
    ) -> bool:
        """Whether an owner of `owner_kind` with that id exists in that organisation; an
        undeclared kind, or one without a `belongs` lookup, has no owner anyone may name."""
        kind = self._kinds.get(owner_kind)
        if kind is None or kind.belongs is None:
            return False
        return kind.belongs(session, organisation_id, owner_id)

    def contexts(
        self, session: Session, owners: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Facts for many (owner kind, owner id) at once: one provider call per kind and chunk."""
        wanted = sorted(set(owners))
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for name in sorted({kind for kind, _ in wanted}):
            kind = self._kinds.get(name)
            ids = [owner_id for k, owner_id in wanted if k == name]
            for start in range(0, len(ids), CONTEXT_CHUNK):
                chunk = ids[start : start + CONTEXT_CHUNK]
                found = kind.context(session, chunk) if kind and kind.context else {}
                for owner_id in chunk:
                    out[(name, owner_id)] = dict(found.get(owner_id, {}))
        return out

    def links(
        self, session: Session, owners: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], OwnerLink]:
        """Names and pages for many owners at once: one provider call per kind and chunk;
        owners of a kind without links (or unknown to it) are left out."""
        wanted = sorted(set(owners))
        out: dict[tuple[str, str], OwnerLink] = {}
        for name in sorted({kind for kind, _ in wanted}):
            kind = self._kinds.get(name)
            if kind is None or kind.links is None:
                continue
            ids = [owner_id for k, owner_id in wanted if k == name]
            for start in range(0, len(ids), CONTEXT_CHUNK):
                for owner_id, link in kind.links(
                    session, ids[start : start + CONTEXT_CHUNK]
                ).items():
                    out[(name, owner_id)] = link
        return out

    def context(self, session: Session, owner_kind: str, owner_id: str) -> dict[str, Any]:
        return self.contexts(session, [(owner_kind, owner_id)])[(owner_kind, owner_id)]
