"""Building, updating and deleting: the only code that writes an index.

- `build` reads every source into a new build folder and swaps it in atomically.
- `update` (what cron runs) rereads only files whose size, time or digest changed,
  reindexes articles whose content hash changed, deletes records that left a file, and with
  `prune` deletes the articles of files that are gone.
- `delete` removes articles by id or URL.

All three hold the write lock, validate every article before Whoosh sees it, cancel the
Whoosh writer on any error, and leave the last committed index searchable when they fail.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from indexer.article import Article
from indexer.documents import to_document
from indexer.faults import checkpoint
from indexer.lock import writer_lock
from indexer.manifest import Manifest
from indexer.parallel import default_jobs, index_in_parallel
from indexer.segments import SegmentWriter
from indexer.sources import (
    KnownRecord,
    SourceFile,
    display_path,
    file_digest,
    read_records_digested,
    walk_sources,
)
from search.errors import ArticleError, FuretError, IndexCorruptError, IndexNotFoundError
from search.schema import SCHEMA_VERSION, build_schema
from search.storage import (
    BUILDS,
    CURRENT,
    TMP_SUFFIX,
    DurableFileStorage,
    current_build,
    fsync_dir,
    open_build,
)

__all__ = ["Report", "build", "delete", "update", "RETIRED_GRACE_SECONDS"]

# A retired build stays on disk this long, for readers still answering from it.
RETIRED_GRACE_SECONDS = float(os.environ.get("FURET_RETIRED_GRACE", "300"))
# Builds reading more than this many bytes share the work between processes.
PARALLEL_ABOVE = 8 * 1024 * 1024
RETIRED = "RETIRED"  # in a build that was live and was replaced: when
LIVE = "LIVE"  # in a build that was made live: a build without it never served a reader

log = logging.getLogger("furet.indexer")  # furet-index --verbose shows its INFO lines

ErrorHandler = Callable[[ArticleError], None]
Progress = Callable[[int], None]


class NothingToIndexError(FuretError):
    """A build found no article: the live index is kept rather than replaced by nothing."""

    code = "no_articles"


@dataclass
class Report:
    """What one run did; `summary()` is the line cron mails."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    seconds: float = 0.0
    generation: str = ""
    errors: list[ArticleError] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"deleted {self.deleted}, rejected {self.rejected} in {self.seconds:.1f} s"
        )


def _generation(build: Path, ix: Any) -> str:
    return f"{build.name}.{ix.latest_generation()}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Run:
    """State shared by build and update: the report, duplicate ids, error reporting."""

    def __init__(self, on_error: ErrorHandler | None, progress: Progress | None) -> None:
        self.report = Report()
        self.started = time.monotonic()
        self.seen: dict[str, str] = {}  # id -> where it was read in this run
        self._on_error = on_error
        self._progress = progress

    def reject(self, error: ArticleError) -> None:
        self.report.rejected += 1
        self.report.errors.append(error)
        if self._on_error:
            self._on_error(error)

    def tick(self) -> None:
        if self._progress:
            self._progress(1)

    @property
    def progress(self) -> Progress | None:
        return self._progress

    def articles(self, source: SourceFile, known: dict[bytes, str] | None = None
                 ) -> Iterable[tuple[Article | KnownRecord, bytes | None]]:
        """The good articles of one file with their line digest (JSON Lines), rejecting the
        bad ones and ids already read. Lines in `known` come back as KnownRecord."""
        for _, item, digest in read_records_digested(source, known=known):
            self.tick()
            if isinstance(item, ArticleError):
                self.reject(item)
            elif item.id in self.seen:
                where = item.source if isinstance(item, Article) else source.location
                self.reject(ArticleError(
                    where, f"duplicate id {item.id!r}, already read from "
                    f"{self.seen[item.id]}; skipped"))
            else:
                self.seen[item.id] = item.source if isinstance(item, Article) \
                    else source.location
                yield item, digest

    def done(self, generation: str) -> Report:
        self.report.seconds = time.monotonic() - self.started
        self.report.generation = generation
        return self.report


def _sources(run: _Run, sources: Sequence[str | os.PathLike[str]]) -> Iterable[SourceFile]:
    for item in walk_sources(sources):
        if isinstance(item, ArticleError):
            run.reject(item)
        else:
            yield item


# ---------------------------------------------------------------------------- build


