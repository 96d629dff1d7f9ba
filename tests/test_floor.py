"""crlqas_kit.baselines.floor: the lowest error over every placement of k CNOTs.

Expected values are independent: the best product state of H2-2q by a dense grid search with numpy
(``tests/reference_dm.py``), the exact ground state with one CNOT (E0 from ``eigvalsh``), and the
RY hardware-efficient ansatz with one layer, which is one of the placements.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run
from reference_dm import pauli_matrix, ry
from scipy.optimize import minimize

from crlqas_kit.baselines.floor import cnot_floor, skeleton_circuit
from crlqas_kit.baselines.hea import hea_baseline
from crlqas_kit.problems import load_problem


def dense_hamiltonian(problem) -> np.ndarray:
    return sum(c * pauli_matrix(p) for p, c in zip(problem.hamiltonian.paulis, problem.hamiltonian.coeffs, strict=True))


def test_skeleton_is_rotation_slots_around_each_cnot():
    circ = skeleton_circuit(3, [(0, 1), (2, 0)], rotations=("ry", "rz"))
    slot = [("ry", (q,)) if r == "ry" else ("rz", (q,)) for q in range(3) for r in ("ry", "rz")]
    expected = slot + [("cx", (0, 1))] + slot + [("cx", (2, 0))] + slot
    assert [(name, wires) for name, wires, _ in circ.ops()] == expected
    assert circ.counts()["cnots"] == 2 and circ.n_params == 18


def test_zero_cnots_is_the_best_product_state():
    """No CNOT: RY on each qubit of |00>, i.e. the best real product state, found by a dense grid
    search and a local refinement of the energy <psi|H|psi> with numpy."""
    problem = load_problem("H2-2q")
    h = dense_hamiltonian(problem)
    zero = np.zeros(4)
    zero[0] = 1

    def energy(angles):
        psi = np.kron(ry(angles[0]), ry(angles[1])) @ zero
        return float(np.real(psi.conj() @ h @ psi))

    grid = np.linspace(-np.pi, np.pi, 121)
    start = min(((a, b) for a in grid for b in grid), key=energy)
    expected = minimize(energy, start, method="BFGS", options={"gtol": 1e-10}).fun - problem.e0
    result = cnot_floor(problem, None, cnots=0, starts=3, steps=600)
    assert len(result.skeletons) == 1 and result.skeletons[0] == ()
    assert expected > 1e-2  # H2-2q's correlation energy: a product state is far from accurate
    assert result.error == pytest.approx(expected, abs=1e-7)


def test_one_cnot_reaches_the_ground_state_of_h2_2q():
    problem = load_problem("H2-2q")
    assert problem.e0 == pytest.approx(np.linalg.eigvalsh(dense_hamiltonian(problem))[0], abs=1e-9)
    result = cnot_floor(problem, None, cnots=1, starts=3, steps=800)
    assert sorted(result.skeletons) == [((0, 1),), ((1, 0),)]
    assert result.error < 1e-7
    assert result.circuit.counts()["cnots"] == 1


def test_a_noisy_floor_is_no_higher_than_the_one_layer_hea():
    """HEA-1 on 2 qubits is the skeleton (0, 1) with RY: the floor over both placements cannot be
    above it (to the optimisers' convergence: the HEA takes 5 x 2000 Adam steps, the floor 3 x 800,
    which ends ~4e-6 Ha higher on the same optimum); the CNOT's depolarizing noise keeps it above 0."""
    hea = hea_baseline("H2-2q", "depolarizing-cnot", layers=1)
    result = cnot_floor("H2-2q", "depolarizing-cnot", cnots=1, starts=3, steps=800)
    assert 1e-4 < result.error <= hea.best_error + 2e-5
    noiseless_rotations = cnot_floor("H2-2q", "depolarizing-cnot", cnots=1, rotation_noise=False, starts=3)
    assert noiseless_rotations.error < result.error - 1e-5  # the rotations' noise is gone: strictly lower
    assert noiseless_rotations.summary()["noise"].endswith("(rotations noiseless)")


def test_the_first_start_is_hartree_fock():
    """All angles 0 is |00>, a stationary point of RY layers: one start of 20 steps from there stays
    at E(|00>); from Hartree-Fock (|11> for H2-2q) it is at E_HF or below. RZ layers cannot flip a
    qubit: their first start is all 0 (the energy of |00>, independent of the angles)."""
    problem = load_problem("H2-2q")
    h = dense_hamiltonian(problem)
    e_00, e_hf = (float(np.real(h[i, i])) for i in (0, int(problem.hf_bitstring, 2)))
    result = cnot_floor(problem, None, cnots=0, starts=1, steps=20)
    assert e_hf + 0.1 < e_00 and result.error <= e_hf - problem.e0 + 1e-9
    rz = cnot_floor(problem, None, cnots=0, rotations=("rz",), starts=1, steps=5)
    assert rz.error == pytest.approx(e_00 - problem.e0, abs=1e-12)


def test_the_floor_is_the_lowest_placement():
    """LiH-4q, one CNOT: 12 placements that differ (from Hartree-Fock, H2's placements all end at
    the same error); the floor, the best placement and its circuit agree (the circuit re-evaluated
    independently of the optimiser's bookkeeping)."""
    from crlqas_kit.sim.simulator import expectation

    problem = load_problem("LiH-4q")
    result = cnot_floor(problem, None, cnots=1, starts=1, steps=300)
    assert len(result.skeletons) == 12 and max(result.errors) - min(result.errors) > 1e-3
    assert result.error == min(result.errors)
    best = result.summary()["best_skeleton"]
    assert [list(wires) for name, wires, _ in result.circuit.ops() if name == "cx"] == best
    energy = float(expectation(result.circuit, problem.hamiltonian))
    assert abs(energy - problem.e0) == pytest.approx(result.error, abs=1e-9)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(cnots=-1), "cnots must be"),
        (dict(cnots=1, rotations=("rq",)), "rotations must be"),
        (dict(cnots=1, rotations=()), "rotations must be"),
        (dict(cnots=3, max_skeletons=100), "216 placements"),
        (dict(cnots=1, starts=0), "starts must be"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cnot_floor("H2-3q", None, **kwargs)
    with pytest.raises(TypeError, match="must be booleans"):
        cnot_floor("H2-3q", None, cnots=0, rotation_noise="no")


def test_cli_floor_writes_json_and_refuses_bad_input(capsys, tmp_path):
    out = tmp_path / "floor.json"
    rc, stdout, stderr = run(capsys, "baseline", "floor", "--problem", "H2-2q", "--cnots", "1", "--starts", "2",
                             "--steps", "400", "--out", out)  # fmt: skip
    assert rc == 0, stderr
    record = json.loads(out.read_text())
    assert record["baseline"] == "floor" and record["result"]["cnots"] == 1
    assert record["result"]["error"] < 1e-6 and "cx q[" in record["qasm"]
    rc, stdout, stderr = run(capsys, "baseline", "floor", "--problem", "H2-3q", "--cnots", "5")
    assert "7776 placements" in assert_one_line_error(rc, stdout, stderr)
