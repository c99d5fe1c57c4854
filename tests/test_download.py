"""mialab.download against a local HTTP server on 127.0.0.1: no test touches the real network."""

import hashlib
import http.server
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from mialab import download
from mialab.download import ChecksumError, Dataset, DatasetUnavailable, RemoteFile, fetch, sha256_file

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = b"".join(f"{i},{i % 3},{(i * 7) % 11}\n".encode() for i in range(40))  # a 300-byte CSV
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
OTHER_SHA = hashlib.sha256(b"not the payload").hexdigest()


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No offline flag, no proxy, and a throw-away default cache for every test."""
    for var in ("MIALAB_OFFLINE", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MIALAB_CACHE", str(tmp_path / "default-cache"))


@pytest.fixture
def server():
    """Serve `routes` (path -> bytes) on an ephemeral port; `requests` lists every path asked for."""
    routes, requests = {"/data.csv": PAYLOAD}, []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body = routes.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield type("Server", (), {"base": base, "url": base + "/data.csv", "routes": routes, "requests": requests})
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def closed_url():
    """A URL on 127.0.0.1 whose port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/data.csv"


@pytest.fixture
def toy(monkeypatch, server):
    """A registry entry 'toy' served by the local server, with a checksum on record."""
    entry = Dataset(
        title="toy CSV",
        files=(RemoteFile("toy.csv", (server.url,), PAYLOAD_SHA, len(PAYLOAD)),),
        offline_alternative="mialab.data.load_digits()",
        checksum_source="computed in the test",
    )
    monkeypatch.setitem(download.REGISTRY, "toy", entry)
    return entry


# --- downloading and the cache --------------------------------------------------------------------------------

def test_fetch_downloads_verifies_and_second_call_is_a_cache_hit_without_request(tmp_path, server, toy):
    path = fetch("toy", cache_dir=tmp_path)
    assert path == tmp_path / "toy" / "toy.csv"
    assert path.read_bytes() == PAYLOAD
    assert server.requests == ["/data.csv"]
    assert fetch("toy", cache_dir=tmp_path) == path
    assert server.requests == ["/data.csv"]  # no second request
    assert sorted(p.name for p in path.parent.iterdir()) == ["toy.csv"]  # no temp file left behind


def test_fetch_uses_explicit_url_and_sha256_for_a_registry_entry(tmp_path, server):
    path = fetch("purchase100", cache_dir=tmp_path, url=server.url, sha256=PAYLOAD_SHA.upper())
    assert path == tmp_path / "purchase100" / "dataset_purchase.tgz"
    assert path.read_bytes() == PAYLOAD


def test_fetch_uses_the_default_cache_dir_from_env(tmp_path, server, toy):
    assert fetch("toy") == tmp_path / "default-cache" / "toy" / "toy.csv"


def test_cached_file_is_returned_offline_without_request(tmp_path, server, toy):
    path = fetch("toy", cache_dir=tmp_path)
    assert fetch("toy", cache_dir=tmp_path, offline=True) == path
    assert len(server.requests) == 1


def test_download_not_matching_checksum_raises_checksum_error_and_keeps_nothing(tmp_path, server):
    with pytest.raises(ChecksumError) as info:
        fetch("purchase100", cache_dir=tmp_path, url=server.url, sha256=OTHER_SHA)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert OTHER_SHA in message and PAYLOAD_SHA in message and "deleted" in message and "Try again" in message
    assert list((tmp_path / "purchase100").iterdir()) == []


def test_corrupt_cached_file_is_detected_and_downloaded_again(tmp_path, server, toy):
    path = fetch("toy", cache_dir=tmp_path)
    path.write_bytes(b"truncated")
    assert fetch("toy", cache_dir=tmp_path).read_bytes() == PAYLOAD
    assert len(server.requests) == 2


def test_corrupt_cached_file_offline_is_reported_without_request(tmp_path, server, toy):
    path = fetch("toy", cache_dir=tmp_path)
    path.write_bytes(b"truncated")
    with pytest.raises(DatasetUnavailable, match="corrupt"):
        fetch("toy", cache_dir=tmp_path, offline=True)
    assert len(server.requests) == 1


def test_second_mirror_is_tried_when_the_first_is_unreachable(tmp_path, server, closed_url):
    path = fetch("purchase100", cache_dir=tmp_path, url=[closed_url, server.url], sha256=PAYLOAD_SHA)
    assert path.read_bytes() == PAYLOAD


def test_multi_file_dataset_returns_its_folder(tmp_path, server, monkeypatch):
    server.routes["/b.csv"] = b"b\n"
    entry = Dataset(
        title="two files",
        files=(
            RemoteFile("a.csv", (server.url,), PAYLOAD_SHA),
            RemoteFile("b.csv", (server.base + "/b.csv",), hashlib.sha256(b"b\n").hexdigest()),
        ),
        offline_alternative="mialab.data.load_digits()",
        checksum_source="computed in the test",
    )
    monkeypatch.setitem(download.REGISTRY, "pair", entry)
    folder = fetch("pair", cache_dir=tmp_path)
    assert folder == tmp_path / "pair"
    assert (folder / "a.csv").read_bytes() == PAYLOAD and (folder / "b.csv").read_bytes() == b"b\n"
    with pytest.raises(ValueError, match="single-file"):
        fetch("pair", cache_dir=tmp_path, url=server.url)


def test_large_download_with_progress_bar_enabled(tmp_path, server, monkeypatch):
    monkeypatch.setenv("MIALAB_PROGRESS", "1")
    big = bytes(range(256)) * 6000  # 1.5 MB, above the progress-bar threshold
    server.routes["/big.bin"] = big
    path = fetch("cifar10", cache_dir=tmp_path, url=server.base + "/big.bin", sha256=hashlib.sha256(big).hexdigest())
    assert path.read_bytes() == big


