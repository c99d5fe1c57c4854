"""Optional real datasets: download once, verify by SHA-256, cache; fail fast and helpfully when offline.

Nothing in the course needs these files: every notebook runs on the synthetic or bundled data of
`mialab.data`. `fetch(name)` is for readers who want to repeat an experiment on the data the paper used.
The datasheets in `datasets/<name>.md` say where each file comes from, its licence and its checksum.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import os
import re
import ssl
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

from mialab import __version__
from mialab._validation import as_path
from mialab.data import cache_dir
from mialab.progress import NoBar, progress

__all__ = [
    "REGISTRY",
    "ChecksumError",
    "Dataset",
    "DatasetUnavailable",
    "RemoteFile",
    "default_cache_dir",
    "fetch",
    "sha256_file",
]

_CHUNK = 1 << 20  # bytes read per step, and the size above which a download shows a progress bar
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_SCHEMES = ("http", "https", "file")


class DatasetUnavailable(RuntimeError):
    """A dataset file could not be obtained (offline, network failure, or no checksum to trust it by)."""


class ChecksumError(ValueError):
    """A downloaded file's SHA-256 is not the one on record; the file was deleted."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name in the cache, mirrors tried in order, SHA-256 (None = unverified), bytes."""

    filename: str
    urls: tuple[str, ...]
    sha256: str | None
    size: int | None = None


@dataclass(frozen=True)
class Dataset:
    """A registry entry: the files to fetch and what to use instead when they cannot be fetched."""

    title: str
    files: tuple[RemoteFile, ...]
    offline_alternative: str
    checksum_source: str


_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_ZALANDO = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_SHOKRI = ("https://github.com/privacytrustlab/datasets/raw/master/", "https://www.comp.nus.edu.sg/~reza/files/")

REGISTRY: dict[str, Dataset] = {
    "purchase100": Dataset(
        title="Purchase-100 (Shokri et al. 2017 preprocessing of Kaggle's Acquire Valued Shoppers data)",
        files=(RemoteFile("dataset_purchase.tgz", tuple(m + "dataset_purchase.tgz" for m in _SHOKRI), None),),
        offline_alternative="mialab.data.load_purchase(n_classes=100), a synthetic Purchase-100-like set",
        checksum_source="none published; not yet verified",
    ),
    "texas100": Dataset(
        title="Texas-100 (Shokri et al. 2017 preprocessing of the Texas hospital discharge public use data)",
        files=(RemoteFile("dataset_texas.tgz", tuple(m + "dataset_texas.tgz" for m in _SHOKRI), None),),
        offline_alternative="mialab.data.load_purchase(n_classes=100), a synthetic 100-class tabular set",
        checksum_source="none published; not yet verified",
    ),
    "cifar10": Dataset(
        title="CIFAR-10, python version (Krizhevsky 2009)",
        files=(
            RemoteFile(
                "cifar-10-python.tar.gz",
                ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                170_498_071,
            ),
        ),
        offline_alternative="mialab.data.load_digits(), scikit-learn's bundled 8x8 digit images",
        checksum_source="published in Keras' cifar10 loader (file_hash); not re-computed by mialab",
    ),
    "mnist": Dataset(
        title="MNIST (LeCun, Cortes and Burges), the Keras mnist.npz packaging",
        files=(
            RemoteFile(
                "mnist.npz",
                (_KERAS + "mnist.npz",),
                "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
                11_490_434,
            ),
        ),
        offline_alternative="mialab.data.load_digits(), scikit-learn's bundled 8x8 digit images",
        checksum_source="published in Keras' mnist loader (file_hash); not re-computed by mialab",
    ),
    "fashion_mnist": Dataset(
        title="Fashion-MNIST (Xiao, Rasul and Vollgraf 2017), the four original IDX files",
        files=tuple(
            RemoteFile(filename, (_KERAS + filename, _ZALANDO + filename), sha256, size)
            for filename, sha256, size in (
                ("train-images-idx3-ubyte.gz",
                 "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc", 26_421_880),
                ("train-labels-idx1-ubyte.gz",
                 "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc", 29_515),
                ("t10k-images-idx3-ubyte.gz",
                 "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229", 4_422_102),
                ("t10k-labels-idx1-ubyte.gz",
                 "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf", 5_148),
            )
        ),
        offline_alternative="mialab.data.load_digits(), scikit-learn's bundled 8x8 digit images",
        checksum_source="published by two independent open-source loaders; not re-computed by mialab",
    ),
    "olivetti": Dataset(
        title="Olivetti / AT&T faces (AT&T Laboratories Cambridge), scikit-learn's 64x64 .mat copy",
        files=(
            RemoteFile(
                "olivettifaces.mat",
                ("https://ndownloader.figshare.com/files/5976027",),
                "b612fb967f2dc77c9c62d3e1266e0c73d5fca46a4b8906c18e454d41af987794",
            ),
        ),
        offline_alternative="mialab.data.load_digits(), scikit-learn's bundled 8x8 digit images (no faces)",
        checksum_source="published in scikit-learn's fetch_olivetti_faces (1.9.1); not re-computed by mialab",
    ),
    "adult": Dataset(
        title="Adult / Census Income (Becker and Kohavi 1996), UCI archive",
        files=(
            RemoteFile(
                "adult.zip",
                ("https://archive.ics.uci.edu/static/public/2/adult.zip",),
                "7537312dd56c2b98035880805ce99e68183a30ee468aa5329d6df0fbb3cc21bb",
            ),
        ),
        offline_alternative="mialab.data.load_breast_cancer(), scikit-learn's bundled tabular set",
        checksum_source="published by three independent projects using this URL; not re-computed by mialab",
    ),
}


