"""The WARC index: lookups by URL, lazy bodies, snapshots, and damage reported with file and offset."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.archive import Exchange, RotatingWarcWriter
from crawler.warcindex import ArchiveError, open_snapshots, scan_file, url_key

HTML = [("Content-Type", "text/html; charset=utf-8")]


def _crawl_archive(directory: Path, pages: dict[str, bytes], max_bytes: int = 50_000_000) -> list[Path]:
    writer = RotatingWarcWriter(directory, max_bytes)
    for url, body in pages.items():
        writer.write(Exchange(url, "GET", [], b"", 200, HTML, body))
    writer.finish()
    return writer.finished


def _foreign_warc(path: Path, *, gz: bool) -> Path:
    """A WARC as another tool writes it: no warcinfo crawl id, a POST, a revisit record."""
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=gz)
        body = b"<html><p>original</p></html>"
        http = StatusAndHeaders("200 OK", HTML, protocol="HTTP/1.1")
        original = writer.create_warc_record(
            "http://site.test/a", "response", payload=io.BytesIO(body), http_headers=http
        )
        writer.write_record(original)
        digest = original.rec_headers.get_header("WARC-Payload-Digest")
        revisit = writer.create_revisit_record(
            "http://site.test/a?copy=1",
            digest,
            "http://site.test/a",
            original.rec_headers.get_header("WARC-Date"),
            http_headers=StatusAndHeaders("200 OK", HTML, protocol="HTTP/1.1"),
        )
        writer.write_record(revisit)
        post_resp = writer.create_warc_record(
            "http://site.test/form",
            "response",
            payload=io.BytesIO(b"posted"),
            http_headers=StatusAndHeaders("200 OK", HTML, protocol="HTTP/1.1"),
        )
        post_req = writer.create_warc_record(
            "http://site.test/form",
            "request",
            payload=io.BytesIO(b"q=1"),
            http_headers=StatusAndHeaders("POST /form HTTP/1.1", [], is_http_request=True),
        )
        writer.write_request_response_pair(post_req, post_resp)
    return path


@pytest.mark.parametrize("gz", [True, False])
def test_foreign_archive_lookup_revisit_and_methods(tmp_path: Path, gz: bool) -> None:
    path = _foreign_warc(tmp_path / ("f.warc.gz" if gz else "f.warc"), gz=gz)
    [snapshot] = open_snapshots([path])
    assert snapshot.damage == []
    [entry] = snapshot.lookup("http://SITE.test/a#frag")
    assert snapshot.read(entry).body == b"<html><p>original</p></html>"
    [revisit] = snapshot.lookup("http://site.test/a?copy=1")
    assert revisit.record_type == "revisit" and revisit.refers_to_uri == "http://site.test/a"
    assert snapshot.lookup("http://site.test/form") == []  # POST responses are not replayable GETs


def test_query_parameters_stay_significant() -> None:
    assert url_key("http://a.test/p?b=2&a=1#x") == url_key("http://a.test/p?a=1&b=2")
    assert url_key("http://a.test/p?output=amp") != url_key("http://a.test/p")


def test_bodies_are_read_lazily_from_disk(tmp_path: Path) -> None:
    files = _crawl_archive(tmp_path, {"http://s.test/1": b"one", "http://s.test/2": b"two"})
    [snapshot] = open_snapshots(files)
    assert not hasattr(snapshot.entries[0], "body")
    assert [snapshot.read(e).body for e in snapshot.entries] == [b"one", b"two"]


def _damaged(tmp_path: Path, gz: bool, cut: int | None = None, flip: int | None = None) -> Path:
    name = "d.warc.gz" if gz else "d.warc"
    source = _foreign_warc(tmp_path / ("src-" + name), gz=gz)
    data = bytearray(source.read_bytes())
    source.unlink()
    if cut is not None:
        data = data[: len(data) + cut if cut < 0 else cut]
    if flip is not None:
        data[flip] ^= 0xFF
        data[flip + 1] ^= 0xFF
    target = tmp_path / name
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("cut", [-7, -200])
def test_truncated_archive_names_file_and_offset(tmp_path: Path, gz: bool, cut: int) -> None:
    path = _damaged(tmp_path, gz, cut=cut)
    scanned = scan_file(path)
    assert scanned.damage is not None
    assert str(path) in str(scanned.damage) and "truncated" in str(scanned.damage)
    assert scanned.damage.offset is not None and scanned.damage.offset > 0
    # Strict mode refuses the whole archive before anything could be replayed ...
    with pytest.raises(ArchiveError) as excinfo:
        open_snapshots([path])
    assert excinfo.value.path == path
    # ... partial mode keeps every record before the damage and reports it.
    [snapshot] = open_snapshots([path], partial=True)
    assert snapshot.damage and snapshot.lookup("http://site.test/a")
    assert snapshot.read(snapshot.lookup("http://site.test/a")[0]).body.startswith(b"<html>")


@pytest.mark.parametrize("gz", [True, False])
def test_corrupt_record_is_reported(tmp_path: Path, gz: bool) -> None:
    clean = _foreign_warc(tmp_path / "clean.warc", gz=gz).read_bytes()
    path = _damaged(tmp_path, gz, flip=len(clean) // 2)
    scanned = scan_file(path)
    assert scanned.damage is not None, "a flipped byte must not pass silently"
    assert f"{path} (record at byte" in str(scanned.damage)
    assert scanned.damage.problem.isprintable()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b"<html>this is a web page, not an archive</html>\n" * 3, "not a .*WARC"),
        (b"\x1f\x8b\x08\x00garbage", "WARC"),
    ],
)
def test_non_warc_files(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "x.warc.gz"
    path.write_bytes(content)
    with pytest.raises(ArchiveError, match=expected) as excinfo:
        open_snapshots([path])
    assert str(path) in str(excinfo.value)


def test_missing_file_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no such file") as excinfo:
        open_snapshots([tmp_path / "nope.warc.gz"])
    assert "nope.warc.gz" in str(excinfo.value)
    with pytest.raises(ArchiveError, match=r"no \.warc"):
        open_snapshots([tmp_path])


def test_directory_skips_unfinished_files_and_groups_parts(tmp_path: Path) -> None:
    first = _crawl_archive(
        tmp_path / "a", {f"http://s.test/{n}": bytes(range(256)) * 40 for n in range(4)}, 3000
    )
    assert len(first) > 1
    (tmp_path / "a" / "factwatch-20990101000000-00000.warc.gz.open").write_bytes(b"half")
    second = _crawl_archive(tmp_path / "b", {"http://s.test/0": b"later"})
    snapshots = open_snapshots([tmp_path / "a", *second])
    assert len(snapshots) == 2
    assert snapshots[0].paths == first and len(snapshots[0].entries) == 4
    assert snapshots[1].read(snapshots[1].lookup("http://s.test/0")[0]).body == b"later"
