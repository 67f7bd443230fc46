import hashlib
import io
import tarfile
import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from spectrocam.corpus.download import (
    DownloadError,
    UnsafeArchiveError,
    check_members,
    download,
    safe_extract,
)

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class RangeHandler(BaseHTTPRequestHandler):
    """Serves PAYLOAD with HTTP Range support and records the ranges asked for."""

    def __init__(self, *args, ranges, **kwargs):
        self.ranges = ranges
        super().__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802
        header = self.headers.get("Range")
        self.ranges.append(header)
        start = int(header.split("=")[1].rstrip("-")) if header else 0
        body = PAYLOAD[start:]
        self.send_response(206 if header else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    ranges: list = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, ranges=ranges))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/LJSpeech-1.1.tar.bz2", ranges
    httpd.shutdown()


def test_download_resumes_and_verifies(tmp_path, server):
    url, ranges = server
    dest = tmp_path / "archive.tar.bz2"
    (tmp_path / "archive.tar.bz2.part").write_bytes(PAYLOAD[:300_000])  # an interrupted run
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    download(url, dest, sha256=sha, size_bytes=len(PAYLOAD))
    assert ranges == ["bytes=300000-"]
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "archive.tar.bz2.part").exists()


def test_wrong_checksum_is_refused_and_not_kept(tmp_path, server):
    url, _ = server
    dest = tmp_path / "archive.tar.bz2"
    with pytest.raises(DownloadError, match="sha256"):
        download(url, dest, sha256="0" * 64, size_bytes=len(PAYLOAD))
    assert not dest.exists() and not (tmp_path / "archive.tar.bz2.part").exists()
    with pytest.raises(DownloadError, match="bytes, expected"):
        download(url, dest, size_bytes=len(PAYLOAD) + 1, retries=0)


def test_unreachable_server_keeps_partial_file(tmp_path):
    dest = tmp_path / "a.tar"
    (tmp_path / "a.tar.part").write_bytes(b"12345")
    with pytest.raises(DownloadError, match="run again to resume"):
        download("http://127.0.0.1:9/none", dest, retries=0, timeout_s=2)
    assert (tmp_path / "a.tar.part").read_bytes() == b"12345"


def tar_member(name, kind, data=b""):
    """A TarInfo: kind is file, dir, sym (data: the target) or hard (data: the linked member)."""
    info = tarfile.TarInfo(name)
    if kind == "file":
        info.size = len(data)
    else:
        info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE}[kind]
        info.linkname = data if kind in ("sym", "hard") else ""
    return info


def make_tar(path, members):
    with tarfile.open(path, "w:bz2") as tar:
        for name, kind, data in members:
            info = tar_member(name, kind, data)
            tar.addfile(info, io.BytesIO(data) if kind == "file" else None)


def test_safe_extract_takes_the_subdir(tmp_path):
    archive = tmp_path / "ok.tar.bz2"
    make_tar(
        archive,
        [
            ("LJSpeech-1.1", "dir", b""),
            ("LJSpeech-1.1/metadata.csv", "file", b"LJ001-0001|a|a\n"),
            ("LJSpeech-1.1/wavs/LJ001-0001.wav", "file", b"RIFF"),
        ],
    )
    target = safe_extract(archive, tmp_path / "corpus", subdir="LJSpeech-1.1")
    assert (target / "metadata.csv").read_text() == "LJ001-0001|a|a\n"
    assert (target / "wavs" / "LJ001-0001.wav").exists()
    assert not (tmp_path / "corpus.extracting").exists()


@pytest.mark.parametrize(
    "bad",
    [
        ("../evil.txt", "file", b"x"),
        ("/tmp/evil.txt", "file", b"x"),
        ("LJSpeech-1.1/link", "sym", "../../outside"),
        ("LJSpeech-1.1/abs", "sym", "/etc/passwd"),
    ],
)
def test_safe_extract_refuses_escaping_members(tmp_path, bad):
    archive = tmp_path / "bad.tar.bz2"
    make_tar(archive, [("LJSpeech-1.1/metadata.csv", "file", b"a"), bad])
    with pytest.raises(UnsafeArchiveError, match="archive member"):
        safe_extract(archive, tmp_path / "out" / "corpus", subdir="LJSpeech-1.1")
    assert not (tmp_path / "out" / "corpus").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_a_hash_prefix_verifies_like_torchvision_weight_names(tmp_path, server):
    url, _ = server
    prefix = hashlib.sha256(PAYLOAD).hexdigest()[:8]  # as in resnet101-cd907fc2.pth
    download(url, tmp_path / "weights.pth", sha256=prefix)
    assert (tmp_path / "weights.pth").read_bytes() == PAYLOAD
    wrong = "0" * 8 if prefix != "0" * 8 else "1" * 8
    with pytest.raises(DownloadError, match="sha256"):
        download(url, tmp_path / "other.pth", sha256=wrong)
    assert not (tmp_path / "other.pth").exists()


