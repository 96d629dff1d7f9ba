"""Pauli strings and PauliSum Hamiltonians: conventions, constructors, JSON files and validation."""

from __future__ import annotations

import itertools
import json
import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crlqas_kit.sim.paulis import PauliSum, pauli_index, pauli_matrix, pauli_string, validate_pauli_string

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_dm as ref  # noqa: E402

FAST = settings(max_examples=40, deadline=None, database=None, derandomize=True)
paulis = st.integers(1, 5).flatmap(lambda n: st.text("IXYZ", min_size=n, max_size=n))


# ----------------------------------------------------------------------------- strings
def test_pauli_index_convention():
    assert pauli_index("I") == 0 and pauli_index("X") == 1 and pauli_index("Y") == 2 and pauli_index("Z") == 3
    assert pauli_index("IX") == 1  # qubit 0 is the most significant digit
    assert pauli_index("XI") == 4
    assert pauli_index("ZZ") == 15
    assert pauli_index("XZIY") == 1 * 64 + 3 * 16 + 0 * 4 + 2
    assert [pauli_string(i, 2) for i in range(16)] == ["".join(p) for p in itertools.product("IXYZ", repeat=2)]


@FAST
@given(paulis)
def test_index_string_round_trip(p):
    assert pauli_string(pauli_index(p), len(p)) == p


@FAST
@given(paulis)
def test_pauli_matrix_matches_reference(p):
    m = pauli_matrix(p)
    assert m.shape == (2 ** len(p),) * 2 and m.dtype == np.complex128
    np.testing.assert_array_equal(m, ref.pauli_matrix(p))


def test_qubit_zero_is_the_leftmost_factor():
    # "ZI" acts on qubit 0 = most significant bit: |10> (index 2) has eigenvalue -1
    assert np.diag(pauli_matrix("ZI")).real.tolist() == [1, 1, -1, -1]
    assert np.diag(pauli_matrix("IZ")).real.tolist() == [1, -1, 1, -1]


@pytest.mark.parametrize("bad", ["XA", "xz", "X Z", "Q", "IXYZ1"])
def test_letter_outside_ixyz_rejected(bad):
    with pytest.raises(ValueError, match="allowed letters are I, X, Y, Z"):
        validate_pauli_string(bad)
    with pytest.raises(ValueError, match="letter"):
        PauliSum.from_list([(bad, 1.0)])
    with pytest.raises(ValueError, match="letter"):
        pauli_index(bad)


def test_bad_string_types_and_lengths():
    with pytest.raises(TypeError, match="must be a str"):
        validate_pauli_string(3)
    with pytest.raises(ValueError, match="at least one letter"):
        validate_pauli_string("")
    with pytest.raises(ValueError, match="'XZ' has 2 letters but the operator acts on 3 qubits"):
        validate_pauli_string("XZ", 3)
    with pytest.raises(ValueError, match="out of range"):
        pauli_string(16, 2)
    with pytest.raises(ValueError, match="out of range"):
        pauli_string(-1, 2)


# ----------------------------------------------------------------------------- PauliSum
def test_from_list_dict_and_views():
    h = PauliSum.from_list([("II", -0.5), ("ZI", 0.25), ("XX", 0.125), ("ZI", 0.5)])
    assert h.n_qubits == 2
    assert h.paulis == ("II", "ZI", "XX")  # duplicates merged, first occurrence order kept
    np.testing.assert_array_equal(h.coeffs, [-0.5, 0.75, 0.125])
    assert h.coeffs.dtype == np.float64 and not h.coeffs.flags.writeable
    assert h.constant == -0.5
    assert h.l1_norm == 0.875
    assert len(h) == 3
    np.testing.assert_array_equal(h.indices, [0, 12, 5])
    d = PauliSum.from_dict({"II": -0.5, "ZI": 0.75, "XX": 0.125})
    assert d.paulis == h.paulis and np.array_equal(d.coeffs, h.coeffs)
    assert "PauliSum(n_qubits=2" in repr(h)
    assert PauliSum.from_list([], n_qubits=3).n_qubits == 3


def test_to_matrix_is_hermitian_and_matches_reference():
    rng = np.random.default_rng(0)
    strings = ["".join(p) for p in itertools.product("IXYZ", repeat=3)]
    terms = [(s, float(c)) for s, c in zip(rng.choice(strings, 12, replace=False), rng.normal(size=12), strict=True)]
    h = PauliSum.from_list(terms)
    m = h.to_matrix()
    np.testing.assert_allclose(m, m.conj().T, atol=0)
    np.testing.assert_allclose(m, sum(c * ref.pauli_matrix(s) for s, c in terms), atol=1e-14)
    assert h.ground_energy() == pytest.approx(np.linalg.eigvalsh(m)[0], abs=1e-12)
    for bits in ("000", "101", "011"):
        k = int(bits, 2)
        assert h.diagonal_energy(bits) == pytest.approx(m[k, k].real, abs=1e-12)
    assert h.constant - h.l1_norm <= h.ground_energy() + 1e-12
    with pytest.raises(ValueError, match="bitstring"):
        h.diagonal_energy("01")
    with pytest.raises(ValueError, match="bitstring"):
        h.diagonal_energy("0a1")