def build(
    index_dir: Path,
    sources: Sequence[str | os.PathLike[str]],
    *,
    wait: float = 0.0,
    on_error: ErrorHandler | None = None,
    progress: Progress | None = None,
    limitmb: int = 256,
    jobs: int | None = None,
    parallel_above: int = PARALLEL_ABOVE,
) -> Report:
    """Index every article of `sources` into a new build, then make it the live one.

    With more than `parallel_above` bytes to read, `jobs` processes share the work
    (default: FURET_JOBS, else the number of CPUs, at most 4).
    """
    with writer_lock(index_dir, wait=wait):
        _clean(index_dir)
        return _build(index_dir, sources, _Run(on_error, progress), limitmb,
                      default_jobs() if jobs is None else jobs, parallel_above)


def _build(index_dir: Path, sources: Sequence[Any], run: _Run, limitmb: int, jobs: int = 1,
           parallel_above: int = PARALLEL_ABOVE) -> Report:
    name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    builds = index_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    tmp = builds / (name + TMP_SUFFIX)
    tmp.mkdir()
    writer = None
    try:
        ix = DurableFileStorage(str(tmp)).create_index(build_schema())
        found = list(_sources(run, sources))
        rejected: Counter[str] = Counter()
        if jobs > 1 and sum(s.size for s in found) > parallel_above:
            def reject(error: ArticleError, path: str) -> None:
                run.reject(error)
                rejected[path] += 1

            articles, lines = index_in_parallel(ix, tmp, found, jobs, limitmb=limitmb,
                                                reject=reject, progress=run.progress)
            run.report.added = len(articles)
        else:
            writer = SegmentWriter(ix, limitmb=limitmb)
            articles, lines = [], []
            for source in found:
                rejected_before = run.report.rejected
                for article, digest in run.articles(source):
                    assert isinstance(article, Article)
                    writer.add_document(**to_document(article, source.path))
                    articles.append((article.id, source.path, article.hash))
                    if digest is not None:
                        lines.append((source.path, digest, article.id))
                    run.report.added += 1
                    log.info("added %s (%s)", article.id, article.source)
                    if run.report.added == 1:
                        checkpoint("adding")
                rejected[source.path] = run.report.rejected - rejected_before
        if not articles:
            raise NothingToIndexError(
                "no article found in " + ", ".join(map(str, sources))
                + "; the index was not changed"
            )
        if writer is not None:
            writer.commit(optimize=True)
            writer = None
        files = [(s.path, s.size, s.mtime_ns, file_digest(s.path), rejected[s.path])
                 for s in found]
        with Manifest(tmp) as manifest:
            manifest.apply(
                generation=ix.latest_generation(),
                files=files,
                articles=articles,
                lines=lines,
                meta={"schema_version": str(SCHEMA_VERSION), "created": _now(),
                      "updated": _now()},
            )
        fsync_dir(tmp)
        checkpoint("manifest-written")
        final = builds / name
        os.rename(tmp, final)
        fsync_dir(builds)
        checkpoint("build-renamed")
        _switch(index_dir, final)
        return run.done(_generation(final, ix))
    except BaseException:
        if writer is not None:
            writer.cancel()
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _switch(index_dir: Path, build: Path) -> None:
    """Point CURRENT at `build` atomically, and mark the build it replaces as retired."""
    link = index_dir / CURRENT
    try:
        old = index_dir / os.readlink(link)
    except OSError:
        old = None
    (build / LIVE).write_text(_now() + "\n")
    fsync_dir(build)
    tmp_link = index_dir / (CURRENT + TMP_SUFFIX)
    tmp_link.unlink(missing_ok=True)
    os.symlink(os.path.join(BUILDS, build.name), tmp_link)
    os.replace(tmp_link, link)
    fsync_dir(index_dir)
    checkpoint("switched")
    if old is not None and old.is_dir() and old.resolve() != build.resolve():
        (old / RETIRED).write_text(_now() + "\n")


