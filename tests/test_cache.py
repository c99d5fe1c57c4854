"""mialab.cache: trained models cached on disk by their full configuration; corrupt files are retrained."""

import functools
import warnings

import numpy as np
import pytest
import torch

from mialab import cache, many_models
from mialab.cache import CorruptCacheWarning, cache_key, train_in_out_models, train_many_cached

SMALL = dict(hidden=(8,), epochs=2, batch_size=16)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = (rng.random((60, 12)) < 0.3).astype(np.float32)
    y = rng.integers(0, 3, 60)
    masks = rng.random((60, 2)) < 0.5
    return X, y, masks


@pytest.fixture
def counted(monkeypatch):
    """Count the calls to many_models.train_many (the real one still trains)."""
    calls = []
    real = cache.train_many

    @functools.wraps(real)
    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(cache, "train_many", spy)
    return calls


@pytest.fixture
def trained(monkeypatch):
    """The number of models each training run trains (train_many and train_many_chunks both end in _train_stack)."""
    sizes = []
    real = many_models._train_stack

    def spy(X, y, masks, *args, **kwargs):
        sizes.append(masks.shape[1])
        return real(X, y, masks, *args, **kwargs)

    monkeypatch.setattr(many_models, "_train_stack", spy)
    return sizes


def _same(a, b):
    return all(torch.equal(u, v) for u, v in zip(a.weights + a.biases, b.weights + b.biases))


def test_second_call_loads_the_cached_models_without_training(data, tmp_path, counted):
    X, y, masks = data
    first = train_many_cached(X, y, masks, cache_dir=tmp_path, **SMALL)
    second = train_many_cached(X, y, masks, cache_dir=tmp_path, **SMALL)
    assert len(counted) == 1
    assert _same(first, second) and first.seeds == second.seeds
    assert np.allclose(first.predict_proba(X), second.predict_proba(X))
    assert [p.suffix for p in tmp_path.iterdir()] == [".pt"]          # one file: the weights and their checksum


def test_cached_models_equal_train_many(data, tmp_path):
    from mialab.many_models import train_many
    X, y, masks = data
    assert _same(train_many_cached(X, y, masks, cache_dir=tmp_path, **SMALL), train_many(X, y, masks, **SMALL))


@pytest.mark.parametrize("change", [
    "X", "y", "masks", "hidden", "activation", "dropout", "epochs", "batch_size", "lr", "weight_decay", "n_classes",
    "random_state"])
def test_the_key_changes_with_every_configuration_field(data, change):
    X, y, masks = data
    base = dict(SMALL, activation="tanh", dropout=0.0, lr=1e-3, weight_decay=0.0, n_classes=3, random_state=0)
    args = [X, y, masks]
    changed = dict(base)
    if change == "X":
        args[0] = X.copy()
        args[0][0, 0] = 1 - args[0][0, 0]
    elif change == "y":
        args[1] = y.copy()
        args[1][0] = (y[0] + 1) % 3
    elif change == "masks":
        args[2] = masks.copy()
        args[2][0, 0] = not masks[0, 0]
    else:
        changed[change] = {"hidden": (9,), "activation": "relu", "dropout": 0.1, "epochs": 3, "batch_size": 17,
                           "lr": 2e-3, "weight_decay": 1e-4, "n_classes": 4, "random_state": 1}[change]
    assert cache_key(*args, **changed) != cache_key(X, y, masks, **base)


def test_the_key_changes_with_the_training_code_version(data, monkeypatch):
    X, y, masks = data
    before = cache_key(X, y, masks, **SMALL)
    monkeypatch.setattr(cache, "__version__", "999.0")
    assert cache_key(X, y, masks, **SMALL) != before
    monkeypatch.undo()
    monkeypatch.setattr(cache, "_code_fingerprint", lambda: "models.py edited")
    assert cache_key(X, y, masks, **SMALL) != before


def test_defaults_spelled_out_give_the_same_key(data):
    X, y, masks = data
    assert cache_key(X, y, masks) == cache_key(X, y, masks, epochs=30, hidden=[256], lr=0.001, progress_desc="x")


def test_options_that_change_only_the_speed_are_not_in_the_key(data):
    X, y, masks = data
    assert cache_key(X, y, masks, group_size=1) == cache_key(X, y, masks, group_size=8) == cache_key(X, y, masks)
    assert cache_key(X, y, masks, device="cpu") == cache_key(X, y, masks)


def test_numpy_integers_in_the_configuration_give_the_same_key(data):
    X, y, masks = data
    assert cache_key(X, y, masks, epochs=np.int64(3), n_classes=np.int64(3), random_state=np.int32(1)) == \
        cache_key(X, y, masks, epochs=3, n_classes=3, random_state=1)


def test_editing_a_docstring_or_a_comment_keeps_the_key_and_editing_code_changes_it(tmp_path, monkeypatch):
    import types
    source = 'def f(x):\n    """Add one."""\n    return x + 1  # one\n'
    module = types.SimpleNamespace(__file__=str(tmp_path / "training.py"))
    monkeypatch.setattr(cache, "_TRAINING_MODULES", (module,))
    (tmp_path / "training.py").write_text(source)
    before = cache.training_code_hash()
    (tmp_path / "training.py").write_text(source.replace("Add one.", "Add one to x.").replace("# one", "# plus 1"))
    assert cache.training_code_hash() == before
    (tmp_path / "training.py").write_text(source.replace("x + 1", "x + 2"))
    assert cache.training_code_hash() != before


