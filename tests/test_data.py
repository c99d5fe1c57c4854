import re
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from mialab import data

DATASHEETS = Path(__file__).resolve().parent.parent / "datasets"


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory):
    """Every test here generates into a fresh cache folder, so the generator itself is what is tested."""
    folder = tmp_path_factory.mktemp("mialab_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MIALAB_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def purchase(cache):
    """The default purchase data (k = 100, 20,000 records, seed 0), generated once per test session."""
    start = time.perf_counter()
    X, y = data.load_purchase()
    return X, y, time.perf_counter() - start


def datasheet_checksum(name):
    text = (DATASHEETS / f"{name}.md").read_text()
    found = re.findall(r"sha256:([0-9a-f]{64})", text)
    assert len(set(found)) == 1, f"datasets/{name}.md should state one `sha256:<64 hex>` checksum"
    return found[0]


# --- purchase ---------------------------------------------------------------------------------------------------

def test_purchase_default_is_binary_600_features_with_all_100_classes(purchase):
    X, y, seconds = purchase
    assert X.shape == (20_000, 600) and X.dtype == np.float32
    assert y.shape == (20_000,) and y.dtype == np.int64
    assert np.all((X == 0) | (X == 1)) and X.any()
    assert np.array_equal(np.unique(y), np.arange(100))
    assert seconds < 30  # about 3-5 s on a 2-core laptop; generous for a loaded test machine


def test_purchase_statistics_match_the_datasheet(purchase):
    X, y, _ = purchase
    ones = X.sum(axis=1)
    assert 25 < ones.mean() < 35 and ones.min() >= 1  # datasheet: 29.9 ones per row (5.0 %)
    share = np.bincount(y, minlength=100) / len(y)
    assert 0.0005 < share.min() < share.max() < 0.1  # datasheet: 0.14 % to 4.1 %
    assert np.all(np.diff(np.bincount(y)) <= 0)  # class 0 is the largest


def test_purchase_matches_datasheet_checksum(purchase):
    X, y, _ = purchase
    assert data.array_checksum(X, y) == datasheet_checksum("purchase")


@pytest.mark.parametrize("name", ["digits", "breast_cancer"])
def test_bundled_datasets_match_datasheet_checksums(name):
    assert data.array_checksum(*data.load_dataset(name)) == datasheet_checksum(name)


def test_purchase_is_deterministic_and_read_back_from_the_cache(cache, monkeypatch):
    X, y = data.load_purchase(n_classes=10, n_records=2000, random_state=3)
    assert (cache / f"{data.PURCHASE_VERSION}_k10_n2000_seed3.npz").is_file()

    def no_generation(*args, **kwargs):
        raise AssertionError("should have been read from the cache")

    monkeypatch.setattr(data, "_purchase_features", no_generation)
    X2, y2 = data.load_purchase(n_classes=10, n_records=2000, random_state=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2) and X2.dtype == np.float32 and y2.dtype == np.int64


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong_shape", "old_version"])
def test_a_damaged_or_stale_cache_file_is_regenerated(cache, damage):
    X, y = data.load_purchase(n_classes=2, n_records=1000, random_state=4)
    path = cache / f"{data.PURCHASE_VERSION}_k2_n1000_seed4.npz"
    if damage == "garbage":
        path.write_bytes(b"not an npz file")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    else:
        bits = np.packbits(X[:999].astype(np.uint8), axis=1) if damage == "wrong_shape" else np.packbits(
            X.astype(np.uint8), axis=1)
        version = "purchase-synth-0" if damage == "old_version" else data.PURCHASE_VERSION
        with open(path, "wb") as handle:
            np.savez(handle, X_bits=bits, y=y[:len(bits)], version=np.array(version))
    X2, y2 = data.load_purchase(n_classes=2, n_records=1000, random_state=4)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, y3 = data.load_purchase(n_classes=2, n_records=1000, random_state=4)  # and the file was rewritten
    assert np.array_equal(X, X3) and np.array_equal(y, y3)


def test_an_unwritable_cache_warns_and_still_returns_the_data(monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(data.tempfile, "mkstemp", refuse)
    with pytest.warns(UserWarning, match="could not cache"):
        X, y = data.load_purchase(n_classes=2, n_records=500, random_state=5)
    assert X.shape == (500, 600) and set(np.unique(y)) == {0, 1}


@pytest.fixture(scope="module")
def small_purchase(cache):
    return {k: data.load_purchase(n_classes=k, n_records=2000) for k in data.PURCHASE_CLASS_COUNTS}


def test_every_class_count_relabels_the_same_records(small_purchase):
    X2, _ = small_purchase[2]
    for k, (X, y) in small_purchase.items():
        assert np.array_equal(X, X2)
        assert np.array_equal(np.unique(y), np.arange(k)), f"k={k}: every class present, labels 0..k-1"


def test_labels_are_a_k_means_fixed_point(small_purchase):
    X, y = small_purchase[20]
    centres = np.stack([X[y == c].mean(axis=0) for c in range(20)])
    nearest = ((X[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert (nearest == y).mean() == 1.0


def test_smaller_sets_are_the_first_records_of_larger_ones(small_purchase):
    X_small, _ = data.load_purchase(n_classes=10, n_records=1000)
    assert np.array_equal(X_small, small_purchase[10][0][:1000])


def test_another_seed_gives_other_shoppers(small_purchase):
    X_other, _ = data.load_purchase(n_classes=10, n_records=2000, random_state=1)
    assert not np.array_equal(X_other, small_purchase[10][0])


def test_mlp_on_purchase_fits_its_training_set_and_generalizes_partly(purchase):
    """The property the attacks rest on (Shokri et al.: test accuracy about 0.66 at 100 classes)."""
    X, y, _ = purchase
    train, test = slice(0, 1000), slice(1000, 4000)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads on a busy 2-core machine are many times slower than one
    try:
        train_acc, test_acc = _train_small_mlp(X, y, train, test)
    finally:
        torch.set_num_threads(threads)
    assert train_acc > 0.95
    assert 0.4 < test_acc < 0.75, f"test accuracy {test_acc:.3f} (0.56 when the datasheet was written)"


def _train_small_mlp(X, y, train, test):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(600, 256), torch.nn.Tanh(), torch.nn.Linear(256, 100))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    X_train, y_train = torch.from_numpy(X[train]), torch.from_numpy(y[train])
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        for batch in torch.randperm(1000, generator=generator).split(64):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(X_train[batch]), y_train[batch]).backward()
            optimizer.step()
    with torch.no_grad():
        train_acc = (model(X_train).argmax(1) == y_train).float().mean().item()
        test_acc = (model(torch.from_numpy(X[test])).argmax(1).numpy() == y[test]).mean()
    return train_acc, test_acc


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_classes=1), "n_classes"),
    (dict(n_classes=0), "n_classes"),
    (dict(n_classes=2.5), "n_classes"),
    (dict(n_classes=True), "n_classes"),
    (dict(n_classes="10"), "n_classes"),
    (dict(n_records=0), "n_records"),
    (dict(n_records=-5), "n_records"),
    (dict(n_records=1000.0), "n_records"),
    (dict(n_classes=100, n_records=999), "at least 10 records per class"),
    (dict(n_records=200_001), "at most 200,000"),
    (dict(random_state=None), "random_state"),
    (dict(random_state=-1), "random_state"),
    (dict(random_state=1.5), "random_state"),
    (dict(random_state=np.random.default_rng(0)), "Generator cannot be used"),
])
def test_load_purchase_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.load_purchase(**kwargs)


