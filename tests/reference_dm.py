"""Independent dense density-matrix reference simulator (numpy only, Kraus formalism).

Written separately from ``crlqas_kit`` so that its PTM simulator can be checked against it.
Simple and obviously right beats fast: every operator is embedded into the full 2^n x 2^n space.

Conventions (see CONVENTIONS.md):
  * qubit 0 is the leftmost tensor factor / most significant bit: |q0 q1 ... q_{n-1}>;
    basis index x has bit of qubit q equal to (x >> (n-1-q)) & 1.
  * a k-qubit operator acting on ``wires=(w0, w1)`` uses w0 as its most significant (first) factor,
    so CNOT on wires (c, t) has control c and target t, for any c, t (adjacent or not, either order).
  * Pauli strings: letter i acts on qubit i. Pauli index per qubit I=0, X=1, Y=2, Z=3.
"""

import itertools

import numpy as np

# ----------------------------------------------------------------------------- states / gates
I2 = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
Z = np.array([[1, 0], [0, -1]], dtype=complex)
H = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)
S = np.diag([1, 1j]).astype(complex)
SX = 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]], dtype=complex)  # SX @ SX = X
CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)
CZ = np.diag([1, 1, 1, -1]).astype(complex)
PAULIS = {"I": I2, "X": X, "Y": Y, "Z": Z}


def rx(t):
    """RX(t) = exp(-i t X/2) = cos(t/2) I - i sin(t/2) X."""
    return np.cos(t / 2) * I2 - 1j * np.sin(t / 2) * X


def ry(t):
    """RY(t) = exp(-i t Y/2) = cos(t/2) I - i sin(t/2) Y."""
    return np.cos(t / 2) * I2 - 1j * np.sin(t / 2) * Y


def rz(t):
    """RZ(t) = exp(-i t Z/2) = diag(e^{-it/2}, e^{+it/2})."""
    return np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])


def basis_state(bitstring):
    """|b><b| for a bitstring such as "10" (qubit 0 = leftmost character = most significant bit)."""
    if not bitstring or any(c not in "01" for c in bitstring):
        raise ValueError(f"bad bitstring {bitstring!r}")
    dim = 2 ** len(bitstring)
    rho = np.zeros((dim, dim), dtype=complex)
    k = int(bitstring, 2)
    rho[k, k] = 1.0
    return rho


def zero_state(n):
    """|0...0><0...0| on n qubits."""
    if int(n) < 1:
        raise ValueError("n must be >= 1")
    return basis_state("0" * int(n))


# ----------------------------------------------------------------------------- embedding / application
def embed_operator(op, wires, n):
    """Full 2^n x 2^n matrix of a k-qubit ``op`` acting on ``wires`` (wires[0] = most significant of op).

    <y|O_full|x> = op[y_w, x_w] * delta(y_rest, x_rest), where y_w is the k-bit index formed by the bits of
    y on ``wires`` (in the given order) and y_rest are all other bits.
    """
    wires = tuple(int(w) for w in wires)
    k = len(wires)
    op = np.asarray(op, dtype=complex)
    if op.shape != (2**k, 2**k):
        raise ValueError(f"operator shape {op.shape} does not match {k} wire(s)")
    if len(set(wires)) != k or any(w < 0 or w >= n for w in wires):
        raise ValueError(f"invalid wires {wires} for n={n}")
    idx = np.arange(2**n)
    sub = np.zeros_like(idx)
    for w in wires:
        sub = 2 * sub + ((idx >> (n - 1 - w)) & 1)
    rest_mask = (2**n - 1) & ~sum(1 << (n - 1 - w) for w in wires)
    rest = idx & rest_mask
    return op[sub[:, None], sub[None, :]] * (rest[:, None] == rest[None, :])


def apply_unitary(rho, U, wires, n):
    """rho -> U_full rho U_full^dagger."""
    Uf = embed_operator(U, wires, n)
    return Uf @ rho @ Uf.conj().T