def default_cache_dir() -> Path:
    """Where downloads are kept: the package's one cache folder, `mialab.data.cache_dir()`."""
    return cache_dir()


def sha256_file(path) -> str:
    """SHA-256 of a file's bytes as 64 lowercase hex digits, read in chunks."""
    path = as_path(path, "path")
    if not path.is_file():
        raise FileNotFoundError(f"`path` must be an existing file; {str(path)!r} is not one.")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _offline_from_env() -> bool:
    return os.environ.get("MIALAB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _check_name(name) -> Dataset:
    known = ", ".join(sorted(REGISTRY))
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"`name` must be one of the known datasets ({known}); got {name!r}.")
    return REGISTRY[name]


def _check_sha256(sha256) -> str:
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.strip()):
        raise ValueError(
            f"`sha256` must be 64 hexadecimal digits (the output of `sha256sum FILE`); got {sha256!r}."
        )
    return sha256.strip().lower()


def _check_urls(url) -> tuple[str, ...]:
    urls = (url,) if isinstance(url, str) else tuple(url) if isinstance(url, (list, tuple)) else None
    if not urls or not all(isinstance(u, str) for u in urls):
        raise TypeError(f"`url` must be a URL string or a list of mirror URLs; got {url!r}.")
    for u in urls:
        if urllib.parse.urlsplit(u).scheme not in _SCHEMES:
            raise ValueError(f"`url` must start with http://, https:// or file://; got {u!r}.")
    return urls


def _check_timeout(timeout) -> float:
    bad = isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not math.isfinite(timeout)
    if bad or not 0 < timeout <= 3600:
        raise ValueError(f"`timeout` must be a positive number of seconds, at most 3600 (an hour); got {timeout!r}.")
    return float(timeout)


def _resolve(name, dataset: Dataset, url, sha256) -> tuple[RemoteFile, ...]:
    """The dataset's files with the caller's url/sha256 overrides applied (single-file datasets only)."""
    if url is None and sha256 is None:
        return dataset.files
    if len(dataset.files) != 1:
        raise ValueError(
            f"`url` and `sha256` can only override a single-file dataset; {name!r} has {len(dataset.files)} files. "
            f"Patch mialab.download.REGISTRY[{name!r}] instead."
        )
    (file,) = dataset.files
    return (
        RemoteFile(
            file.filename,
            _check_urls(url) if url is not None else file.urls,
            _check_sha256(sha256) if sha256 is not None else file.sha256,
            file.size,
        ),
    )


def _help(name, dataset: Dataset, files, folder: Path) -> str:
    """The part of every failure message that says what to use now and how to get the data later."""
    manual = "; ".join(
        f"{f.urls[0]} -> {folder / f.filename}" + (f" (sha256 {f.sha256})" if f.sha256 else "") for f in files
    )
    call = f"fetch('{name}')" if all(f.sha256 for f in files) else f"fetch('{name}', sha256='<the sha256 you checked>')"
    return (
        f"Offline alternative: {dataset.offline_alternative}. "
        f"To fetch it later: with internet access and MIALAB_OFFLINE unset, run "
        f"`python -c \"from mialab.download import fetch; {call}\"`, "
        f"or download the file(s) yourself and put them here: {manual}. "
        f"See datasets/{name}.md for provenance and licence."
    )