def _clean(index_dir: Path) -> None:
    """Remove what interrupted runs left, and retired builds past their grace period.

    Only the write-lock holder calls this, so nothing it removes is being written. A build
    that never went live is removed at once; one that was live is kept for
    RETIRED_GRACE_SECONDS after it was replaced, for web workers still reading it.
    """
    builds = index_dir / BUILDS
    (index_dir / (CURRENT + TMP_SUFFIX)).unlink(missing_ok=True)
    if not builds.is_dir():
        return
    try:
        live = (index_dir / os.readlink(index_dir / CURRENT)).resolve()
    except OSError:
        live = None
    for entry in builds.iterdir():
        if entry.resolve() == live:
            continue
        if entry.name.endswith(TMP_SUFFIX) or not (entry / LIVE).exists():
            shutil.rmtree(entry, ignore_errors=True)  # a build that never went live
            continue
        retired = entry / RETIRED
        if not retired.exists():  # replaced by a run that died before marking it
            retired.write_text(_now() + "\n")
        if time.time() - retired.stat().st_mtime >= RETIRED_GRACE_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)


# ---------------------------------------------------------------------------- update


def update(
    index_dir: Path,
    sources: Sequence[str | os.PathLike[str]],
    *,
    prune: bool = False,
    wait: float = 0.0,
    on_error: ErrorHandler | None = None,
    progress: Progress | None = None,
) -> Report:
    """Bring the live index in line with `sources`, reading only what changed."""
    with writer_lock(index_dir, wait=wait):
        _clean(index_dir)
        run = _Run(on_error, progress)
        try:
            live = current_build(index_dir)
        except IndexNotFoundError:
            return _build(index_dir, sources, run, 256, default_jobs())  # a first cron run
        ix = open_build(live)
        _clean_build(live, ix)
        with Manifest(live) as manifest:
            _check_schema(manifest, live)
            generation = ix.latest_generation()
            if manifest.generation != generation:
                manifest.reset(generation, _stored_articles(ix))
            try:
                return _update(index_dir, live, ix, manifest, sources, prune, run)
            except BaseException:
                _clean_build(live, ix)  # the unfinished segment: space a full disk needs
                raise


def _clean_build(build: Path, ix: Any) -> None:
    """Remove what a writer that died or failed left in the live build (we hold the lock):
    temporary folders, unrenamed tables of contents, and segment files no table of contents
    refers to (a commit that never happened). Whoosh removes the others at each commit."""
    for entry in [*build.glob("*" + TMP_SUFFIX), *build.glob("_*.toc.*")]:
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    live = {segment.segment_id() for segment in ix._segments()}
    for entry in build.glob(f"{ix.indexname}_*.*"):
        if entry.name.split(".", 1)[0] not in live and entry.is_file():
            entry.unlink(missing_ok=True)


def _check_schema(manifest: Manifest, build: Path) -> None:
    version = manifest.get("schema_version")
    if version is not None and version != str(SCHEMA_VERSION):
        raise IndexCorruptError(
            f"{build} was made by another version of Furet (schema {version}, this one "
            f"reads {SCHEMA_VERSION}); rebuild it with: furet-index build ARTICLES_FOLDER"
        )


def _stored_articles(ix: Any) -> list[tuple[str, str, str]]:
    with ix.searcher() as searcher:
        return [
            (fields["id"], fields.get("path", ""), fields.get("hash", ""))
            for fields in searcher.all_stored_fields()
        ]


