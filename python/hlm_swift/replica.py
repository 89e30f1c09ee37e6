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

A recalled replica may carry when its restore expires (``hlmctl recall
--days N``, as S3 Glacier's restore): hlm-handler sets the extended
attribute ``user.hlm.restore-expiry`` on its ``.data`` file to the expiry in
Unix seconds, ASCII decimal digits without a newline (``1796947200``). It
means something only while the replica's data is on disk: on a stub it is
left over and ignored. A replica without it has no expiry; a value that is
not plain digits, or not a date Python can format (past year 9999), is
invalid and its readers treat it as absent, saying so.

hlm-handler(8) ("Guarded reads") documents this rule for operators; change
it here and there together.
"""

import datetime
import errno
import os

RESTORE_EXPIRY_XATTR = 'user.hlm.restore-expiry'


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


def restore_expiry(fd):
    """The restore expiry recorded on the open replica `fd`, in Unix
    seconds, or None when it has none (or the file system has no xattrs).

    Raises ValueError for an invalid value and OSError when the attribute
    cannot be read. Whether the data is on disk is on_disk()'s question.
    """
    try:
        value = os.getxattr(fd, RESTORE_EXPIRY_XATTR)
    except OSError as e:
        if e.errno in (errno.ENODATA, errno.ENOTSUP):
            return None
        raise
    # bytes.isdigit() accepts ASCII digits only, and not b''.
    if not value.isdigit():
        raise ValueError('%s is not Unix seconds: %r'
                         % (RESTORE_EXPIRY_XATTR, value[:64]))
    try:
        seconds = int(value)
        datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise ValueError('%s is out of range for a date: %r'
                         % (RESTORE_EXPIRY_XATTR, value[:64])) from None
    return seconds
