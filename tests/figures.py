"""Figures the reliability tests measure: printed, saved, and gathered into one report.

Each test saves its figures as JSON in its tmp folder; when FURET_RELIABILITY_REPORT names a
file, they are also merged into it under the test's name (the table of docs/reliability.md
comes from it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def report_figures(name: str, figures: dict[str, Any], tmp_path: Path) -> None:
    """Print `figures`, write them to tmp_path/<name>.json and to the shared report if set."""
    text = json.dumps(figures, indent=2, ensure_ascii=False)
    print(f"\n{name}: {text}")
    (tmp_path / f"{name}.json").write_text(text + "\n", encoding="utf-8")
    target = os.environ.get("FURET_RELIABILITY_REPORT")
    if not target:
        return
    path = Path(target)
    try:
        report = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        report = {}
    if not isinstance(report, dict):
        report = {}
    report[name] = figures
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
