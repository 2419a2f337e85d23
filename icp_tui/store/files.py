"""Opening the files of a database on a shared server, where any member can plant a file.

Every file of a database (base, journal, summary, lock, temporary files) is opened without
following a symbolic link and without blocking (a FIFO), and then used only if it is a regular
file with at most one link that belongs to the database: owned by the user running icp-tui,
or in the database's group, which is the group of its folder (a setgid 2770 folder on a
server). Anything else is refused with ForeignFile, before a byte of it is read or written.

New files get the database's policy, whatever the umask, whatever a planted link points to
and whatever mode an older file had: 0660 (the team reads and writes, nobody else sees it),
in the base's group when it exists, else the folder's.
"""

from __future__ import annotations

import errno
import fcntl
import grp
import os
import pwd
import stat
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from icp_tui.store.errors import ForeignFile, ReadOnlyDatabase, StoreBusy

#: The mode of a new file: the team reads and writes, nobody else sees it.
MODE = 0o660
#: Added to every open of a database file.
SAFE = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

_RESTORE = "nothing was read or written; move it away and restore the real file from a backup"
#: The lock and the summary need no backup: removing what was planted is enough (`remade`).
_REMOVE = "nothing was read or written; remove it: {why}"
#: Why removing a planted lock is enough (the `remade` of open_file).
LOCK = "the lock is an empty file that icp-tui creates again"
#: Why removing a planted summary is enough.
SUMMARY = "the summary is a cache that icp-tui rebuilds from the base"
#: The names of those two files: the base's name and these (journal.py names every file).
LOCK_SUFFIX = ".lock"
SUMMARY_SUFFIX = ".summary"


@dataclass(frozen=True, slots=True)
class Policy:
    """Mode and group for the files written for one database."""

    mode: int
    gid: int | None


def policy(base: Path) -> Policy:
    """The policy of the database whose base file is `base` (see the module docstring)."""
    with suppress(OSError):
        st = os.lstat(base)
        if stat.S_ISREG(st.st_mode):
            # The base's group, but never its mode: a base someone left 0644 (or 0640) would
            # otherwise pass "no group write" on to every file a compaction rewrites.
            return Policy(MODE, st.st_gid)
    return Policy(MODE, folder_gid(base))


def folder_gid(path: Path) -> int | None:
    """The database's group: that of the folder holding `path`."""
    try:
        return os.stat(path.parent).st_gid
    except OSError:
        return None


def apply_policy(fd: int, rule: Policy) -> None:
    """Give a file we just created the database's mode and group (the umask plays no part)."""
    os.fchmod(fd, rule.mode)
    if rule.gid is not None and os.fstat(fd).st_gid != rule.gid:
        # Only a member of the group may give it; a setgid folder already did.
        with suppress(PermissionError):
            os.fchown(fd, -1, rule.gid)


def open_file(path: Path, flags: int, mode: int = MODE, *, remade: str | None = None) -> int:
    """os.open for a file of the database: refused (ForeignFile) unless it is one.

    `remade` (LOCK or SUMMARY) is for a file icp-tui makes again by itself: a refusal then
    says to remove what was planted, and why that is enough, instead of restoring a backup.
    """
    try:
        fd = os.open(path, flags | SAFE, mode)
    except OSError as error:
        kind = {
            errno.ELOOP: stat.S_IFLNK,
            errno.EISDIR: stat.S_IFDIR,  # opened for writing
            errno.ENXIO: stat.S_IFIFO,  # opened for writing, and nobody reads it
        }.get(error.errno or 0)
        if kind is None:
            raise
        raise ForeignFile(_not_ours(path, kind, remade)) from None
    try:
        check(path, os.fstat(fd), remade=remade)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check(path: Path, st: os.stat_result, *, remade: str | None = None) -> None:
    """Refuse `st` (of `path`) unless it is a regular file of the database (`remade` as for
    open_file)."""
    if not stat.S_ISREG(st.st_mode):
        raise ForeignFile(_not_ours(path, st.st_mode, remade))
    # 0 links: replaced by a compaction since we opened it, which is fine.
    if st.st_nlink > 1:
        raise ForeignFile(
            f"{path} has {st.st_nlink} hard links, so it is also a file elsewhere: "
            f"{_what_to_do(remade)}"
        )
    if not belongs(path, st):
        group = folder_gid(path)
        raise ForeignFile(
            f"{path} belongs to {_user(st.st_uid)}:{_group(st.st_gid)}, neither you nor the "
            f"database's group {_group(group)}: if it is genuine, `chgrp {_group(group)}` it; "
            f"else {_what_to_do(remade)}"
        )


