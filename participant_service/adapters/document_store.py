"""Document files on disk, under one directory (TURNOUT_DOCUMENT_DIR):

    <root>/staging/<upload id>    uploaded to a draft, not yet submitted
    <root>/stored/<stored name>   a submitted document; `documents.stored_name` names it

Every name is generated here (uuid hex), never taken from a client. A file is written under
a temporary name (`.<name>.part`) and renamed when complete, so a name that exists is always
a whole file. Uploads stream to disk chunk by chunk: memory stays flat whatever the size.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

Area = Literal["staging", "stored"]
# Hard links need one filesystem and support for them; otherwise the content is copied.
_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP}


@dataclass(frozen=True)
class StoredFile:
    name: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class ScannedFile:
    area: Area
    name: str
    modified_at: datetime


class Upload:
    """One file being received; `finish()` makes it `staging/<name>`, `discard()` removes it."""

    def __init__(self, store: DocumentStore, file: BinaryIO, part: Path, name: str):
        self._store, self._file, self._part, self.name = store, file, part, name
        self._digest = hashlib.sha256()
        self.size = 0

    async def write(self, chunk: bytes) -> None:
        self._digest.update(chunk)
        self.size += len(chunk)
        await asyncio.to_thread(self._file.write, chunk)

    async def finish(self) -> StoredFile:
        def close_and_rename() -> None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._part, self._store.staging / self.name)

        await asyncio.to_thread(close_and_rename)
        return StoredFile(self.name, self.size, self._digest.hexdigest())

    async def discard(self) -> None:
        def close_and_remove() -> None:
            self._file.close()
            self._part.unlink(missing_ok=True)

        await asyncio.to_thread(close_and_remove)


class DocumentStore:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.staging = self.root / "staging"
        self.stored = self.root / "stored"

    async def start_upload(self) -> Upload:
        """Opens a new staging file; OSError when the directory cannot be written."""
        def open_part() -> tuple[BinaryIO, Path, str]:
            self.staging.mkdir(parents=True, exist_ok=True)
            name = uuid.uuid4().hex
            part = self.staging / f".{name}.part"
            return open(part, "xb"), part, name  # noqa: SIM115 - closed by Upload

        file, part, name = await asyncio.to_thread(open_part)
        return Upload(self, file, part, name)

    async def place(self, staged: Iterable[str]) -> list[str]:
        """Gives each staged file a new stored name (hard link, or a copy where links are not
        possible); the stored names in the same order. All or nothing: on OSError whatever
        this call wrote is removed before it propagates."""
        return await asyncio.to_thread(self._place, list(staged))

    def _place(self, staged: list[str]) -> list[str]:
        placed: list[str] = []
        temporary: Path | None = None
        try:
            self.stored.mkdir(parents=True, exist_ok=True)
            for name in staged:
                stored_name = uuid.uuid4().hex
                temporary = self.stored / f".{stored_name}.part"
                source = self.staging / name
                try:
                    os.link(source, temporary)
                except OSError as exc:
                    if exc.errno not in _NO_LINK:
                        raise
                    shutil.copyfile(source, temporary)
                os.replace(temporary, self.stored / stored_name)
                temporary = None
                placed.append(stored_name)
            _fsync_directory(self.stored)
        except OSError:
            if temporary is not None:
                temporary.unlink(missing_ok=True)
            self._remove("stored", placed)
            raise
        return placed

    async def remove(self, area: Area, names: Iterable[str]) -> None:
        """Removes files; missing ones are fine, other failures are left to the cleanup job."""
        await asyncio.to_thread(self._remove, area, list(names))

    def _remove(self, area: Area, names: list[str]) -> None:
        directory = self.staging if area == "staging" else self.stored
        for name in names:
            try:
                (directory / name).unlink(missing_ok=True)
            except OSError:
                pass

    async def touch(self, names: Iterable[str]) -> None:
        """Marks staged files as in use now, so the cleanup job (which goes by age) spares the
        files of every draft that is still alive."""
        def touch_all(names: list[str]) -> None:
            for name in names:
                try:
                    os.utime(self.staging / name)
                except OSError:
                    pass

        await asyncio.to_thread(touch_all, list(names))

    def scan(self) -> list[ScannedFile]:
        """Every file under both areas (temporary ones included), with its modification time."""
        found: list[ScannedFile] = []
        for area, directory in (("staging", self.staging), ("stored", self.stored)):
            try:
                entries = list(os.scandir(directory))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    modified = datetime.fromtimestamp(entry.stat(follow_symlinks=False).st_mtime, UTC)
                except FileNotFoundError:
                    continue
                found.append(ScannedFile(area, entry.name, modified))  # type: ignore[arg-type]
        return found

    def delete(self, file: ScannedFile) -> bool:
        directory = self.staging if file.area == "staging" else self.stored
        try:
            (directory / file.name).unlink()
        except FileNotFoundError:
            return False
        return True

    def path(self, area: Area, name: str) -> Path:
        return (self.staging if area == "staging" else self.stored) / name


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
