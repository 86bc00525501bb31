"""Output files: checked before any model call is paid for, written whole or not at all, never lost.

`check_output` refuses, up front and in the user's terms, a path that could not take the results (a folder, a
device, a system path, a folder that is missing or read-only, an unknown extension) or must not (one of the
command's inputs). `atomic_path` / `write_atomic` write a sibling temp file and rename it over the target, so a
crash or a full disk leaves the old file or the new one, never half of each. `save_with_fallback` keeps results
already paid for when the target fails at the last moment anyway: they go to a fallback file, and the caller
says where.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from tierwise.errors import OutputPathError

SYSTEM_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))


def check_output(path: Any, *, option: str, inputs: Iterable[Any] = (), suffixes: Sequence[str] | None = None,
                 make_parents: bool = False) -> Path:
    """`path` as a Path if results can be written there; OutputPathError naming `option` otherwise.

    `inputs`: files the command reads (refused as outputs, however named: symlink, hard link, relative path).
    `suffixes`: the extensions the writer knows (lower case, with the dot). `make_parents`: missing folders will
    be created, so the nearest existing one must be writable."""
    if not isinstance(path, str | os.PathLike) or not str(path).strip():
        raise OutputPathError(f"{option}: name a file to write, got {path!r}")
    target = Path(path).expanduser()
    where = f"{option} {target}"
    resolved = target.resolve()
    for named in (Path(os.path.abspath(target)), resolved):  # as written, and where its links lead
        if any(named == root or root in named.parents for root in SYSTEM_ROOTS):
            raise OutputPathError(f"{where}: {named} is a system path, not a place for results; name a file in "
                                  "one of your folders")
    if target.is_dir():
        example = target / ("results" + (suffixes[0] if suffixes else ""))
        raise OutputPathError(f"{where} is a folder; name a file in it, e.g. {example}")
    if target.exists() and not target.is_file():
        raise OutputPathError(f"{where} is not a regular file (a device, pipe or socket): results written there "
                              "would be lost")
    if suffixes is not None and target.suffix.lower() not in suffixes:
        raise OutputPathError(f"{where}: unknown extension {target.suffix or '(none)'!r}; use "
                              f"{', '.join(suffixes)}")
    for source in inputs:
        if source is not None and same_file(target, source):
            raise OutputPathError(f"{where} is the input {source}: writing there would destroy it; choose another "
                                  "output file")
    _check_folder(resolved.parent, where, make_parents)
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputPathError(f"{where}: the file is read-only")
    return target


def same_file(a: Any, b: Any) -> bool:
    """True when `a` and `b` name one file: the same path, a symlink to it, or a hard link."""
    first, second = Path(a).expanduser(), Path(b).expanduser()
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist (yet): compare where they point
        return first.resolve() == second.resolve()


def _check_folder(folder: Path, where: str, make_parents: bool) -> None:
    existing = folder
    while not existing.exists():
        if not make_parents:
            raise OutputPathError(f"{where}: the folder {folder} does not exist")
        existing = existing.parent
    if not existing.is_dir():
        raise OutputPathError(f"{where}: {existing} is not a folder")
    try:  # a real probe: permissions, ACLs, read-only mounts and a full inode table all show here
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".tierwise-probe-")
    except OSError as exc:
        raise OutputPathError(f"{where}: cannot write in {existing}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temp path beside `path` (same extension, for writers that pick a format by it); renamed over `path` when
    the block ends without an error, removed otherwise. A symlink's target is replaced, not the link."""
    path = Path(path).expanduser()
    target = path.resolve() if path.is_symlink() else path
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        _fsync(tmp)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | Path, data: str | bytes, *, option: str | None = None) -> Path:
    """Write `data` to `path` whole (temp file + os.replace); OutputPathError saying why when it cannot."""
    try:
        with atomic_path(path) as tmp:
            if isinstance(data, str):
                tmp.write_text(data, encoding="utf-8")
            else:
                tmp.write_bytes(data)
    except OSError as exc:
        label = f"{option} {path}" if option else str(path)
        raise OutputPathError(f"cannot write {label}: {exc.strerror or exc}") from None
    return Path(path)


def save_with_fallback(path: str | Path, write: Callable[[Path], Any], *, what: str = "the results"
                       ) -> tuple[Path, str | None]:
    """Run `write(temp_path)` and move the result to `path`. If that fails (a full disk, a folder gone since the
    check), write to a fallback file instead. Returns where it went and, after a fallback, a note saying so;
    OutputPathError only when no place at all would take it."""
    try:
        with atomic_path(path) as tmp:
            write(tmp)
        return Path(path), None
    except (OSError, OutputPathError) as exc:  # the place failed; any other error is the writer's own
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        first = f"cannot write {path}: {reason}"
    for folder in (Path.cwd(), Path.home(), Path(tempfile.gettempdir())):
        fallback = folder / f"{Path(path).stem}-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}{Path(path).suffix}"
        try:
            with atomic_path(fallback) as tmp:
                write(tmp)
        except (OSError, OutputPathError):
            continue
        return fallback, f"{first}; saved {what} to {fallback} instead"
    raise OutputPathError(f"{first}, nor in the current, home or temp folder: {what} are lost")


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


UMASK = _read_umask()  # read once, at import: os.umask can only be read by setting it, which races other threads


def _mode_for(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets what open() would give it (0666 less the umask)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~UMASK