def belongs(path: Path, st: os.stat_result) -> bool:
    """Whether a regular file is the database's: ours, or in the folder's group."""
    return st.st_uid == os.geteuid() or st.st_gid == folder_gid(path)


def is_own_leftover(path: Path) -> bool:
    """Whether `path` is a regular file of the database (say, a killed writer's temp file)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_nlink <= 1 and belongs(path, st)


def sharing_problems(files: Sequence[Path]) -> list[str]:
    """What keeps the database's group (its folder's) from reading and writing each of
    `files` (the base first, then its companions), one line each; [] if nothing does."""
    folder = files[0].parent
    try:
        st = os.stat(folder)
    except OSError as error:
        return [f"cannot look at {folder}: {error.strerror}"]
    group = _group(st.st_gid)
    problems = []
    if st.st_mode & 0o070 != 0o070:
        problems.append(
            f"{folder} (mode {stat.S_IMODE(st.st_mode):04o}): other staff cannot replace "
            f"files in it: chmod g+rwx {folder}"
        )
    remade = {files[0].name + LOCK_SUFFIX: LOCK, files[0].name + SUMMARY_SUFFIX: SUMMARY}
    for file in files:
        try:
            st = os.lstat(file)
        except FileNotFoundError:
            continue
        except OSError as error:
            problems.append(f"cannot look at {file}: {error.strerror}")
            continue
        try:
            check(file, st, remade=remade.get(file.name))
        except ForeignFile as error:
            problems.append(str(error))
            continue
        mode = stat.S_IMODE(st.st_mode)
        if st.st_gid != folder_gid(file):
            problems.append(
                f"{file} is in group {_group(st.st_gid)}, not the database's group {group}: "
                f"chgrp {group} {file}"
            )
        if mode & 0o060 != 0o060:
            problems.append(
                f"{file} (mode {mode:04o}): other staff cannot write it: chmod g+rw {file}"
            )
        if mode & 0o007:
            problems.append(f"{file} (mode {mode:04o}) is open to everyone: chmod o-rwx {file}")
    return problems


@contextmanager
def writers_lock(path: Path, timeout: float, *, database: Path) -> Iterator[None]:
    """Hold the lock file `path` of `database` (flock) for the block; StoreBusy after
    `timeout` seconds.

    Each hold opens its own descriptor, so threads of one process exclude each other too.
    """
    try:
        fd = _open_lock(path, database)
    except PermissionError as error:
        raise ReadOnlyDatabase(
            f"cannot lock {path} ({error.strerror}): {database} is read-only for you"
        ) from None
    try:
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"{database} is busy: another icp-tui is saving; try again"
                    ) from None
                time.sleep(pause)  # a poll: flock has no timeout of its own
                pause = min(pause * 2, 0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open_lock(path: Path, database: Path) -> int:
    try:
        fd = open_file(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, remade=LOCK)
    except FileExistsError:
        return open_file(path, os.O_RDWR, remade=LOCK)
    try:
        apply_policy(fd, policy(database))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _not_ours(path: Path, mode: int, remade: str | None) -> str:
    """The refusal of something at `path` that is not a regular file (`mode` its type)."""
    if stat.S_ISLNK(mode):
        return f"{path} is a symbolic link, which icp-tui never follows: {_what_to_do(remade)}"
    if stat.S_ISDIR(mode):
        kind = "a folder"
    elif stat.S_ISFIFO(mode):
        kind = "a FIFO"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a device"
    return f"{path} is {kind}, not a file of this database: {_what_to_do(remade)}"


def _what_to_do(remade: str | None) -> str:
    """What to do about something planted at a file of the database (see open_file)."""
    if remade is None:
        return _RESTORE
    return _REMOVE.format(why=remade)


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int | None) -> str:
    if gid is None:
        return "(unknown)"
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
