"""Downloading and unpacking the corpus archive: resumable, verified, and safe to extract.

* :func:`download` fetches a URL into ``<dest>.part``, resuming with an HTTP Range request after an
  interruption, checks the size and sha256, and only then renames the file to ``dest``.
* :func:`safe_extract` unpacks a tar archive into a temporary directory beside the target and
  renames it into place when complete; a member whose path would leave the target (absolute,
  ``..``, or a link pointing outside) stops the extraction with an error naming it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

__all__ = ["DownloadError", "UnsafeArchiveError", "download", "sha256sum", "safe_extract"]

log = logging.getLogger(__name__)
CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """The download failed or its result does not match the expected size or checksum."""


class UnsafeArchiveError(RuntimeError):
    """An archive member would be written outside the target directory."""


def sha256sum(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, size_bytes: int | None, sha256: str | None) -> None:
    size = path.stat().st_size
    if size_bytes is not None and size != size_bytes:
        raise DownloadError(f"{path}: {size} bytes, expected {size_bytes}")
    if sha256 is not None:
        # A shorter value is a prefix, as in torchvision's weight file names (name-<8 hex>.pth).
        got = sha256sum(path)
        if not got.startswith(sha256.lower()) or len(sha256) < 8:
            raise DownloadError(f"{path}: sha256 {got}, expected {sha256}")


def download(
    url: str,
    dest: str | Path,
    sha256: str | None = None,
    size_bytes: int | None = None,
    retries: int = 5,
    timeout_s: float = 60.0,
    progress_every_s: float = 10.0,
) -> Path:
    """Download ``url`` to ``dest`` (see the module docstring); return ``dest``.

    A partial ``<dest>.part`` from an earlier, interrupted call is resumed. A ``.part`` that turns
    out corrupt (wrong checksum) is deleted so that the next call starts over.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    attempt = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        if size_bytes is not None and have >= size_bytes:
            break
        request = urllib.request.Request(url, headers={"User-Agent": "spectrocam"})
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                status = getattr(response, "status", 200)
                if have and status != 206:
                    log.warning("server ignored the Range request; starting over")
                    have = 0
                mode = "ab" if have else "wb"
                total = size_bytes or (have + int(response.headers.get("Content-Length") or 0))
                got, last = have, time.monotonic()
                with open(part, mode) as out:
                    for block in iter(lambda: response.read(CHUNK), b""):
                        out.write(block)
                        got += len(block)
                        if time.monotonic() - last >= progress_every_s:
                            last = time.monotonic()
                            share = f" ({100 * got / total:.1f} %)" if total else ""
                            log.info("downloaded %.1f MB%s", got / 1e6, share)
            break
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            if isinstance(exc, urllib.error.HTTPError) and exc.code == 416 and have:
                break  # Range beyond the end: the .part is already complete
            attempt += 1
            if attempt > retries:
                kept = (
                    f" The partial file {part} is kept; run again to resume."
                    if part.exists() and part.stat().st_size
                    else ""
                )
                raise DownloadError(
                    f"could not download {url} after {retries} retries: {exc}.{kept}"
                ) from exc
            wait = min(60, 2**attempt)
            log.warning("download interrupted (%s); resuming in %d s", exc, wait)
            time.sleep(wait)
    try:
        _verify(part, size_bytes, sha256)
    except DownloadError:
        part.unlink(missing_ok=True)
        raise
    part.replace(dest)
    log.info("downloaded and verified %s", dest)
    return dest


def _check_member(member: tarfile.TarInfo, root: Path) -> None:
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise UnsafeArchiveError(f"archive member {member.name!r} would escape the target")
    target = (root / name).resolve()
    if not target.is_relative_to(root):
        raise UnsafeArchiveError(f"archive member {member.name!r} would escape the target")
    if member.issym() or member.islnk():
        link = PurePosixPath(member.linkname)
        base = root if member.islnk() else (root / name).parent
        if link.is_absolute() or not (base / link).resolve().is_relative_to(root):
            raise UnsafeArchiveError(
                f"archive member {member.name!r} links outside the target ({member.linkname!r})"
            )
    elif not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(f"archive member {member.name!r} is a device or fifo")


def safe_extract(archive: str | Path, target: str | Path, subdir: str | None = None) -> Path:
    """Extract ``archive`` so that ``target`` becomes its ``subdir`` (or its whole content).

    Every member is checked before anything is written; the extraction goes to a temporary
    directory that is renamed to ``target`` only when complete.
    """
    archive, target = Path(archive), Path(target)
    staging = target.with_name(target.name + ".extracting")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    root = staging.resolve()
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, root)
            log.info("extracting %d members of %s", len(members), archive)
            tar.extractall(root, members=members, filter="data")
        source = root / subdir if subdir else root
        if not source.is_dir():
            raise UnsafeArchiveError(f"{archive} has no directory {subdir!r}")
        if target.exists():
            shutil.rmtree(target)
        os.replace(source, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