def apply_kraus(rho, kraus_ops, wires, n):
    """rho -> sum_i K_i rho K_i^dagger (each K_i embedded on ``wires``)."""
    out = np.zeros_like(rho, dtype=complex)
    for K in kraus_ops:
        Kf = embed_operator(K, wires, n)
        out += Kf @ rho @ Kf.conj().T
    return out


# ----------------------------------------------------------------------------- channels
def _check_prob(name, p, upper=1.0):
    p = float(p)
    if not np.isfinite(p) or p < 0.0 or p > upper:
        raise ValueError(f"{name} must be in [0, {upper}], got {p}")
    return p


def kraus_depolarizing_1q(p):
    """rho -> (1-p) rho + p I/2:  K = sqrt(1-3p/4) I, sqrt(p/4) X, sqrt(p/4) Y, sqrt(p/4) Z;  0<=p<=1."""
    p = _check_prob("p", p)
    return [np.sqrt(1 - 3 * p / 4) * I2] + [np.sqrt(p / 4) * P for P in (X, Y, Z)]


def kraus_depolarizing_2q(p):
    """rho -> (1-p) rho + p I/4 on the pair:  K = sqrt(1-15p/16) II, sqrt(p/16) P (15 non-identity P).

    Uses (1/16) sum_P P rho P = Tr(rho) I/4 (Pauli twirl).  0<=p<=1.
    """
    p = _check_prob("p", p)
    ops = [np.sqrt(1 - 15 * p / 16) * np.eye(4, dtype=complex)]
    for a, b in itertools.product("IXYZ", repeat=2):
        if a + b != "II":
            ops.append(np.sqrt(p / 16) * np.kron(PAULIS[a], PAULIS[b]))
    return ops


def kraus_amplitude_damping(g):
    """K0 = [[1,0],[0,sqrt(1-g)]], K1 = [[0,sqrt(g)],[0,0]];  0<=g<=1."""
    g = _check_prob("gamma", g)
    return [np.array([[1, 0], [0, np.sqrt(1 - g)]], dtype=complex), np.array([[0, np.sqrt(g)], [0, 0]], dtype=complex)]


def kraus_phase_damping(lam):
    """K0 = [[1,0],[0,sqrt(1-lam)]], K1 = [[0,0],[0,sqrt(lam)]] (Qiskit convention);  0<=lam<=1."""
    lam = _check_prob("lambda", lam)
    return [
        np.array([[1, 0], [0, np.sqrt(1 - lam)]], dtype=complex),
        np.array([[0, 0], [0, np.sqrt(lam)]], dtype=complex),
    ]


def kraus_from_choi(choi, tol=1e-12):
    """Kraus ops from C[(i,a),(j,b)] = <a|E(|i><j|)|b> (input index i most significant).

    With C = sum_k lam_k v_k v_k^dagger:  K_k[a, i] = sqrt(lam_k) v_k[(i, a)].
    """
    d = int(round(np.sqrt(choi.shape[0])))
    vals, vecs = np.linalg.eigh(choi)
    if vals.min() < -1e-10:
        raise ValueError("Choi matrix is not positive semidefinite")
    return [np.sqrt(v) * vecs[:, k].reshape(d, d).T for k, v in enumerate(vals) if v > tol]


