"""Derived cache files written atomically: a reader sees the old file, no file, or the whole new one."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write data to path through a temporary file in the same folder (mode 0644: the model cache may be shared);
    OSError when the folder cannot be written."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_quietly(path: Path, data: bytes) -> bool:
    """write_atomic for a cache that only saves time: a folder that cannot be written means the slower load next time."""
    try:
        write_atomic(path, data)
    except OSError:
        return False
    return True