# --- failing fast and helpfully -------------------------------------------------------------------------------

def test_offline_env_fails_at_once_naming_dataset_and_alternative(tmp_path, server, monkeypatch):
    monkeypatch.setenv("MIALAB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(DatasetUnavailable) as info:
        fetch("purchase100", cache_dir=tmp_path, url=server.url, sha256=PAYLOAD_SHA)
    assert time.perf_counter() - start < 1
    assert server.requests == []
    message = str(info.value)
    assert "purchase100" in message and "mialab.data.load_purchase(n_classes=100)" in message
    assert "MIALAB_OFFLINE" in message and "fetch('purchase100')" in message


def test_offline_false_overrides_the_env(tmp_path, server, toy, monkeypatch):
    monkeypatch.setenv("MIALAB_OFFLINE", "1")
    assert fetch("toy", cache_dir=tmp_path, offline=False).read_bytes() == PAYLOAD


@pytest.mark.parametrize("name", sorted(download.REGISTRY))
def test_every_registry_entry_offline_names_its_alternative_and_where_to_put_the_file(tmp_path, name):
    with pytest.raises(DatasetUnavailable) as info:
        fetch(name, cache_dir=tmp_path, offline=True)
    message = str(info.value)
    entry = download.REGISTRY[name]
    assert name in message and entry.offline_alternative in message and f"datasets/{name}.md" in message
    for file in entry.files:
        assert str(tmp_path / name / file.filename) in message and file.urls[0] in message


def test_unreachable_url_fails_fast_with_dataset_unavailable(tmp_path, closed_url):
    start = time.perf_counter()
    with pytest.raises(DatasetUnavailable) as info:
        fetch("mnist", cache_dir=tmp_path, url=closed_url, sha256=PAYLOAD_SHA, timeout=2)
    assert time.perf_counter() - start < 3
    message = str(info.value)
    assert closed_url in message and "mialab.data.load_digits()" in message
    assert list((tmp_path / "mnist").iterdir()) == []


def test_http_error_is_dataset_unavailable(tmp_path, server):
    with pytest.raises(DatasetUnavailable, match="404"):
        fetch("adult", cache_dir=tmp_path, url=server.base + "/missing.zip", sha256=PAYLOAD_SHA)


def test_entry_without_checksum_is_refused_before_any_request_unless_sha256_is_given(tmp_path, server):
    with pytest.raises(DatasetUnavailable, match="sha256="):
        fetch("purchase100", cache_dir=tmp_path, url=server.url)
    assert server.requests == []
    assert fetch("purchase100", cache_dir=tmp_path, url=server.url, sha256=PAYLOAD_SHA).read_bytes() == PAYLOAD


def test_unverified_cached_file_is_not_trusted(tmp_path, server):
    fetch("texas100", cache_dir=tmp_path, url=server.url, sha256=PAYLOAD_SHA)
    with pytest.raises(DatasetUnavailable, match="no SHA-256 is on record"):
        fetch("texas100", cache_dir=tmp_path)


# --- bad input -----------------------------------------------------------------------------------------------

def test_unknown_name_lists_the_known_names():
    with pytest.raises(ValueError) as info:
        fetch("imagenet")
    assert all(name in str(info.value) for name in download.REGISTRY)
    with pytest.raises(ValueError, match="known datasets"):
        fetch(None)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"sha256": "abc"}, ValueError, "64 hexadecimal"),
        ({"sha256": "g" * 64}, ValueError, "64 hexadecimal"),
        ({"sha256": 123}, ValueError, "64 hexadecimal"),
        ({"url": "ftp://example.org/x"}, ValueError, "http://"),
        ({"url": []}, TypeError, "mirror URLs"),
        ({"url": 5}, TypeError, "mirror URLs"),
        ({"timeout": 0}, ValueError, "positive"),
        ({"timeout": float("nan")}, ValueError, "positive"),
        ({"timeout": True}, ValueError, "positive"),
        ({"offline": "yes"}, TypeError, "offline"),
        ({"cache_dir": 3}, TypeError, "cache_dir"),
    ],
)
def test_bad_arguments_are_rejected_with_a_clear_message(kwargs, error, match):
    with pytest.raises(error, match=match):
        fetch("mnist", **kwargs)


def test_sha256_file_matches_hashlib_and_rejects_a_missing_file(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(PAYLOAD)
    assert sha256_file(path) == PAYLOAD_SHA
    with pytest.raises(FileNotFoundError, match="existing file"):
        sha256_file(tmp_path / "missing.bin")


def test_default_cache_dir_follows_mialab_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MIALAB_CACHE", str(tmp_path))
    assert download.default_cache_dir() == tmp_path
    monkeypatch.delenv("MIALAB_CACHE")
    assert download.default_cache_dir() == ROOT / "datasets" / "cache"


# --- the registry agrees with the datasheets -----------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(download.REGISTRY))
def test_registry_entry_has_a_datasheet_with_its_urls_and_checksums(name):
    sheet = (ROOT / "datasets" / f"{name}.md").read_text(encoding="utf-8")
    entry = download.REGISTRY[name]
    assert entry.offline_alternative.split(",")[0] in sheet
    for file in entry.files:
        assert all(url in sheet for url in file.urls)
        if file.sha256 is None:
            assert "not yet verified" in sheet
        else:
            assert re.fullmatch(r"[0-9a-f]{64}", file.sha256) and file.sha256 in sheet
