"""What counts as migrated: the one rule hlm's Swift glue applies.

A replica's data is *on disk* when every byte of its ``.data`` file is backed
by storage: ``lseek(fd, start, SEEK_HOLE)`` finds no hole before the end of
the range. A tape stub -- a file whose blocks an HSM (LTFS Data Management,
Spectrum Archive) or hlm's ``tapesim`` (``release = punch``) freed, keeping
its size and xattrs -- has a hole, so it is *offline*: reading it returns
zeros (a punched file) or starts a transparent tape recall (an HSM). A stub
that keeps its first bytes on disk (a "preview" stub) is offline too: the
hole comes later in the file.

The rule looks at the disk only: no backend is asked, no state database is
read, and it holds whoever made the stub. ``tapesim`` with ``release = keep``
leaves the bytes on disk, so its replicas are on disk whatever its index
says. An empty file is on disk. A file system that cannot report holes
(``EINVAL``) counts every file as on disk, as the kernel's generic
``SEEK_HOLE`` does: the guard cannot protect stubs there, which hlm-handler(8)
says.

Every check keeps the file offset where it was, so a reader that owns the
descriptor can go on reading.

hlm-handler(8) ("Guarded reads") documents this rule for operators; change
it here and there together.
"""

import errno
import os


def on_disk(fd, start=0, end=None):
    """True when bytes [start, end) of the open file `fd` are all on disk.

    `end` defaults to the file's size; an empty range is on disk. Raises
    OSError for anything but a file system that cannot report holes.
    """
    saved = os.lseek(fd, 0, os.SEEK_CUR)
    try:
        if end is None:
            end = os.fstat(fd).st_size
        if start >= end:
            return True
        try:
            hole = os.lseek(fd, start, os.SEEK_HOLE)
        except OSError as e:
            if e.errno == errno.EINVAL:  # SEEK_HOLE not supported
                return True
            if e.errno == errno.ENXIO:  # start at or past EOF (file shrank)
                return True
            raise
        return hole >= end
    finally:
        os.lseek(fd, saved, os.SEEK_SET)


def path_on_disk(path):
    """on_disk() of the whole file at `path`."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return on_disk(fd)
    finally:
        os.close(fd)
