"""Open a scenario's side files (WAV, recordings) safely at replay time, not only at load time.

The loader checks paths when it reads the scenario, but the file is opened later: in between a
checked file can be swapped for a symlink out of the folder, ``/dev/zero`` or a FIFO. This module
opens the path itself with ``O_NOFOLLOW`` on every component below the scenario folder, refuses
anything but a regular file (so a FIFO cannot hang the replay and a device cannot fill memory),
and checks the size of what was actually opened (``fstat`` on the descriptor, not the name).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from .scenario.limits import DEFAULT_LIMITS


class UnsafeFileError(ValueError):
    """The side file is outside its folder, not a regular file, or larger than allowed."""


def _relative_parts(folder: Path, path: Path) -> list[str]:
    try:
        rel = path.relative_to(folder)
    except ValueError:
        raise UnsafeFileError(f"{path} is not inside the scenario's folder {folder}") from None
    parts = [p for p in rel.parts if p not in ("", ".")]
    if not parts or ".." in parts:
        raise UnsafeFileError(f"{path} is not a file inside the scenario's folder {folder}")
    return parts


def open_side_file(path: str | Path, folder: str | Path, *, max_bytes: int = DEFAULT_LIMITS.side_file_bytes
                   ) -> BinaryIO:
    """A binary reader for ``path`` inside ``folder``; UnsafeFileError says why it is refused.

    Each path component below ``folder`` is opened relative to its parent with ``O_NOFOLLOW``, so a
    symlink anywhere below the folder (planted after the load-time check) is refused, not followed.
    """
    folder = Path(os.path.realpath(folder))
    path = Path(path)
    if not path.is_absolute():
        path = folder / path
    parts = _relative_parts(folder, Path(os.path.normpath(path)))
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    directory = getattr(os, "O_DIRECTORY", 0)
    nonblock = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(folder, os.O_RDONLY | directory)
    try:
        for name in parts[:-1]:
            try:
                child = os.open(name, os.O_RDONLY | directory | nofollow, dir_fd=fd)
            except OSError as exc:
                raise UnsafeFileError(f"{path}: the folder {name!r} cannot be opened without following a link "
                                      f"({exc.strerror})") from None
            os.close(fd)
            fd = child
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below anyway.
            file_fd = os.open(parts[-1], os.O_RDONLY | nofollow | nonblock, dir_fd=fd)
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: no such file") from None
        except OSError as exc:
            reason = "it is a symbolic link" if exc.errno in (errno.ELOOP, errno.EMLINK) else exc.strerror
            raise UnsafeFileError(f"{path}: cannot open safely ({reason})") from None
    finally:
        os.close(fd)
    try:
        info = os.fstat(file_fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(f"{path}: not a regular file (devices, FIFOs and sockets are refused)")
        if info.st_size > max_bytes:
            raise UnsafeFileError(f"{path}: {info.st_size} bytes, more than the limit of {max_bytes} "
                                  "(raise it with 'limits: {side_file_bytes: N}' in the scenario)")
        if nonblock:
            os.set_blocking(file_fd, True)
        return os.fdopen(file_fd, "rb")
    except BaseException:
        os.close(file_fd)
        raise


def read_side_file(path: str | Path, folder: str | Path, *, max_bytes: int = DEFAULT_LIMITS.side_file_bytes
                   ) -> bytes:
    """The whole of a (size-checked) side file."""
    with open_side_file(path, folder, max_bytes=max_bytes) as fh:
        return fh.read(max_bytes + 1)[:max_bytes]