def kraus_thermal_relaxation(t1, t2, time, excited_population=0.0):
    """Qiskit thermal_relaxation_error, via its Choi matrix.

    p_reset = 1 - exp(-time/T1), p1 = excited_population, p0 = 1 - p1:
      E(|0><0|) = (1 - p1 p_reset)|0><0| + p1 p_reset |1><1|
      E(|1><1|) = p0 p_reset |0><0| + (1 - p0 p_reset)|1><1|
      E(|0><1|) = exp(-time/T2) |0><1|
    Requires T1 > 0, T2 > 0, T2 <= 2 T1, time >= 0, 0 <= excited_population <= 1 (T1, T2 may be inf).
    """
    t1, t2, time = float(t1), float(t2), float(time)
    p1 = _check_prob("excited_population", excited_population)
    if np.isnan(t1) or np.isnan(t2) or t1 <= 0 or t2 <= 0:
        raise ValueError("t1 and t2 must be > 0")
    if t2 > 2 * t1:
        raise ValueError("t2 must be <= 2*t1")
    if not np.isfinite(time) or time < 0:
        raise ValueError("time must be finite and >= 0")
    p0 = 1.0 - p1
    p_reset = 1.0 - np.exp(-time / t1)
    e2 = np.exp(-time / t2)
    choi = np.array(
        [[1 - p1 * p_reset, 0, 0, e2], [0, p1 * p_reset, 0, 0], [0, 0, p0 * p_reset, 0], [e2, 0, 0, 1 - p0 * p_reset]],
        dtype=complex,
    )
    return kraus_from_choi(choi)


# ----------------------------------------------------------------------------- circuits
_FIXED = {"x": X, "y": Y, "z": Z, "h": H, "s": S, "sx": SX, "cx": CNOT, "cz": CZ}
_ROT = {"rx": rx, "ry": ry, "rz": rz}


def run(n, ops, initial=None):
    """Apply ops in order to ``initial`` (default |0..0>) and return rho.

    ops: ("rx"|"ry"|"rz", (q,), theta), ("x"|"y"|"z"|"h"|"s"|"sx", (q,)), ("cx"|"cz", (a, b)),
         ("kraus", wires, [K, ...]).
    """
    rho = zero_state(n) if initial is None else np.array(initial, dtype=complex)
    for op in ops:
        name, wires = op[0], tuple(op[1])
        if name in _ROT:
            if len(op) != 3:
                raise ValueError(f"{name} needs an angle: {op}")
            rho = apply_unitary(rho, _ROT[name](float(op[2])), wires, n)
        elif name in _FIXED:
            if len(op) != 2:
                raise ValueError(f"{name} takes no parameter: {op}")
            rho = apply_unitary(rho, _FIXED[name], wires, n)
        elif name == "kraus":
            rho = apply_kraus(rho, op[2], wires, n)
        else:
            raise ValueError(f"unknown op {name!r}")
    return rho


# ----------------------------------------------------------------------------- observables
def pauli_matrix(string):
    """kron(P_0, P_1, ..., P_{n-1}) for a Pauli string (letter 0 = qubit 0 = leftmost factor)."""
    if not string or any(c not in PAULIS for c in string):
        raise ValueError(f"bad Pauli string {string!r}")
    M = np.ones((1, 1), dtype=complex)
    for c in string:
        M = np.kron(M, PAULIS[c])
    return M


def expectation(rho, terms):
    """sum_k c_k Tr(P_k rho) for terms [(pauli_string, c_k), ...]; returns a real float."""
    return float(sum(float(c) * np.trace(pauli_matrix(s) @ rho).real for s, c in terms))


