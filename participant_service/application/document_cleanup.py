"""The document cleanup job: deletes files in the document directory that are older than a
threshold (48 h by default) and that no document row references; a referenced file is never
deleted, whatever its age.

Files of drafts that are still alive are never that old: every touch of a draft (its life is
24 h after the last one) refreshes its staged files' modification time. A stored file is
written at submit, in the same transaction attempt as its row, from a staged file just
touched, so it is young until its row has committed or it was removed.

Every participant-service replica runs it every TURNOUT_DOCUMENT_CLEANUP_INTERVAL_SECONDS;
two runs at once only race to delete the same orphans, which is harmless.
`turnout documents cleanup` runs it once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kernel import periodic
from kernel.unit_of_work import UnitOfWorkFactory
from participant_service.adapters import document_repository
from participant_service.adapters.document_store import DocumentStore

log = logging.getLogger("turnout.documents.cleanup")


@dataclass(frozen=True)
class CleanupReport:
    scanned: int
    deleted: int
    kept_referenced: int
    kept_young: int


async def cleanup_documents(documents: DocumentStore, uow_factory: UnitOfWorkFactory, *, max_age: timedelta,
                            now: datetime | None = None) -> CleanupReport:
    now = now or datetime.now(UTC)
    files = await asyncio.to_thread(documents.scan)
    old = [f for f in files if now - f.modified_at > max_age]
    stored_names = [f.name for f in old if f.area == "stored"]
    async with uow_factory() as uow:
        referenced = await document_repository.referenced(uow.connection, stored_names)
    # Staged files are never referenced: rows only name stored ones.
    orphans = [f for f in old if not (f.area == "stored" and f.name in referenced)]
    deleted = 0
    for orphan in orphans:
        try:
            deleted += await asyncio.to_thread(documents.delete, orphan)
        except OSError:
            log.warning("cannot delete %s/%s", orphan.area, orphan.name, exc_info=True)
    return CleanupReport(scanned=len(files), deleted=deleted, kept_referenced=len(old) - len(orphans),
                         kept_young=len(files) - len(old))


async def run_document_cleanup(documents: DocumentStore, uow_factory: UnitOfWorkFactory, stop: asyncio.Event, *,
                               max_age: timedelta, interval: float) -> None:
    """Runs the cleanup every `interval` seconds until `stop` is set; a failed run is logged
    and retried at the next interval."""
    async def one_pass() -> None:
        report = await cleanup_documents(documents, uow_factory, max_age=max_age)
        log.info("document cleanup", extra={"fields": vars(report)})

    await periodic.repeat(one_pass, stop, interval=interval, what="document cleanup")
