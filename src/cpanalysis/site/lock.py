"""One build at a time per project folder.

Two ``cpanalysis build`` runs in one folder (a scheduled job and an analyst, or a job that
overran) used to share ``_build/staging``: one deleted what the other was reading, and a
notebook kernel that found no cleaned data generated the demo council, which was then
published under a "REAL DATA" banner. So a build first takes ``_build/build.lock``.

The lock is an operating-system lock on that file (``flock`` on POSIX, ``msvcrt.locking``
on Windows), not the file's existence: the system drops it when the holder's process ends,
however it ends (killed, power cut), so a lock left by a build whose process is gone is
simply taken by the next build -- there is no stale lock to clear by hand. The file also
records the holder's pid and start time, so the second build's one-line refusal can say
who holds it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import TracebackType

from cpanalysis.errors import BuildError

__all__ = ["LOCK_NAME", "BuildLock", "BuildLocked"]

#: The lock file, inside the project's ``_build`` folder.
LOCK_NAME = "build.lock"


class BuildLocked(BuildError):
    """Another build holds this project's lock; this one changed nothing."""


def _try_lock(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on ``fd``; False when another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


class BuildLock:
    """The project's build lock, held for the whole of one build (a context manager).

    Parameters
    ----------
    build_dir : Path
        The project's ``_build`` folder (created if absent).

    Attributes
    ----------
    previous : dict or None
        What the lock file said when this build took the lock, when its holder's process
        had ended without releasing it (a killed build): ``{"pid": ..., "started": ...}``.
        The build then knows to clear that run's leftovers.
    """

    def __init__(self, build_dir: Path) -> None:
        self.path = Path(build_dir) / LOCK_NAME
        self.previous: dict | None = None
        self._fd: int | None = None

    def _holder(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}

    def acquire(self) -> BuildLock:
        """Take the lock or raise :class:`BuildLocked` (one line: who holds it, since when)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            holder = self._holder()
            who = f"pid {holder['pid']}" if holder.get("pid") else "another process"
            since = f", started {holder['started']}" if holder.get("started") else ""
            raise BuildLocked(
                f"another build is running in this project folder ({who}{since}); this one "
                "stopped before changing anything: run it again when that build has finished"
            )
        holder = self._holder()
        if holder.get("running"):  # its build never released the lock: its process is gone
            self.previous = holder
        record = {
            "pid": os.getpid(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "running": True,
        }
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(record).encode("utf-8"))
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Mark the lock file as free and drop the lock."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            try:
                _unlock(fd)
            finally:
                os.close(fd)

    def __enter__(self) -> BuildLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