def readout_expectation(rho, terms, p10, p01):
    """Expectation with classical bit-flip readout error, measured term by term.

    For each term P: rotate every qubit into P's eigenbasis (X: H; Y: S^dagger then H, i.e. U = H S^dagger),
    take probabilities p(b) = <b|U rho U^dagger|b>, apply per-qubit confusion matrices
    M_q = [[1-p10[q], p01[q]], [p10[q], 1-p01[q]]]  (M[measured, true]), and average the parity
    prod_{q: P_q != I} (1 - 2 b_q) over the noisy distribution.
    """
    n = int(round(np.log2(rho.shape[0])))
    p10 = [_check_prob("p10", v) for v in np.broadcast_to(p10, (n,))]
    p01 = [_check_prob("p01", v) for v in np.broadcast_to(p01, (n,))]
    confusion = np.ones((1, 1))
    for q in range(n):
        confusion = np.kron(confusion, [[1 - p10[q], p01[q]], [p10[q], 1 - p01[q]]])
    bits = (np.arange(2**n)[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1  # bits[x, q]
    total = 0.0
    for s, c in terms:
        if len(s) != n:
            raise ValueError(f"term {s!r} has wrong length for n={n}")
        r = rho
        for q, letter in enumerate(s):
            if letter == "X":
                r = apply_unitary(r, H, (q,), n)
            elif letter == "Y":
                r = apply_unitary(r, H @ S.conj().T, (q,), n)
            elif letter not in "IZ":
                raise ValueError(f"bad Pauli letter {letter!r}")
        probs = confusion @ np.real(np.diag(r))
        support = np.array([letter != "I" for letter in s])
        parity = np.prod(np.where(support[None, :], 1 - 2 * bits, 1), axis=1)
        total += float(c) * float(probs @ parity)
    return total


def mitigated_readout_term(rho, term, p10, p01):
    """Readout-error mitigation of one Pauli term by inverting the full confusion matrix.

    Measure ``term`` as :func:`readout_expectation` does (basis change, computational-basis
    probabilities, confusion ``C = kron(M_0, ..., M_{n-1})`` with ``M[measured, true]``), then
    unfold each measured bitstring ``b'`` with ``C^{-1}`` (``np.linalg.inv`` of the dense
    ``2^n x 2^n`` matrix): the single-shot estimator is ``X(b') = sum_b parity(b) C^{-1}[b, b']``,
    unbiased for the readout-free ``<P>``. Returns ``(E[X], E[X^2], max_b' X(b')^2)`` over the
    measured distribution.
    """
    n = int(round(np.log2(rho.shape[0])))
    p10 = np.broadcast_to(p10, (n,))
    p01 = np.broadcast_to(p01, (n,))
    confusion = np.ones((1, 1))
    for q in range(n):
        confusion = np.kron(confusion, [[1 - p10[q], p01[q]], [p10[q], 1 - p01[q]]])
    bits = (np.arange(2**n)[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1
    r = rho
    for q, letter in enumerate(term):
        if letter == "X":
            r = apply_unitary(r, H, (q,), n)
        elif letter == "Y":
            r = apply_unitary(r, H @ S.conj().T, (q,), n)
    measured = confusion @ np.real(np.diag(r))
    support = np.array([letter != "I" for letter in term])
    parity = np.prod(np.where(support[None, :], 1 - 2 * bits, 1), axis=1)
    estimator = parity @ np.linalg.inv(confusion)  # X(b') for every measured b'
    return float(measured @ estimator), float(measured @ estimator**2), float(np.max(estimator**2))


def pauli_vector(rho):
    """r_P = Tr(P rho) for all 4^n Pauli strings, index = sum_q idx(P_q) 4^(n-1-q), I=0,X=1,Y=2,Z=3."""
    n = int(round(np.log2(rho.shape[0])))
    return np.array([np.trace(pauli_matrix("".join(s)) @ rho).real for s in itertools.product("IXYZ", repeat=n)])


def ptm_of_kraus(kraus_ops):
    """R[P, Q] = Tr(P Lambda(Q)) / 2^k with Lambda(rho) = sum_i K_i rho K_i^dagger (same Pauli order)."""
    d = np.asarray(kraus_ops[0]).shape[0]
    k = int(round(np.log2(d)))
    strings = ["".join(s) for s in itertools.product("IXYZ", repeat=k)]
    mats = [pauli_matrix(s) for s in strings]
    R = np.zeros((4**k, 4**k))
    for j, Q in enumerate(mats):
        out = sum(K @ Q @ np.conj(K).T for K in kraus_ops)
        for i, P in enumerate(mats):
            R[i, j] = np.trace(P @ out).real / d
    return R