def test_cache_files_are_readable_by_the_class_on_a_shared_cache(data, tmp_path):
    import os
    import stat
    X, y, masks = data
    old = os.umask(0o022)
    try:
        train_many_cached(X, y, masks, cache_dir=tmp_path, **SMALL)
    finally:
        os.umask(old)
    mode = stat.S_IMODE(next(tmp_path.glob("*.pt")).stat().st_mode)
    assert mode == 0o644                                    # what the data cache's files get under the same umask


@pytest.mark.parametrize("how", ["folder mode", "write fails"])
def test_a_read_only_cache_trains_without_caching_and_warns_once(data, tmp_path, counted, monkeypatch, how):
    import os
    X, y, masks = data
    train_many_cached(X, y, masks, cache_dir=tmp_path, **SMALL)              # one cached entry to read
    monkeypatch.setattr(cache, "_warned_read_only", set())
    if how == "folder mode":
        tmp_path.chmod(0o555)
        if os.access(tmp_path, os.W_OK):                                      # root writes anyway: as a student
            real_access = os.access
            monkeypatch.setattr(cache.os, "access", lambda p, mode: False if str(p) == str(tmp_path)
                                else real_access(p, mode))
    else:
        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(cache, "_save", refuse)
    try:
        again = train_many_cached(X, y, masks, cache_dir=tmp_path, **SMALL)  # read: no training, no warning
        assert len(counted) == 1
        with pytest.warns(cache.ReadOnlyCacheWarning, match="cannot be written"):
            train_many_cached(X, y, masks, cache_dir=tmp_path, **dict(SMALL, epochs=3))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            train_many_cached(X, y, masks, cache_dir=tmp_path, **dict(SMALL, epochs=4))   # warned once only
        assert len(counted) == 3 and _same(again, train_many_cached(X, y, masks, cache_dir=tmp_path, **SMALL))
        assert len(list(tmp_path.glob("*.pt"))) == 1                         # nothing new was written
    finally:
        tmp_path.chmod(0o755)


def _train_into(args):
    X, y, masks, folder = args
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                     # a half-written file would warn
        stack = train_many_cached(X, y, masks, cache_dir=folder, **SMALL)
    return [w.numpy() for w in stack.weights]


def test_two_processes_writing_one_entry_leave_one_whole_file(data, tmp_path):
    import multiprocessing
    X, y, masks = data
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_train_into, [(X, y, masks, str(tmp_path))] * 4)
    assert all(np.array_equal(a, b) for r in results[1:] for a, b in zip(results[0], r))
    assert [p.suffix for p in tmp_path.iterdir()] == [".pt"]             # no temporary file left behind
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_many_cached(X, y, masks, cache_dir=tmp_path, **SMALL)


def test_a_changed_configuration_trains_afresh(data, tmp_path, counted):
    X, y, masks = data
    a = train_many_cached(X, y, masks, cache_dir=tmp_path, **SMALL)
    b = train_many_cached(X, y, masks, cache_dir=tmp_path, **dict(SMALL, epochs=3))
    assert len(counted) == 2 and not _same(a, b)