# Archives our own check must refuse before anything is extracted, with the member it names.
ESCAPES = {
    # a -> . makes a/b the top-level b, so that b -> .. is the target's parent
    "chain through a link to .": (
        [("a", "sym", "."), ("a/b", "sym", ".."), ("b/evil.txt", "file", b"x")],
        "a/b",
    ),
    "chain with ../..": (
        [("a", "sym", "."), ("a/b", "sym", "../.."), ("b/evil.txt", "file", b"x")],
        "a/b",
    ),
    # each link points inside; the file goes through both: d/up is the target's parent
    "file through two links": (
        [
            ("d", "dir", b""),
            ("d/e", "sym", "."),
            ("d/e/up", "sym", "../.."),
            ("d/up/x", "file", b"x"),
        ],
        "d/e/up",
    ),
    # l points inside when made; x -> . makes x/.. the target's parent (Python's filter="data"
    # extracts this archive, leaving l pointing outside)
    "link that a later link turns outside": (
        [("l", "sym", "x/../y"), ("x", "sym", ".")],
        "l",
    ),
    "file written through a link onto a path outside": (
        [("d", "dir", b""), ("d/up", "sym", "."), ("d/up/../../evil.txt", "file", b"x")],
        "d/up/../../evil.txt",
    ),
    "direct ..": ([("../x", "file", b"x")], "../x"),
    "absolute path": ([("/tmp/evil.txt", "file", b"x")], "/tmp/evil.txt"),
    "symlink outside": ([("d", "dir", b""), ("d/link", "sym", "../../outside")], "d/link"),
    "absolute symlink": ([("link", "sym", "/etc/passwd")], "link"),
    "hard link outside": ([("hard", "hard", "../outside")], "hard"),
    "hard link through a symlink outside": (
        [("up", "sym", "."), ("hard", "hard", "up/../etc/passwd")],
        "hard",
    ),
}


@pytest.mark.parametrize("case", ESCAPES)
def test_our_check_refuses_escaping_members_by_itself(case):
    members, culprit = ESCAPES[case]
    with pytest.raises(UnsafeArchiveError, match=f"archive member '{culprit}'"):
        check_members([tar_member(*m) for m in members])


@pytest.mark.parametrize("case", ["chain through a link to .", "file through two links"])
def test_escaping_chains_stop_before_anything_is_extracted(tmp_path, case, monkeypatch):
    archive = tmp_path / "bad.tar.bz2"
    make_tar(archive, ESCAPES[case][0])
    extracted = []
    monkeypatch.setattr(tarfile.TarFile, "extractall", lambda *a, **k: extracted.append(a))
    with pytest.raises(UnsafeArchiveError, match=f"archive member '{ESCAPES[case][1]}'"):
        safe_extract(archive, tmp_path / "out" / "corpus")
    assert extracted == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tar.bz2", "out"]
    assert list((tmp_path / "out").iterdir()) == []


def test_links_loops_and_devices_are_refused():
    with pytest.raises(UnsafeArchiveError, match="loop"):
        check_members([tar_member("a", "sym", "b"), tar_member("b", "sym", "a/c")])
    fifo = tarfile.TarInfo("fifo")
    fifo.type = tarfile.FIFOTYPE
    with pytest.raises(UnsafeArchiveError, match="archive member 'fifo' is a device"):
        check_members([fifo])


def test_an_archive_with_internal_links_extracts(tmp_path):
    archive = tmp_path / "ok.tar.bz2"
    make_tar(
        archive,
        [
            ("LJSpeech-1.1", "dir", b""),
            ("LJSpeech-1.1/metadata.csv", "file", b"LJ001-0001|a|a\n"),
            ("LJSpeech-1.1/wavs/LJ001-0001.wav", "file", b"RIFF"),
            ("LJSpeech-1.1/wavs/metadata.csv", "sym", "../metadata.csv"),
            ("LJSpeech-1.1/audio", "sym", "wavs"),
            ("LJSpeech-1.1/audio/again.wav", "hard", "LJSpeech-1.1/wavs/LJ001-0001.wav"),
            ("LJSpeech-1.1/audio/../README", "file", b"readme"),
        ],
    )
    target = safe_extract(archive, tmp_path / "corpus", subdir="LJSpeech-1.1")
    assert (target / "wavs" / "metadata.csv").is_symlink()
    assert (target / "wavs" / "metadata.csv").read_text() == "LJ001-0001|a|a\n"
    assert (target / "audio").is_symlink() and (target / "audio" / "LJ001-0001.wav").exists()
    assert (target / "wavs" / "again.wav").read_bytes() == b"RIFF"
    assert (target / "README").read_bytes() == b"readme"