def test_complex_coefficients():
    h = PauliSum.from_list([("XZ", 1 + 0j), ("ZZ", np.complex128(0.5))])  # zero imaginary part: fine
    np.testing.assert_array_equal(h.coeffs, [1.0, 0.5])
    assert h.coeffs.dtype == np.float64
    for bad in (1 + 1e-3j, 0.5j, np.complex128(1 - 2j)):
        with pytest.raises(ValueError, match=r"coefficient of 'XZ' is complex.*Hermitian"):
            PauliSum.from_list([("XZ", bad)])
    with pytest.raises(ValueError, match="complex"):
        PauliSum.from_dict({"XZ": 2j})


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -np.inf, np.float64("nan")])
def test_nan_and_inf_coefficients_rejected(bad):
    with pytest.raises(ValueError, match=r"coefficient of 'YZ' is .*finite"):
        PauliSum.from_list([("XX", 1.0), ("YZ", bad)])
    with pytest.raises(ValueError, match="finite"):
        PauliSum(2, ("YZ",), np.array([bad]))


@pytest.mark.parametrize("bad", ["0.5", None, True, [1.0], {"re": 1}])
def test_non_numeric_coefficients_rejected(bad):
    with pytest.raises(TypeError, match="coefficient of 'XY' must be a real number"):
        PauliSum.from_list([("XY", bad)])


def test_wrong_lengths_rejected():
    with pytest.raises(ValueError, match="'XZI' has 3 letters but the operator acts on 2 qubits"):
        PauliSum.from_list([("XZ", 1.0), ("XZI", 1.0)])
    with pytest.raises(ValueError, match="'XZ' has 2 letters but the operator acts on 3 qubits"):
        PauliSum.from_list([("XZ", 1.0)], n_qubits=3)
    with pytest.raises(ValueError, match="'XZ' has 2 letters but the operator acts on 3 qubits"):
        PauliSum.from_dict({"XZ": 1.0}, n_qubits=3)
    with pytest.raises(ValueError, match=r"coefficient array of shape \(1,\)"):
        PauliSum(2, ("XZ", "ZZ"), np.array([1.0]))


@pytest.mark.parametrize("term", [("XZ",), ("XZ", 1.0, 2.0), "XZ", 5])
def test_malformed_terms_rejected(term):
    with pytest.raises(ValueError, match="pair"):
        PauliSum.from_list([term])


def test_bad_n_qubits_and_containers():
    for bad in (0, -1, 2.5, "2", True):
        with pytest.raises(ValueError, match="n_qubits must be a positive integer"):
            PauliSum.from_list([("XZ", 1.0)], n_qubits=bad)
    with pytest.raises(ValueError, match="needs n_qubits"):
        PauliSum.from_list([])
    with pytest.raises(TypeError, match="mapping"):
        PauliSum.from_dict([("XZ", 1.0)])


# ----------------------------------------------------------------------------- JSON files
def test_json_round_trip(tmp_path):
    h = PauliSum.from_list([("IIZ", -0.1), ("XZY", 0.12), ("III", 2.0)])
    path = tmp_path / "h.json"
    h.save(path)
    data = json.loads(path.read_text())
    assert data == {"n_qubits": 3, "terms": [["IIZ", -0.1], ["XZY", 0.12], ["III", 2.0]]}
    back = PauliSum.load(path)
    assert back.paulis == h.paulis and np.array_equal(back.coeffs, h.coeffs)  # bit-for-bit
    assert PauliSum.from_json(h.to_json()).paulis == h.paulis


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("{not json", ValueError, "not valid JSON"),
        ("", ValueError, "not valid JSON"),
        ('[["XZ", 1.0]]', ValueError, "must be a JSON object"),
        ('{"terms": [["XZ", 1.0]]}', ValueError, "must be a JSON object"),
        ('{"n_qubits": 2}', ValueError, "must be a JSON object"),
        ('{"n_qubits": 2, "terms": {"XZ": 1.0}}', ValueError, '"terms" must be a list'),
        ('{"n_qubits": 2, "terms": [["XZ"]]}', ValueError, "pair"),
        ('{"n_qubits": 2, "terms": [["XA", 1.0]]}', ValueError, "allowed letters"),
        ('{"n_qubits": 3, "terms": [["XZ", 1.0]]}', ValueError, "2 letters but the operator acts on 3"),
        ('{"n_qubits": "2", "terms": [["XZ", 1.0]]}', ValueError, "n_qubits must be a positive integer"),
        ('{"n_qubits": 2.5, "terms": [["XZ", 1.0]]}', ValueError, "n_qubits must be a positive integer"),
        ('{"n_qubits": 2, "terms": [["XZ", "1.0"]]}', TypeError, "must be a real number"),
        ('{"n_qubits": 2, "terms": [["XZ", NaN]]}', ValueError, "finite"),
        ('{"n_qubits": 2, "terms": [["XZ", Infinity]]}', ValueError, "finite"),
        ('{"n_qubits": 2, "terms": [[12, 1.0]]}', TypeError, "must be a str"),
    ],
)
def test_malformed_json_files(tmp_path, text, error, match):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(error, match=match) as info:
        PauliSum.load(path)
    assert str(path) in str(info.value)  # the message names the file


def test_missing_file(tmp_path):
    with pytest.raises(OSError):
        PauliSum.load(tmp_path / "missing.json")
