"""The README's "Guarantees" table names the tests that prove each promise: they exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _guarantee_rows() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Guarantees\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ")]


def _missing(row: str) -> list[str]:
    """Each test file, class or function the row names that is not in the code."""
    missing, source, path = [], "", None
    for name in re.findall(r"`([^`]+)`", row):
        if name.startswith("tests/"):
            path, *parts = name.split("::")
            source = (ROOT / path).read_text() if (ROOT / path).is_file() else ""
            if not source:
                missing.append(path)
        elif name.startswith("test_") and path:
            parts = [name]
        else:
            continue
        for part in parts:
            if not re.search(rf"^\s*(def|class) {re.escape(part)}\b", source, re.M):
                missing.append(f"{path}::{part}")
    return missing


def test_every_test_the_guarantees_name_exists():
    rows = _guarantee_rows()
    missing = [name for row in rows for name in _missing(row)]

    assert len(rows) > 20
    assert missing == []


def test_every_promise_names_a_test_unless_it_heads_a_group():
    unproved = [
        row
        for row in _guarantee_rows()[2:]
        if "`tests/" not in row and not row.startswith("| **")
    ]

    assert unproved == []
