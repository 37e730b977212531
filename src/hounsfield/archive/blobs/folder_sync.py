"""Group fsync of folders: threads that need the same folder made durable share fsyncs.

Every store makes two folder entries durable: its journal marker and its renamed blob.
Concurrent stores change the same folders (the journal, a series' folder), and one
fsync that starts after all their changes covers them all. A thread takes a ticket
after its change; the first thread finding no fsync of that folder under way leads one,
covering every ticket taken before it started; the others wait for an fsync that covers
their own ticket. A failed fsync fails every ticket it covered: after a failure, a later
fsync may succeed without the lost entries (Linux), so nobody retries to a false success.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field


@dataclass
class _Folder:
    taken: int = 0  # tickets handed out
    done: int = 0  # every ticket up to this one is settled: durable, or failed
    failures: list[tuple[int, int, OSError]] = field(default_factory=list)  # (after, upto]
    running: bool = False
    users: int = 0

    def outcome(self, ticket: int) -> OSError | None:
        return next((e for after, upto, e in self.failures if after < ticket <= upto), None)


class FolderSync:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._folders: dict[str, _Folder] = {}

    def sync(self, path: str | os.PathLike[str]) -> None:
        """Return once an fsync of `path` that started after this call has succeeded;
        raise OSError when the fsync that covered this call failed."""
        key = os.fspath(path)
        with self._lock:
            folder = self._folders.setdefault(key, _Folder())
            folder.users += 1
            folder.taken += 1
            ticket = folder.taken
            while folder.done < ticket and folder.running:
                self._lock.wait()
            if folder.done >= ticket:
                self._leave(key, folder)
                if (error := folder.outcome(ticket)) is not None:
                    raise error
                return
            folder.running = True
            after, covered = folder.done, folder.taken
        error: OSError | None = OSError(f"fsync of {key} did not finish")
        try:
            fsync_folder(key)
            error = None
        except OSError as exc:
            error = exc
            raise
        finally:
            with self._lock:
                folder.running = False
                folder.done = covered
                if error is not None:
                    folder.failures.append((after, covered, error))
                self._leave(key, folder)
                self._lock.notify_all()

    def _leave(self, key: str, folder: _Folder) -> None:
        folder.users -= 1
        if folder.users == 0:
            del self._folders[key]


def fsync_folder(path: str | os.PathLike[str]) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
