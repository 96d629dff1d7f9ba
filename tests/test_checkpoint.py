"""Pytree <-> .npz checkpoints: leaves named by tree path, a format version, strict loading.

A real search's checkpoint (and a run saved in the format before versions) is in test_search.py.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from crlqas_kit.checkpoint import (
    FORMAT_VERSION,
    META_KEY,
    VERSION_KEY,
    format_version,
    load_meta,
    load_pytree,
    save_pytree,
)


class Pair(NamedTuple):
    w: jax.Array
    n: jax.Array


def make_state():
    return {
        "key": jax.random.key(42),
        "pair": Pair(w=jnp.arange(6.0, dtype=jnp.float32).reshape(2, 3), n=jnp.asarray(7, jnp.int64)),
        "layers": [jnp.array([True, False]), np.array([1.0 / 3.0, 2.0])],
        "skip": None,  # an empty subtree: no leaf
    }


def zeros_like(state):
    """A template: zeros of the same types (NumPy leaves stay NumPy), another key."""
    zero = lambda x: np.zeros_like(x) if isinstance(x, np.ndarray) else jnp.zeros_like(x)  # noqa: E731
    return jax.tree.map(zero, {**state, "key": jax.random.key(0)})


def test_round_trip_names_leaves_by_path(tmp_path):
    with jax.enable_x64(True):
        state = make_state()
        out = save_pytree(tmp_path / "s.npz", state)
        assert out == tmp_path / "s.npz" and not list(tmp_path.glob("*.tmp"))
        with np.load(out) as data:  # the names a reader of the file sees (written out by hand)
            assert sorted(data.files) == sorted(
                [VERSION_KEY, "['key']", "['layers'][0]", "['layers'][1]", "['pair'].n", "['pair'].w"]
            )
            assert int(data[VERSION_KEY]) == FORMAT_VERSION == 2
            np.testing.assert_array_equal(data["['key']"], jax.random.key_data(state["key"]))
        assert format_version(out) == 2
        template = zeros_like(state)
        back = load_pytree(out, template)
        assert jax.tree.structure(back) == jax.tree.structure(template)
        np.testing.assert_array_equal(jax.random.key_data(back["key"]), jax.random.key_data(state["key"]))
        for got, want in zip(jax.tree.leaves(back)[1:], jax.tree.leaves(state)[1:], strict=True):
            assert got.dtype == want.dtype and not getattr(got, "weak_type", False)
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
        assert isinstance(back["pair"].w, jax.Array) and type(back["layers"][1]) is np.ndarray


def test_single_leaf_and_a_name_without_npz_suffix(tmp_path):
    path = save_pytree(tmp_path / "state.ckpt", np.arange(3))
    assert path.name == "state.ckpt" and path.is_file()  # np.savez would have appended .npz
    np.testing.assert_array_equal(load_pytree(path, np.zeros(3, dtype=np.arange(3).dtype)), [0, 1, 2])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t: {**t, "extra": jnp.zeros(1)}, r"missing leaves \[\"\['extra'\]\"\]"),
        (lambda t: {k: v for k, v in t.items() if k != "layers"}, r"not in the template \[\"\['layers'\]\[0\]\""),
        (
            lambda t: {**t, "pair": t["pair"]._replace(w=jnp.zeros((3, 2), jnp.float32))},
            r"leaf \['pair'\]\.w has shape",
        ),
        (lambda t: {**t, "pair": t["pair"]._replace(w=jnp.zeros((2, 3)))}, r"\['pair'\]\.w has dtype float32.*float64"),
        (lambda t: {**t, "layers": [t["layers"][0], jnp.zeros(2, jnp.int32)]}, r"\['layers'\]\[1\] has dtype"),
    ],
)
def test_mismatch_names_the_leaf_and_the_format_version(tmp_path, change, match):
    with jax.enable_x64(True):
        state = make_state()
        save_pytree(tmp_path / "s.npz", state)
        with pytest.raises(ValueError, match=match) as err:
            load_pytree(tmp_path / "s.npz", change(zeros_like(state)))
        assert "checkpoint format version 2; this crlqas_kit writes 2" in str(err.value)


def test_key_mismatch_is_named(tmp_path):
    save_pytree(tmp_path / "s.npz", {"key": jax.random.key(1)})
    with pytest.raises(ValueError, match=r"leaf \['key'\] has shape \(2,\) in the file, the template \(3, 2\)"):
        load_pytree(tmp_path / "s.npz", {"key": jax.random.split(jax.random.key(0), 3)})


def test_format_version_0_by_position(tmp_path):
    """The format before versions (results.save_state): leaf0..leafN in jax.tree.leaves order."""
    with jax.enable_x64(True):
        state = make_state()
        old = [np.asarray(jax.random.key_data(state["key"]))] + [np.asarray(x) for x in jax.tree.leaves(state)[1:]]
        np.savez(tmp_path / "old.npz", **{f"leaf{i}": x for i, x in enumerate(old)})
        assert format_version(tmp_path / "old.npz") == 0
        back = load_pytree(tmp_path / "old.npz", zeros_like(state))
        np.testing.assert_array_equal(back["pair"].w, state["pair"].w)
        np.testing.assert_array_equal(jax.random.key_data(back["key"]), jax.random.key_data(state["key"]))
        np.savez(tmp_path / "short.npz", **{f"leaf{i}": x for i, x in enumerate(old[:-1])})
        with pytest.raises(
            ValueError, match=r"format version 0; this crlqas_kit writes 2\): the file has 4 arrays, the template 5"
        ):
            load_pytree(tmp_path / "short.npz", zeros_like(state))
        old[1] = old[1].astype(np.float64)  # leaves in tree order: key, layers[0], layers[1], pair.w, pair.n
        np.savez(tmp_path / "bad.npz", **{f"leaf{i}": x for i, x in enumerate(old)})
        with pytest.raises(ValueError, match=r"format version 0.*leaf \['layers'\]\[0\] has dtype float64.*bool"):
            load_pytree(tmp_path / "bad.npz", zeros_like(state))


def test_unreadable_files(tmp_path):
    np.savez(tmp_path / "future.npz", **{VERSION_KEY: np.asarray(FORMAT_VERSION + 1), ".x": np.zeros(1)})
    with pytest.raises(ValueError, match=f"format version {FORMAT_VERSION + 1} is not readable"):
        load_pytree(tmp_path / "future.npz", {"x": np.zeros(1)})
    np.savez(tmp_path / "odd.npz", **{VERSION_KEY: np.asarray(1.5)})
    with pytest.raises(ValueError, match="malformed checkpoint format version"):
        format_version(tmp_path / "odd.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="is not a checkpoint"):
        load_pytree(tmp_path / "text.npz", {})
    np.save(tmp_path / "one.npy", np.zeros(2))
    with pytest.raises(ValueError, match="single array"):
        load_pytree(tmp_path / "one.npy", np.zeros(2))
    with pytest.raises(FileNotFoundError):
        load_pytree(tmp_path / "missing.npz", {})
    with pytest.raises(TypeError, match=r"leaf \['f'\] is not an array"):
        save_pytree(tmp_path / "obj.npz", {"f": object()})


def test_metadata_round_trip_and_absence(tmp_path):
    meta = {"episodes": 3, "sha": "ab", "best": {"0": [{"error": 1.5e-3, "ops": [["x", [0], None]]}]}}
    save_pytree(tmp_path / "m.npz", {"a": np.arange(3)}, meta=meta)
    assert load_meta(tmp_path / "m.npz") == meta
    with np.load(tmp_path / "m.npz") as data:  # stored as JSON bytes beside the arrays
        assert json.loads(bytes(data[META_KEY])) == meta
    np.testing.assert_array_equal(load_pytree(tmp_path / "m.npz", {"a": np.zeros(3, int)})["a"], [0, 1, 2])
    save_pytree(tmp_path / "n.npz", {"a": np.arange(3)})
    assert load_meta(tmp_path / "n.npz") is None


def test_version_1_files_still_load(tmp_path):
    """Version 1 (tree paths, no metadata entry) written by hand."""
    np.savez(tmp_path / "v1.npz", **{VERSION_KEY: np.asarray(1), "['a']": np.arange(2.0)})
    assert format_version(tmp_path / "v1.npz") == 1 and load_meta(tmp_path / "v1.npz") is None
    np.testing.assert_array_equal(load_pytree(tmp_path / "v1.npz", {"a": np.zeros(2)})["a"], [0.0, 1.0])


def test_previous_is_kept_until_the_new_file_is_complete(tmp_path):
    path, prev = tmp_path / "c.npz", tmp_path / "c.prev.npz"
    save_pytree(path, {"a": np.asarray(1)}, previous=prev)
    assert not prev.exists()  # nothing to keep yet
    save_pytree(path, {"a": np.asarray(2)}, previous=prev)
    assert int(load_pytree(prev, {"a": np.asarray(0)})["a"]) == 1
    assert int(load_pytree(path, {"a": np.asarray(0)})["a"]) == 2
    # a file or symlink left at the temporary name is replaced, never written through
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (tmp_path / "c.npz.tmp").symlink_to(outside)
    save_pytree(path, {"a": np.asarray(3)}, previous=prev)
    assert outside.read_text() == "keep" and int(load_pytree(path, {"a": np.asarray(0)})["a"]) == 3


@pytest.mark.parametrize("cut", [0.3, 0.7, 0.95])
def test_truncated_file_is_a_one_line_error_naming_it(tmp_path, cut):
    """What a kill in the middle of a (non-atomic) write leaves: every cut is a ValueError naming the file."""
    path = tmp_path / "c.npz"
    save_pytree(path, {"a": np.arange(1000.0), "b": np.ones(50)}, meta={"episodes": 1})
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(ValueError, match=str(path)):
        load_pytree(path, {"a": np.zeros(1000), "b": np.zeros(50)})


def test_overwritten_member_is_a_one_line_error(tmp_path):
    path = tmp_path / "c.npz"
    save_pytree(path, {"a": np.arange(1000.0)})
    data = bytearray(path.read_bytes())
    data[400:600] = b"\xff" * 200  # inside the array's bytes: the member's CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged checkpoint"):
        load_pytree(path, {"a": np.zeros(1000)})


def test_malformed_metadata(tmp_path):
    np.savez(tmp_path / "m.npz", **{VERSION_KEY: np.asarray(2), META_KEY: np.frombuffer(b"[1, 2", np.uint8)})
    with pytest.raises(ValueError, match="malformed checkpoint metadata"):
        load_meta(tmp_path / "m.npz")
    np.savez(tmp_path / "l.npz", **{VERSION_KEY: np.asarray(2), META_KEY: np.frombuffer(b"[1, 2]", np.uint8)})
    with pytest.raises(ValueError, match="not a JSON object"):
        load_meta(tmp_path / "l.npz")
