"""Uploaded materials, stored once by SHA-256; file type decided by content, not by the client."""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tongban.errors import DomainError

# Accepted types by their leading bytes: PDF, JPEG, PNG, OFD (a ZIP container).
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"PK\x03\x04", "application/ofd"),
)
ALLOWED_EXTENSIONS = {
    "application/pdf": {".pdf"},
    "image/jpeg": {".jpg", ".jpeg"},
    "image/png": {".png"},
    "application/ofd": {".ofd"},
}


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    content_type: str


def sniff_type(data: bytes, filename: str) -> str:
    for magic, content_type in _SIGNATURES:
        if data.startswith(magic):
            if Path(filename).suffix.lower() not in ALLOWED_EXTENSIONS[content_type]:
                break
            return content_type
    raise DomainError(
        "unsupported_file_type",
        "文件类型不受支持：仅接受 PDF、JPG、PNG、OFD 文件，且扩展名须与内容一致。",
        status=415,
    )


def check_upload(data: bytes, filename: str) -> str:
    if not data:
        raise DomainError("file_empty", "上传的文件为空。")
    limit = settings.TONGBAN_MAX_UPLOAD_BYTES
    if len(data) > limit:
        raise DomainError("file_too_large", f"文件过大：单个文件不得超过 {limit // (1024 * 1024)} MB。", status=413)
    return sniff_type(data, filename)


def _path(sha256: str) -> Path:
    return Path(settings.TONGBAN_BLOB_DIR) / sha256[:2] / sha256


def store(data: bytes, content_type: str) -> StoredBlob:
    sha = hashlib.sha256(data).hexdigest()
    path = _path(sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    return StoredBlob(sha256=sha, size=len(data), content_type=content_type)


def read(sha256: str) -> bytes:
    return _path(sha256).read_bytes()


def encode(sha256: str) -> str:
    return base64.b64encode(read(sha256)).decode("ascii")


def store_encoded(sha256: str, encoded: str) -> None:
    data = base64.b64decode(encoded)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise DomainError("material_digest_mismatch", "材料内容与摘要不一致，已拒收。")
    if not _path(sha256).exists():
        store(data, "application/octet-stream")