# --- cache_dir, array_checksum ----------------------------------------------------------------------------------

def test_cache_dir_follows_mialab_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MIALAB_CACHE", str(tmp_path / "a" / "b"))
    assert data.cache_dir() == tmp_path / "a" / "b" and (tmp_path / "a" / "b").is_dir()


def test_cache_dir_defaults_to_the_repository_or_home(monkeypatch):
    monkeypatch.delenv("MIALAB_CACHE")
    folder = data.cache_dir()
    assert folder in (DATASHEETS / "cache", Path.home() / ".cache" / "mialab") and folder.is_dir()


def test_cache_dir_rejects_a_file_as_mialab_cache(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("MIALAB_CACHE", str(tmp_path / "file"))
    with pytest.raises(RuntimeError, match="MIALAB_CACHE"):
        data.cache_dir()


def test_array_checksum_sees_every_bit_and_the_shape():
    X, y = data.load_digits()
    reference = data.array_checksum(X, y)
    assert data.array_checksum(X.astype(np.float64), list(y)) == reference  # the values, not the container
    flipped = X.copy()
    flipped[100, 7] = np.nextafter(flipped[100, 7], np.float32(2))
    assert data.array_checksum(flipped, y) != reference
    assert data.array_checksum(X, np.roll(y, 1)) != reference
    assert data.array_checksum(X.reshape(-1, 1, 8, 8), y) != reference


@pytest.mark.parametrize("X, y, match", [
    (np.full((3, 2), np.nan), [0, 1, 0], "NaN"),
    (np.zeros((3, 2)), [0, 1], "3 records"),
    (np.zeros(3), [0, 1, 0], "one row per record"),
    (np.zeros((3, 2)), [0, -1, 0], "out of range"),
])
def test_array_checksum_rejects_bad_arrays(X, y, match):
    with pytest.raises(ValueError, match=match):
        data.array_checksum(X, y)


# --- digits, breast cancer, load_dataset ------------------------------------------------------------------------

def test_digits_are_8x8_images_scaled_to_unit_range():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(np.unique(y), np.arange(10))
    assert X.reshape(-1, 1, 8, 8).shape == (1797, 1, 8, 8)


def test_breast_cancer_is_standardized_over_the_whole_set():
    X, y = data.load_breast_cancer()
    assert X.shape == (569, 30) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.allclose(X.mean(axis=0), 0, atol=1e-5) and np.allclose(X.std(axis=0), 1, atol=1e-4)
    assert np.bincount(y).tolist() == [212, 357]  # 0 = malignant, 1 = benign


def test_load_dataset_dispatches_by_name():
    for name, loader in [("digits", data.load_digits), ("breast_cancer", data.load_breast_cancer)]:
        for a, b in zip(data.load_dataset(name), loader()):
            assert np.array_equal(a, b)
    X, y = data.load_dataset("purchase", n_classes=2, n_records=500, random_state=5)
    X2, y2 = data.load_purchase(n_classes=2, n_records=500, random_state=5)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_load_dataset_rejects_unknown_names_and_options():
    with pytest.raises(ValueError, match="`name` must be one of"):
        data.load_dataset("mnist")
    with pytest.raises(TypeError, match="takes no options"):
        data.load_dataset("digits", n_records=10)
    with pytest.raises(TypeError, match="unknown option"):
        data.load_dataset("purchase", classes=10)


# --- target_shadow_split ----------------------------------------------------------------------------------------

def test_target_shadow_split_is_disjoint_and_covers_every_record():
    split = data.target_shadow_split(1000, 200, random_state=0)
    assert isinstance(split, data.Split)
    assert [len(part) for part in split] == [200, 200, 600]
    everything = np.concatenate(split)
    assert everything.dtype == np.int64 and np.array_equal(np.sort(everything), np.arange(1000))
    assert all(np.all(np.diff(part) > 0) for part in split)


def test_target_shadow_split_is_seeded():
    a, b = data.target_shadow_split(1000, 200, random_state=0), data.target_shadow_split(1000, 200, random_state=0)
    c = data.target_shadow_split(1000, 200, random_state=1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a.target_in, c.target_in)


def test_target_shadow_split_takes_n_out_and_may_leave_no_shadow_pool():
    split = data.target_shadow_split(10, 3, n_out=7)
    assert (len(split.target_in), len(split.target_out), len(split.shadow)) == (3, 7, 0)


@pytest.mark.parametrize("args, kwargs, match", [
    ((100, 60), {}, "more than the 100 records"),
    ((100, 50), dict(n_out=51), "more than the 100 records"),
    ((100, 0), {}, "n_target"),
    ((100, 10), dict(n_out=0), "n_out"),
    ((100, 10.0), {}, "n_target"),
    ((1, 1), {}, "n_records"),
    ((100.5, 10), {}, "n_records"),
    ((100, 10), dict(random_state=None), "random_state"),
])
def test_target_shadow_split_rejects_sizes_that_do_not_fit(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.target_shadow_split(*args, **kwargs)


# --- in_out_mask ------------------------------------------------------------------------------------------------

def test_in_out_mask_puts_each_record_in_exactly_half_the_models():
    mask = data.in_out_mask(2000, 16, random_state=0)
    assert mask.shape == (2000, 16) and mask.dtype == bool
    assert np.all(mask.sum(axis=1) == 8)
    # each model trains on about half the records: Binomial-like, sd = sqrt(2000 / 4) ~ 22
    assert np.all(np.abs(mask.sum(axis=0) - 1000) < 5 * np.sqrt(2000 / 4))


def test_in_out_mask_is_seeded_and_writable():
    a, b = data.in_out_mask(100, 4, random_state=0), data.in_out_mask(100, 4, random_state=0)
    assert np.array_equal(a, b) and not np.array_equal(a, data.in_out_mask(100, 4, random_state=1))
    a[0, 0] = not a[0, 0]  # a plain, owned array


def test_in_out_mask_with_two_models_is_a_complementary_pair():
    mask = data.in_out_mask(500, 2)
    assert np.array_equal(mask[:, 0], ~mask[:, 1])


@pytest.mark.parametrize("args, match", [
    ((100, 3), "must be even"),
    ((100, 1), "n_models"),
    ((100, 0), "n_models"),
    ((100, 4.0), "n_models"),
    ((1, 4), "n_records"),
    ((0, 4), "n_records"),
])
def test_in_out_mask_rejects_bad_sizes(args, match):
    with pytest.raises(ValueError, match=match):
        data.in_out_mask(*args)
