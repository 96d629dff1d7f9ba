"""Pytree <-> .npz checkpoints: leaves named by tree path, a format version, strict loading.

A real search's checkpoint (and a run saved in the format before versions) is in test_search.py.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from crlqas_kit.checkpoint import FORMAT_VERSION, VERSION_KEY, format_version, load_pytree, save_pytree


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
            assert int(data[VERSION_KEY]) == FORMAT_VERSION == 1
            np.testing.assert_array_equal(data["['key']"], jax.random.key_data(state["key"]))
        assert format_version(out) == 1
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
        assert "checkpoint format version 1, expected 1" in str(err.value)


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
        with pytest.raises(ValueError, match=r"format version 0, expected 1\): the file has 4 arrays, the template 5"):
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
