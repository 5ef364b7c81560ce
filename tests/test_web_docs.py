"""The README documents every setting of the settings table."""

from __future__ import annotations

from pathlib import Path

from web.settings import settings_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_documents_every_setting():
    readme = README.read_text(encoding="utf-8")
    missing = [name for name, _, _ in settings_table() if name not in readme]
    assert not missing, f"README.md does not document {', '.join(missing)}"
