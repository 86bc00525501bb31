"""One writer per output: an exclusive lock on a sidecar file, taken before the first paid call.

Two `tierwise batch` runs on one `--out` (or a `--resume` started while the first run still goes), two recorders
on one cassette folder, two evals writing one outcome table: each would report success and leave torn, missing
or duplicate lines. `exclusive(target)` takes `fcntl.flock` on `<target>.lock` without waiting; a second writer
is refused at once with `OutputLockedError` naming the holder's pid (written into the lock file).

Why a sidecar: the output itself is replaced atomically (a rename) by some writers, and a lock on a file that is
renamed away protects nothing. The lock file is removed on release; a writer that finds, after locking, that
the file it holds is no longer the one at that path (removed by the previous holder meanwhile) tries again.

flock locks belong to the open file, so the kernel drops them when the process dies (kill -9 included): no
stale locks to clean up. Network filesystems: on Linux NFS, flock is emulated with POSIX byte-range locks, so
it works across machines when the server supports locking (NFSv4, or v3 with lockd); a filesystem that refuses
locks (ENOLCK, EOPNOTSUPP: some FUSE/SMB mounts) gets a warning and the run goes on unlocked: a second writer on
another machine would then not be refused. Windows has no fcntl: the same warning, unlocked.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from tierwise.errors import OutputLockedError

log = logging.getLogger("tierwise")
UNSUPPORTED = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


def lock_path(target: str | os.PathLike[str]) -> Path:
    target = Path(target)
    return target / ".tierwise.lock" if target.is_dir() else target.with_name(target.name + ".lock")


class OutputLock:
    """An exclusive, non-blocking lock on `target` (a file, or a folder: its `.tierwise.lock`)."""

    def __init__(self, target: str | os.PathLike[str], *, what: str) -> None:
        self.target = Path(target)
        self.what = what  # in the refusal: "--out results.jsonl", "the record folder cassettes/"
        self.path = lock_path(self.target)
        self._fd: int | None = None

    def acquire(self) -> OutputLock:
        try:
            import fcntl
        except ImportError:  # Windows
            log.warning("cannot lock %s on this platform: a second writer would not be refused", self.what)
            return self
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                who = f"pid {holder}" if holder else "another process"
                raise OutputLockedError(
                    f"{self.what} is being written by another tierwise process ({who}; lock file {self.path}); "
                    "wait for it to finish, or choose another output") from None
            except OSError as exc:
                os.close(fd)
                if exc.errno not in UNSUPPORTED:
                    raise OutputLockedError(f"cannot lock {self.what} ({self.path}): {exc.strerror}") from None
                log.warning("the filesystem of %s does not support locks (%s): a second writer would not be "
                            "refused", self.what, exc.strerror)
                return self
            if _same_file(fd, self.path):
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                self._fd = fd
                return self
            os.close(fd)  # the previous holder removed the file between our open and lock: take the new one
        raise OutputLockedError(f"cannot lock {self.what}: {self.path} keeps being replaced")

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            if _same_file(fd, self.path):
                os.unlink(self.path)  # while still holding it: the next writer then makes a fresh one
        os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def exclusive(target: str | os.PathLike[str], *, what: str) -> Iterator[OutputLock]:
    """`with exclusive(out, what="--out x.jsonl"):` the only writer of `out` for the block, or OutputLockedError."""
    lock = OutputLock(target, what=what).acquire()
    try:
        yield lock
    finally:
        lock.release()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _same_file(fd: int, path: Path) -> bool:
    try:
        mine, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)
