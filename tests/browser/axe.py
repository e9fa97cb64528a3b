"""axe-core (npm, installed into .node/ by scripts/setup-tests.sh) run inside a Playwright page.

``AXE_CORE_JS`` may point at another copy of ``axe.min.js``. Results are kept for the summary
that tests/browser/conftest.py prints at the end of the run (and in tests/_out/axe.json).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = Path(
    os.environ.get("AXE_CORE_JS", ROOT / ".node" / "node_modules" / "axe-core" / "axe.min.js")
)
# WCAG 2.0, 2.1 and 2.2, levels A and AA, plus axe's best practices (reported, not failing).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
FAILING = ("serious", "critical")

RESULTS: list[dict] = []  # one entry per scan, for the end-of-run summary


def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(
            f"axe-core is not installed at {AXE_JS}: run scripts/setup-tests.sh "
            "(npm install --prefix .node axe-core@4) or set AXE_CORE_JS"
        )
    return AXE_JS.read_text()


def scan(page, name: str) -> list[dict]:
    """Run axe on the page as it is now; record and return its violations (all impacts)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    violations = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({
                    target: n.target.join(' '),
                    summary: n.failureSummary,
                })),
            }));
        }""",
        TAGS,
    )
    RESULTS.append({"page": name, "violations": violations})
    return violations


def failing(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in FAILING]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['impact']}: {v['id']} ({len(v['nodes'])}): {v['help']}")
        for node in v["nodes"][:5]:
            summary = " ".join(node["summary"].split())[:300]
            lines.append(f"    {node['target'][:120]}: {summary}")
    return "\n".join(lines)


def summary_lines() -> list[str]:
    """One line per scanned page: counts by impact, and the rules that fired."""
    lines = []
    for result in RESULTS:
        counts: dict[str, int] = {}
        for v in result["violations"]:
            counts[v["impact"]] = counts.get(v["impact"], 0) + len(v["nodes"])
        impacts = ", ".join(
            f"{counts[i]} {i}" for i in ("critical", "serious", "moderate", "minor") if i in counts
        )
        rules = ", ".join(sorted({v["id"] for v in result["violations"]}))
        lines.append(
            f"{result['page']}: {impacts or 'no violations'}{f' ({rules})' if rules else ''}"
        )
    return lines


def save(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(RESULTS, indent=1))