def _update(
    index_dir: Path,
    live: Path,
    ix: Any,
    manifest: Manifest,
    sources: Sequence[str | os.PathLike[str]],
    prune: bool,
    run: _Run,
) -> Report:
    known_files = manifest.files()
    known = manifest.articles()
    by_path: dict[str, dict[str, str]] = {}
    for article_id, (path, digest) in known.items():
        by_path.setdefault(path, {})[article_id] = digest

    writer = None
    file_rows: list[tuple[str, int, int, str, int]] = []
    article_rows: list[tuple[str, str, str]] = []
    line_rows: list[tuple[str, bytes, str]] = []
    reread: list[str] = []  # files read again: their lines are recorded anew
    gone_ids: list[str] = []
    seen_paths: set[str] = set()
    report = run.report

    def write() -> Any:
        nonlocal writer
        if writer is None:
            writer = SegmentWriter(ix)
        return writer

    try:
        for source in _sources(run, sources):
            seen_paths.add(source.path)
            before = by_path.get(source.path, {})
            state = known_files.get(source.path)
            if state and (state.size, state.mtime_ns) == (source.size, source.mtime_ns):
                _skip(run, before)
                log.info("unchanged %s", source.location)
                continue
            digest = file_digest(source.path)
            if state and state.digest == digest:
                file_rows.append(
                    (source.path, source.size, source.mtime_ns, digest, state.rejected))
                _skip(run, before)
                continue
            rejected_before = report.rejected
            now_ids = set()
            # Lines of a JSON Lines file that have not changed are not decoded again.
            unchanged_lines = {digest: article_id for digest, article_id
                               in manifest.lines_of(source.path).items()
                               if article_id in before} if source.kind == "jsonl" else None
            reread.append(source.path)
            for article, line in run.articles(source, unchanged_lines):
                if line is not None:
                    line_rows.append((source.path, line, article.id))
                if isinstance(article, KnownRecord):
                    now_ids.add(article.id)
                    report.unchanged += 1
                    continue
                owner = known.get(article.id)
                if owner and owner[0] != source.path and os.path.exists(owner[0]):
                    run.reject(ArticleError(article.source, f"duplicate id {article.id!r}, "
                                            f"already indexed from {owner[0]}; skipped"))
                    continue
                now_ids.add(article.id)
                if owner and owner[1] == article.hash:
                    report.unchanged += 1
                    if owner[0] != source.path:
                        article_rows.append((article.id, source.path, article.hash))
                    continue
                write().update_document(**to_document(article, source.path))
                checkpoint("adding")
                article_rows.append((article.id, source.path, article.hash))
                if owner:
                    report.updated += 1
                    log.info("updated %s (%s)", article.id, article.source)
                else:
                    report.added += 1
                    log.info("added %s (%s)", article.id, article.source)
            for article_id in sorted(set(before) - now_ids):
                write().delete_by_term("id", article_id)
                gone_ids.append(article_id)
                log.info("deleted %s (no longer in %s)", article_id, source.location)
            file_rows.append((source.path, source.size, source.mtime_ns, digest,
                              report.rejected - rejected_before))
        gone_files: list[str] = []
        if prune:
            gone_files = _vanished(sources, set(known_files) | set(by_path), seen_paths)
            for path in gone_files:
                for article_id in by_path.get(path, {}):
                    write().delete_by_term("id", article_id)
                    gone_ids.append(article_id)
                    log.info("deleted %s (%s is gone)", article_id, display_path(path))
        report.deleted = len(gone_ids)
        if writer is not None:
            writer.commit()
            writer = None
        if file_rows or gone_files or gone_ids or article_rows or line_rows:
            manifest.apply(
                generation=ix.latest_generation(),
                files=file_rows,
                forget_files=gone_files,
                articles=article_rows,
                forget_articles=gone_ids,
                lines=line_rows,
                forget_lines_of=reread,
                meta={"updated": _now()} if (article_rows or gone_ids) else None,
            )
            checkpoint("manifest-written")
    except BaseException:
        if writer is not None:
            writer.cancel()
        raise
    return run.done(_generation(live, ix))


def _skip(run: _Run, articles: dict[str, str]) -> None:
    run.report.unchanged += len(articles)
    for article_id in articles:
        run.seen.setdefault(article_id, "an unchanged file")


def _vanished(sources: Sequence[Any], known: set[str], seen: set[str]) -> list[str]:
    """Known files under `sources` that this run did not find."""
    roots = [os.path.abspath(os.fspath(s)) for s in sources]
    gone = []
    for path in sorted(known - seen):
        if any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
            if not os.path.exists(path):
                gone.append(path)
    return gone


# ---------------------------------------------------------------------------- delete


def delete(
    index_dir: Path, keys: Sequence[str], *, wait: float = 0.0
) -> tuple[list[str], list[str]]:
    """Delete articles by id or URL; return (ids deleted, keys that matched nothing)."""
    with writer_lock(index_dir, wait=wait):
        live = current_build(index_dir)
        ix = open_build(live)
        found: list[str] = []
        missing: list[str] = []
        with ix.searcher() as searcher:
            for key in keys:
                ids = [f["id"] for f in searcher.documents(id=key)] or [
                    f["id"] for f in searcher.documents(url=key)]
                (found.extend(ids) if ids else missing.append(key))
        if found:
            writer = SegmentWriter(ix)
            try:
                for article_id in found:
                    writer.delete_by_term("id", article_id)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            with Manifest(live) as manifest:
                manifest.apply(generation=ix.latest_generation(), forget_articles=found,
                               meta={"updated": _now()})
        return found, missing
