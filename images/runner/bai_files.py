"""put/get/list confined to the work directory (no `..`, no symlink escape).

Large files move in pieces: `put` with an `offset` writes into an existing
file there (offset 0 or none creates or truncates it), `get` with a `length`
reads that many bytes from `offset`, so no single frame carries a whole
upload or download.
"""

import os
import stat

MAX_GET = 12 * 1024 * 1024  # a whole-file get: base64 of this fits a 16 MiB frame
MAX_CHUNK = 4 * 1024 * 1024  # most one ranged get returns


def confine(home, path):
    home = os.path.realpath(home)
    full = os.path.realpath(os.path.join(home, path.lstrip("/") if not path.startswith(home) else os.path.relpath(path, home)))
    if full != home and not full.startswith(home + os.sep):
        raise ValueError("path escapes the work directory: %s" % path)
    return full


def put(home, path, data, mode=None, offset=None):
    """Writes data at offset (none or 0: the file is created or truncated first)."""
    full = confine(home, path)
    offset = int(offset or 0)
    if offset < 0:
        raise ValueError("negative offset: %d" % offset)
    if offset == 0:
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    else:
        with open(full, "r+b") as f:
            f.seek(offset)
            f.write(data)
    if mode is not None:
        os.chmod(full, int(mode, 8) if isinstance(mode, str) else int(mode))


def get(home, path, offset=None, length=None):
    """(bytes, file size): the whole file (at most MAX_GET), or `length` bytes from `offset`."""
    full = confine(home, path)
    size = os.path.getsize(full)
    if length is None and not offset:
        if size > MAX_GET:
            raise ValueError("file larger than %d bytes: %s (read it in ranges)" % (MAX_GET, path))
        with open(full, "rb") as f:
            return f.read(), size
    offset = int(offset or 0)
    length = MAX_CHUNK if length is None else int(length)
    if offset < 0 or length < 0:
        raise ValueError("negative offset or length")
    with open(full, "rb") as f:
        f.seek(offset)
        return f.read(min(length, MAX_CHUNK)), size


def listdir(home, path):
    full = confine(home, path)
    items = []
    for entry in sorted(os.scandir(full), key=lambda e: e.name):
        st = entry.stat(follow_symlinks=False)
        kind = "dir" if entry.is_dir(follow_symlinks=False) else "link" if entry.is_symlink() else "file"
        items.append({
            "name": entry.name, "type": kind, "size": st.st_size, "mtime": st.st_mtime,
            # What Backend.AI's own listing carries (the Python CLI's `ls` prints them).
            "mode": stat.filemode(st.st_mode), "ctime": st.st_ctime, "atime": st.st_atime,
        })
    return items
