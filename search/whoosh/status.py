"""What an index holds: the figures `furet-index status` prints and `check` verifies."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from whoosh.reading import SegmentReader

from search.errors import FuretError
from search.schema import SCHEMA_VERSION
from search.whoosh.layout import BUILDS, TMP_SUFFIX, current_build, index_hint, open_build
from search.whoosh.manifest import Manifest
from search.whoosh.postings import segment_postings
from search.whoosh.private import segments_of

__all__ = ["check_index", "index_status"]


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
        segments = len(segments_of(ix))
    with Manifest(build, readonly=True) as manifest:
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


def check_index(index_dir: Path) -> tuple[list[str], dict[str, Any]]:
    """Verify the live index; return (problems, each with what to do; figures)."""
    problems: list[str] = []
    rebuild = f"rebuild it with: {index_hint(index_dir)}"
    try:
        build = current_build(index_dir)
        ix = open_build(build)
    except FuretError as err:
        return [str(err)], {}
    figures: dict[str, Any] = {"build": build.name}
    documents = 0
    for segment in segments_of(ix):
        try:
            reader = SegmentReader(ix.storage, ix.schema, segment)
            try:
                documents += reader.doc_count()
                for _ in reader.iter_docs():
                    pass
                for fieldname in ("text", "exact"):
                    for _ in reader.lexicon(fieldname):
                        pass
                segment_postings(reader)
            finally:
                reader.close()
        except Exception as err:  # noqa: BLE001 - any failure here means a damaged segment
            problems.append(f"{build}: segment {segment.segment_id()} cannot be read "
                            f"({type(err).__name__}: {err}); {rebuild}")
    figures["documents"] = documents
    figures["generation"] = f"{build.name}.{ix.latest_generation()}"
    with Manifest(build, readonly=True) as manifest:
        figures["manifest_articles"] = manifest.count()
        if manifest.generation != ix.latest_generation():
            problems.append(
                f"{build}: the manifest describes generation {manifest.generation}, the index "
                f"is at {ix.latest_generation()} (a run was interrupted); the next "
                "furet-index update rereads every file and repairs it")
        elif manifest.count() != documents:
            problems.append(
                f"{build}: the manifest lists {manifest.count()} articles, the index holds "
                f"{documents}; {rebuild}")
        version = manifest.get("schema_version")
        if version is not None and version != str(SCHEMA_VERSION):
            problems.append(f"{build}: made with schema {version}, this Furet reads "
                            f"{SCHEMA_VERSION}; {rebuild}")
    stray = [p.name for p in (index_dir / BUILDS).glob("*" + TMP_SUFFIX)]
    if stray:
        problems.append(f"{index_dir / BUILDS}: unfinished builds {', '.join(sorted(stray))} "
                        "(a build was interrupted); the next build or update removes them")
    return problems, figures