@pytest.mark.parametrize("damage", ["truncate", "garble", "drop_checksum", "wrong_checksum"])
def test_a_corrupt_cache_file_is_detected_and_retrained(data, tmp_path, counted, damage):
    X, y, masks = data
    good = train_many_cached(X, y, masks, cache_dir=tmp_path, **SMALL)
    path = next(tmp_path.glob("*.pt"))
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[:len(raw) // 2])
    elif damage == "garble":
        path.write_bytes(raw[:100] + bytes(b ^ 0xFF for b in raw[100:200]) + raw[200:])
    elif damage == "drop_checksum":
        path.write_bytes(raw.partition(b"\n")[2])
    else:
        head, _, payload = raw.partition(b"\n")
        path.write_bytes(head[:-64] + b"0" * 64 + b"\n" + payload)
    with pytest.warns(CorruptCacheWarning):
        again = train_many_cached(X, y, masks, cache_dir=tmp_path, **SMALL)
    assert len(counted) == 2 and _same(good, again)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_many_cached(X, y, masks, cache_dir=tmp_path, **SMALL)       # repaired: loads quietly
    assert len(counted) == 2


def test_the_cache_follows_mialab_cache(data, tmp_path, monkeypatch):
    X, y, masks = data
    monkeypatch.setenv("MIALAB_CACHE", str(tmp_path))
    train_many_cached(X, y, masks, **SMALL)
    assert len(list((tmp_path / "models").glob("*.pt"))) == 1


def test_in_out_models_grow_by_reusing_chunks(data, tmp_path, trained):
    X, y, _ = data
    four, masks4 = train_in_out_models(X, y, 4, chunk_size=2, cache_dir=tmp_path, **SMALL)
    eight, masks8 = train_in_out_models(X, y, 8, chunk_size=2, cache_dir=tmp_path, **SMALL)
    assert trained == [4, 4]                 # 2 chunks in one run, then only the 2 new chunks, again in one run
    assert len(list(tmp_path.glob("*.pt"))) == 4                # cached chunk by chunk
    assert len(four) == 4 and len(eight) == 8 and masks8.shape == (60, 8)
    assert np.array_equal(masks8[:, :4], masks4)
    assert all(torch.equal(a, b[:4]) for a, b in zip(four.weights, eight.weights))
    assert (masks8.sum(axis=1) == 4).all()                     # each record IN for exactly half


def test_in_out_chunks_trained_together_equal_each_chunk_trained_alone(data, tmp_path):
    from mialab.data import in_out_mask
    X, y, _ = data
    stack, masks = train_in_out_models(X, y, 6, chunk_size=2, random_state=4, cache_dir=tmp_path / "a", **SMALL)
    seeds = np.random.SeedSequence(4).generate_state(3)
    alone = [train_many_cached(X, y, in_out_mask(len(X), 2, random_state=int(s)), random_state=int(s), n_classes=3,
                               cache_dir=tmp_path / "b", **SMALL) for s in seeds]
    assert np.array_equal(masks, np.concatenate([in_out_mask(len(X), 2, random_state=int(s)) for s in seeds], 1))
    for c, one in enumerate(alone):
        assert one.seeds == stack.seeds[2 * c:2 * c + 2]
        for u, v in zip(one.weights + one.biases, stack.weights + stack.biases):
            assert torch.allclose(u, v[2 * c:2 * c + 2], atol=1e-6)
    # and the chunks it stored are the ones train_many_cached finds under the same keys
    names = [sorted(p.name for p in (tmp_path / folder).glob("*.pt")) for folder in ("a", "b")]
    assert names[0] == names[1] and len(names[0]) == 3


def test_in_out_mask_keeps_each_record_in_for_half_the_models():
    from mialab.data import in_out_mask
    masks = in_out_mask(1000, 16, random_state=3)
    assert (masks.sum(axis=1) == 8).all()
    assert np.allclose(masks.mean(axis=0), 0.5, atol=0.06)     # each model trains on about half the records


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_models=6, chunk_size=4), "multiple"),
    (dict(n_models=4, chunk_size=3), "multiple"),
    (dict(n_models=1), "n_models"),
])
def test_in_out_models_reject_bad_counts(data, tmp_path, kwargs, match):
    X, y, _ = data
    with pytest.raises(ValueError, match=match):
        train_in_out_models(X, y, cache_dir=tmp_path, **kwargs)


def test_bad_input_raises_clear_errors(data, tmp_path):
    X, y, masks = data
    with pytest.raises(ValueError, match="masks"):
        train_many_cached(X, y, masks[:10], cache_dir=tmp_path)
    with pytest.raises(TypeError, match="unknown training option"):
        cache_key(X, y, masks, epoch=3)
    with pytest.raises(ValueError, match="y"):
        cache_key(X, y[:5], masks)
    with pytest.raises(ValueError, match="NaN"):
        cache_key(np.full_like(X, np.nan), y, masks)
    with pytest.raises(ValueError, match="n_classes"):
        train_in_out_models(X, y, 2, chunk_size=2, n_classes=0, cache_dir=tmp_path)
    with pytest.raises((TypeError, ValueError), match="hidden"):
        cache_key(X, y, masks, hidden="abc")
    with pytest.raises((TypeError, ValueError), match="lr"):
        cache_key(X, y, masks, lr=None)


def test_chunks_trained_on_a_dask_cluster_equal_one_process_bit_for_bit(data, tmp_path):
    distributed = pytest.importorskip("dask.distributed", reason="the optional extra mialab[distributed]")
    from mialab.data import in_out_mask
    X, y, _ = data
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        stack, masks = train_in_out_models(X, y, 4, chunk_size=2, random_state=7, cache_dir=tmp_path / "cluster",
                                           executor=client, **SMALL)
    assert len(list((tmp_path / "cluster").glob("*.pt"))) == 2            # the workers wrote the shared cache
    seeds = np.random.SeedSequence(7).generate_state(2)
    alone = [train_many_cached(X, y, in_out_mask(len(X), 2, random_state=int(s)), random_state=int(s),
                               n_classes=3, cache_dir=tmp_path / "local", **SMALL) for s in seeds]
    assert np.array_equal(masks, np.concatenate([in_out_mask(len(X), 2, random_state=int(s)) for s in seeds], 1))
    assert _same(stack, cache.concat_stacks(alone))
    names = [sorted(p.name for p in (tmp_path / folder).glob("*.pt")) for folder in ("cluster", "local")]
    assert names[0] == names[1]                                           # the same cache entries


def test_an_executor_must_have_submit(data, tmp_path):
    X, y, _ = data
    with pytest.raises(TypeError, match="submit"):
        train_in_out_models(X, y, 2, chunk_size=2, cache_dir=tmp_path, executor="cluster", **SMALL)