def _download(url: str, target: Path, expected: str, timeout: float, desc: str) -> None:
    """Stream `url` into a temp file next to `target`, check its SHA-256, then rename it into place."""
    request = urllib.request.Request(url, headers={"User-Agent": f"mialab/{__version__}"})
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    temp = Path(temp)
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = progress(total=total, desc=desc, unit="B", unit_scale=True) if (total or 0) > _CHUNK else NoBar()
            try:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
            finally:
                bar.close()
        got = digest.hexdigest()
        if got != expected:
            raise ChecksumError(
                f"The file downloaded from {url} has sha256 {got}, but {expected} was expected; it was deleted. "
                "The download was corrupted, or the server now serves a different file. Try again; if it happens "
                "again, compare with the datasheet and pass `sha256=` only once you have checked the new file is "
                "the genuine dataset."
            )
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


_NETWORK_ERRORS = (urllib.error.URLError, HTTPException, ConnectionError, TimeoutError, ssl.SSLError)


def fetch(name, *, cache_dir=None, url=None, sha256=None, offline=None, timeout=10) -> Path:
    """Path of a verified copy of dataset `name` (the file; the folder for multi-file datasets), downloading once.

    A cached file whose SHA-256 matches is returned without touching the network. `offline` (default: env
    MIALAB_OFFLINE=1) forbids downloads. Raises DatasetUnavailable (offline, unreachable, or no checksum on record:
    pass `sha256=`), ChecksumError (download does not match), ValueError (unknown `name`).
    """
    dataset = _check_name(name)
    files = _resolve(name, dataset, url, sha256)
    timeout = _check_timeout(timeout)
    if offline is None:
        offline = _offline_from_env()
    elif not isinstance(offline, bool):
        raise TypeError(f"`offline` must be True, False or None (read MIALAB_OFFLINE); got {offline!r}.")
    if cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"`cache_dir` must be a folder path (str or pathlib.Path); got {type(cache_dir).__name__}.")
    folder = (Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()) / name
    result = folder / files[0].filename if len(files) == 1 else folder

    missing, corrupt, unverified = [], [], []
    for file in files:
        path = folder / file.filename
        if file.sha256 is None:
            unverified.append(file)
        elif not (path.is_file() and sha256_file(path) == file.sha256):
            (corrupt if path.is_file() else missing).append(file)
    if not (missing or corrupt or unverified):
        return result

    what = f"dataset {name!r} ({dataset.title})"
    notes = "".join(
        f" The cached file {folder / f.filename} is corrupt (its sha256 is not {f.sha256})." for f in corrupt
    )
    if offline:
        raise DatasetUnavailable(
            f"Cannot fetch {what}: offline mode is on (offline=True or MIALAB_OFFLINE=1), so mialab makes no "
            f"network requests.{notes} {_help(name, dataset, files, folder)}"
        )
    if unverified:
        names = ", ".join(f.filename for f in unverified)
        raise DatasetUnavailable(
            f"Cannot trust {what}: no SHA-256 is on record for {names}, so mialab will not download or use it "
            "unverified. Download it yourself from the source in the datasheet, check it, and pass "
            f"`sha256=` (the output of `sha256sum FILE`). {_help(name, dataset, files, folder)}"
        )

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatasetUnavailable(f"Cannot create the cache folder {folder} ({error}); pass `cache_dir=`.") from None
    for file in missing + corrupt:
        failures, mismatch = [], None
        for mirror in file.urls:
            try:
                _download(mirror, folder / file.filename, file.sha256, timeout, f"{name}: {file.filename}")
                break
            except ChecksumError as error:
                mismatch = mismatch or error
                failures.append(f"{mirror}: checksum mismatch")
            except _NETWORK_ERRORS as error:
                reason = error.reason if type(error) is urllib.error.URLError else error
                failures.append(f"{mirror}: {reason}")
        else:
            if mismatch is not None:
                raise mismatch
            raise DatasetUnavailable(
                f"Cannot download {what}: {'; '.join(failures)} (timeout {timeout:g} s).{notes} "
                f"{_help(name, dataset, files, folder)}"
            )
    return result
