"""Every pill a console template can write has a colour in console.css: a pill class without a
rule renders as bare text (as `.pill.status-ok` once did on the pledge pages)."""

from __future__ import annotations

import re
from pathlib import Path

from anxin.alerts.models import Severity
from anxin.collateral.valuation import PledgeStatus

SRC = Path(__file__).resolve().parents[2] / "src" / "anxin"
CSS = (SRC / "web" / "static" / "console.css").read_text(encoding="utf-8")
PILL = re.compile(r'class="pill\b([^"]*)"')
EXPR = re.compile(r"\{\{(.*?)\}\}")
QUOTED = re.compile(r"'([a-z_-]+)'")
COMPARED = re.compile(r"[=!]='[^']*'")
# What a class written as `prefix-{{ expression }}` can become.
DYNAMIC: dict[str, list[str]] = {
    "sev-": [s.value for s in Severity],
    "status-": [s.label for s in PledgeStatus] + ["unpriced"],  # pledges without a price mark
}
# Pages with their own stylesheet for their pills: the public trace page (trace.css).
OWN_CSS = {"trace/public.html"}


def _classes(attribute: str) -> list[str]:
    """The classes an attribute value such as ` sev-{{ a.severity.value }}` can produce."""
    out: list[str] = []
    for word in EXPR.sub(lambda m: "{{" + m.group(1).replace(" ", "") + "}}", attribute).split():
        prefix, brace, _ = word.partition("{{")
        if not brace:
            out.append(word)
        elif prefix:
            assert prefix in DYNAMIC, f"unknown dynamic pill class {word!r}: add it to DYNAMIC"
            out += [prefix + value for value in DYNAMIC[prefix]]
        else:
            # `'a' if x == 'b' else 'c'` writes a or c: the compared value is no class
            quoted = QUOTED.findall(COMPARED.sub("", word))
            assert quoted, f"a pill class from {word!r} cannot be checked: write its values"
            out += quoted
    return out


def _rules(name: str) -> bool:
    return re.search(rf"\.pill\.{re.escape(name)}\b", CSS) is not None


def test_every_pill_class_a_console_template_writes_has_a_colour() -> None:
    missing: set[tuple[str, str]] = set()
    seen = 0
    for template in SRC.glob("*/templates/**/*.html"):
        relative = template.relative_to(template.parents[1]).as_posix()
        if any(relative.endswith(own) for own in OWN_CSS):
            continue
        for attribute in PILL.findall(template.read_text(encoding="utf-8")):
            for name in _classes(attribute):
                seen += 1
                if not _rules(name):
                    missing.add((relative, name))
    assert seen > 10  # the scan found the templates' pills
    assert sorted(missing) == []


def test_the_pledge_statuses_run_from_calm_to_alarming_colours() -> None:
    """The worst status is the one that stands out: liquidation white on red, like critical."""
    assert re.search(r"\.pill\.status-liquidation \{[^}]*#b3261e", CSS)
    assert re.search(r"\.pill\.status-ok \{[^}]*#d7f3e3", CSS)
