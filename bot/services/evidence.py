"""Photo evidence kept beside the database, named by the sha256 of its bytes.

Telegram may drop a file at any time; the bytes stored here outlive it, so reports and exports read from this
folder. Content addressing makes storing idempotent (the same photo sent twice is one file) and lets anyone
check that a file is the one the hazard's record names.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def store(self, data: bytes) -> str:
        """Keep the bytes (once) and return their sha256 in lowercase hex."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed into place: a crash leaves a stray temp file, never a
        # truncated file under a valid name.
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return digest

    def path(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            # The name becomes a path: anything but a digest could walk out of the folder.
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def discard(self, sha256: str) -> bool:
        """Delete the bytes (a discarded draft's photo nothing else names); whether there were any."""
        target = self.path(sha256)
        if not target.is_file():
            return False
        target.unlink(missing_ok=True)
        return True

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def read(self, sha256: str) -> bytes:
        """The stored bytes; FileNotFoundError if they were never stored."""
        return self.path(sha256).read_bytes()
