"""Downloading and unpacking the corpus archive: resumable, verified, and safe to extract.

* :func:`download` fetches a URL into ``<dest>.part``, resuming with an HTTP Range request after an
  interruption, checks the size and sha256, and only then renames the file to ``dest``.
* :func:`safe_extract` unpacks a tar archive into a temporary directory beside the target and
  renames it into place when complete. Before anything is written, :func:`check_members`
  resolves every member's final path through the links that the members before it make; one
  that would leave the target (absolute, ``..``, through a link, or a link pointing outside)
  stops the extraction with an error naming it. Python's ``filter="data"`` is a second guard.
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
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from spectrocam.exceptions import ExpectedError

__all__ = [
    "DownloadError",
    "UnsafeArchiveError",
    "check_members",
    "download",
    "safe_extract",
    "sha256sum",
]

log = logging.getLogger(__name__)
CHUNK = 1 << 20


class DownloadError(ExpectedError, RuntimeError):
    """The download failed or its result does not match the expected size or checksum."""


class UnsafeArchiveError(ExpectedError, RuntimeError):
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


# As many links as Linux follows in one path (SYMLOOP_MAX) before it gives up (ELOOP).
MAX_LINK_HOPS = 40


class _Outside(Exception):
    """A path leaves the target directory."""


class _ExtractedTree:
    """Where the symbolic links of the members checked so far sit in the extracted tree.

    Locations are tuples of path components below the target, with every link followed as the
    filesystem will follow it once those members are extracted.
    """

    def __init__(self) -> None:
        self.links: dict[tuple[str, ...], tuple[str, str]] = {}  # location -> (target, member)

    def resolve(self, parts: tuple[str, ...]) -> tuple[str, ...]:
        """The location ``parts`` (relative to the target) ends at, every link followed.

        Raises :class:`_Outside` where the path leaves the target, and
        :class:`UnsafeArchiveError` where the links loop.
        """
        done: list[str] = []
        todo = list(parts)
        hops = 0
        while todo:
            part = todo.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not done:
                    raise _Outside
                done.pop()
                continue
            link = self.links.get((*done, part))
            if link is None:
                done.append(part)
                continue
            hops += 1
            if hops > MAX_LINK_HOPS:
                raise UnsafeArchiveError(f"the archive's links loop at {'/'.join(parts)!r}")
            target = PurePosixPath(link[0])
            if target.is_absolute():
                raise _Outside
            todo[:0] = target.parts  # relative to the link's own directory, ``done``
        return tuple(done)

    def add(self, member: tarfile.TarInfo) -> None:
        """Check ``member`` against the tree so far and add its link, if it is one."""
        name = PurePosixPath(member.name)
        if name.is_absolute():
            raise UnsafeArchiveError(f"archive member {member.name!r} has an absolute path")
        if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            raise UnsafeArchiveError(
                f"archive member {member.name!r} is a device, fifo or of unknown type"
            )
        try:
            if member.issym():
                # The link itself is made in its (resolved) directory; its target is followed
                # from there, with the links of the members before it.
                if not name.parts or name.name in ("", ".", ".."):
                    raise UnsafeArchiveError(f"archive member {member.name!r} names no file")
                location = (*self.resolve(name.parent.parts), name.name)
            else:
                # Files, hard links and directories are written through a link at their path.
                location = self.resolve(name.parts)
        except _Outside:
            raise UnsafeArchiveError(
                f"archive member {member.name!r} would be written outside the target"
            ) from None
        if not location and not member.isdir():
            raise UnsafeArchiveError(
                f"archive member {member.name!r} would replace the target directory"
            )
        if member.issym() or member.islnk():
            target = PurePosixPath(member.linkname)
            # A symbolic link's target is relative to its directory, a hard link's to the root.
            start = location[:-1] if member.issym() else ()
            try:
                if target.is_absolute() or not member.linkname:
                    raise _Outside
                self.resolve((*start, *target.parts))
            except _Outside:
                raise UnsafeArchiveError(
                    f"archive member {member.name!r} links outside the target ({member.linkname!r})"
                ) from None
        if member.issym():
            self.links[location] = (member.linkname, member.name)

    def check_links(self) -> None:
        """Every link, in the complete tree, still points inside the target.

        A later member can change where an earlier link leads (``l -> x/../y``, then ``x -> .``).
        """
        for location, (linkname, member) in self.links.items():
            try:
                self.resolve(location)
            except _Outside:
                raise UnsafeArchiveError(
                    f"archive member {member!r} links outside the target ({linkname!r}) "
                    "through links that later members make"
                ) from None


def check_members(members: Iterable[tarfile.TarInfo]) -> None:
    """Refuse an archive any of whose ``members`` would be written, or link, outside the target.

    The members are taken in order, as extraction makes them: each one's path is resolved in
    the tree the members before it make, following their symbolic and hard links (a symbolic
    link relative to where it sits in that tree, a hard link relative to the target). A member
    whose resolved path or link target leaves the target, an absolute path or link, and a
    device or fifo raise :class:`UnsafeArchiveError` naming the member. Nothing is read from or
    written to the filesystem.
    """
    tree = _ExtractedTree()
    for member in members:
        tree.add(member)
    tree.check_links()


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
            check_members(members)  # ours first; Python's "data" filter is the second guard
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
