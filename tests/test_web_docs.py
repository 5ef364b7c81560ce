"""docs/configuration.md documents every setting of the settings table."""

from __future__ import annotations

from pathlib import Path

from web.settings import settings_table

CONFIGURATION = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_configuration_doc_documents_every_setting():
    rows = [line for line in CONFIGURATION.read_text(encoding="utf-8").splitlines()
            if line.startswith("| `FURET_")]
    missing = [name for name, _, _ in settings_table()
               if not any(row.startswith(f"| `{name}` |") for row in rows)]
    assert not missing, f"docs/configuration.md has no row for {', '.join(missing)}"
