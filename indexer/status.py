"""What an index holds: the figures `furet-index status` prints and `check` verifies."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from indexer.manifest import Manifest
from search.schema import SCHEMA_VERSION
from search.storage import current_build, open_build

__all__ = ["index_status"]


def _size(folder: Path) -> int:
    total = 0
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False):
            total += entry.stat().st_size
    return total


def index_status(index_dir: Path) -> dict[str, Any]:
    """Documents, generation, last update, size and schema of the live index."""
    build = current_build(index_dir)
    ix = open_build(build)
    with ix.reader() as reader:
        documents = reader.doc_count()
        segments = len(ix._segments())
    with Manifest(build) as manifest:
        schema = manifest.get("schema_version", str(SCHEMA_VERSION))
        return {
            "index_dir": str(index_dir),
            "build": build.name,
            "generation": f"{build.name}.{ix.latest_generation()}",
            "documents": documents,
            "files": len(manifest.files()),
            "files_with_rejections": manifest.rejected_files(),
            "created": manifest.get("created"),
            "last_update": manifest.get("updated"),
            "size_bytes": _size(build),
            "segments": segments,
            "schema_version": int(schema) if schema and schema.isdigit() else schema,
        }
