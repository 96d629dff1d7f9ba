#!/usr/bin/env python3
"""Write crlqas_kit/data/devices/{ibm-mumbai,ibm-ourense}.json from real IBM calibration snapshots.

The numbers are read (never invented) from the calibration files that the PyPI package
``qiskit-ibm-runtime`` ships for its fake backends (``fake_provider/backends/<dev>/props_<dev>.json``
and ``conf_<dev>.json``). The package is located, not imported, so only its files are needed.
Output format: /tmp/crlqas_notes/CONVENTIONS.md ("Device profile"); times in seconds. See docs/devices.md.

    python scripts/make_device_profiles.py [--out DIR] [--check]

--check regenerates into a temporary directory and exits 1 if any file differs from the shipped one.
"""

import argparse
import difflib
import importlib.metadata
import importlib.util
import json
import re
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path

PACKAGE, MODULE = "qiskit-ibm-runtime", "qiskit_ibm_runtime"
DEVICES = {"ibm-mumbai": "mumbai", "ibm-ourense": "ourense"}  # profile name -> fake-backend folder
GATES_1Q = ("sx", "x", "rz")
GATES_2Q = ("cx", "ecr", "cz")  # the first one in the backend's basis_gates is used
SCALE = {"us": 1e-6, "ns": 1e-9, "s": 1.0, "GHz": 1e9, "": 1.0}  # unit -> SI factor (s, Hz, 1)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "crlqas_kit" / "data" / "devices"


def package_dir():
    spec = importlib.util.find_spec(MODULE)
    if spec is None:
        print(f"error: {PACKAGE} is not installed (pip install {PACKAGE})", file=sys.stderr)
        sys.exit(2)
    return Path(spec.submodule_search_locations[0]), importlib.metadata.version(PACKAGE)


def params(entries):
    """[{name, value, unit, date}, ...] -> {name: value in SI units}; unknown units fail loudly."""
    return {e["name"]: e["value"] * SCALE[e["unit"]] for e in entries}


def col(key, rows):
    return [r[key] for r in rows]


STATS = ("median", "min", "max")


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def build_profile(name, folder, pkg_dir, version):
    rel = Path("fake_provider", "backends", folder)
    props = json.loads((pkg_dir / rel / f"props_{folder}.json").read_text(encoding="utf-8"))
    conf = json.loads((pkg_dir / rel / f"conf_{folder}.json").read_text(encoding="utf-8"))
    n = conf["n_qubits"]
    assert len(props["qubits"]) == n, (name, len(props["qubits"]), n)

    qubits, fallback = [], []
    for i, q in enumerate(map(params, props["qubits"])):
        if "prob_meas1_prep0" in q and "prob_meas0_prep1" in q:
            p10, p01 = q["prob_meas1_prep0"], q["prob_meas0_prep1"]
        else:  # not the case for mumbai/ourense; kept so a new snapshot cannot slip through silently
            p10 = p01 = q["readout_error"]
            fallback.append(i)
        qubits.append(
            {
                "t1": q["T1"],
                "t2": q["T2"],
                "t2_clipped": min(q["T2"], 2 * q["T1"]),
                "readout_p10": p10,
                "readout_p01": p01,
                "readout_error": q["readout_error"],
                "readout_duration": q["readout_length"],
            }
        )
    clipped = [i for i, q in enumerate(qubits) if q["t2"] > 2 * q["t1"]]
    notes = (
        [f"qubits {fallback}: no prob_meas* in snapshot, readout_p10 = readout_p01 = readout_error"] if fallback else []
    )

    gate2 = next(g for g in GATES_2Q if g in conf["basis_gates"])
    gates_1q, gates_2q = {g: [] for g in GATES_1Q}, {gate2: []}
    for g in props["gates"]:
        p = params(g["parameters"])
        if g["gate"] in gates_1q:
            gates_1q[g["gate"]].append(
                {"qubit": g["qubits"][0], "error": p["gate_error"], "duration": p["gate_length"]}
            )
        elif g["gate"] == gate2:
            gates_2q[gate2].append({"qubits": g["qubits"], "error": p["gate_error"], "duration": p["gate_length"]})
    for lst in gates_1q.values():
        lst.sort(key=lambda e: e["qubit"])
        assert [e["qubit"] for e in lst] == list(range(n)), name
    gates_2q[gate2].sort(key=lambda e: e["qubits"])
    coupling_map = sorted(conf["coupling_map"])
    assert coupling_map == [e["qubits"] for e in gates_2q[gate2]], f"{name}: coupling map != {gate2} pairs"

    rz_virtual = all(e["error"] == 0 and e["duration"] == 0 for e in gates_1q["rz"])
    rz_note = "rz: error 0 and duration 0 in the snapshot (virtual Z)" if rz_virtual else "rz: NOT all zero"
    same = all(a == b for a, b in zip(gates_1q["sx"], gates_1q["x"], strict=True))
    sx_note = f"sx and x have {'identical' if same else 'different'} error/duration per qubit in the snapshot"
    dates = sorted(
        {e["date"] for sec in props["qubits"] for e in sec}
        | {e["date"] for g in props["gates"] for e in g["parameters"]},
        key=lambda d: (datetime.fromisoformat(d), d),
    )
    files = f"{MODULE}/{rel}/props_{folder}.json (+ conf_{folder}.json for coupling map and basis gates)"
    cal = props["last_update_date"]
    summary = {
        "t1": stats(col("t1", qubits)),
        "t2": stats(col("t2", qubits)),
        "t2_clipped": stats(col("t2_clipped", qubits)),
        "readout_p10": stats(col("readout_p10", qubits)),
        "readout_p01": stats(col("readout_p01", qubits)),
        "readout_duration": stats(col("readout_duration", qubits)),
        **{f"{g}_{k}": stats(col(k, gates_1q[g])) for g in ("sx", "x") for k in ("error", "duration")},
        **{f"{gate2}_{k}": stats(col(k, gates_2q[gate2])) for k in ("error", "duration")},
    }
    return {
        "name": name,
        "n_qubits": n,
        "source": f"{PACKAGE} {version}, file {files}; backend {props['backend_name']} "
        f"v{props['backend_version']}, calibration last_update_date {cal}",
        "calibration": {
            "package": PACKAGE,
            "package_version": version,
            "props_file": f"{MODULE}/{rel}/props_{folder}.json",
            "conf_file": f"{MODULE}/{rel}/conf_{folder}.json",
            "backend_name": props["backend_name"],
            "backend_version": props["backend_version"],
            "last_update_date": cal,
            "earliest_parameter_date": dates[0],
            "latest_parameter_date": dates[-1],
        },
        "two_qubit_gate": gate2,
        "t2_exceeds_2t1_qubits": clipped,
        "notes": notes
        + [
            "times in seconds, errors are probabilities; readout_p10 = prob_meas1_prep0, "
            "readout_p01 = prob_meas0_prep1; readout_error is qiskit's average of the two (raw)",
            "t2 is the raw calibration value; t2_clipped = min(t2, 2*t1) is what a thermal-relaxation "
            "channel may use (listed in t2_exceeds_2t1_qubits where they differ)",
            rz_note,
            sx_note,
            "summary: median/min/max over qubits, or over directed pairs for the 2-qubit gate; "
            "'max noise' = max of errors and durations but MIN of t1/t2",
        ],
        "coupling_map": coupling_map,
        "qubits": qubits,
        "gates_1q": gates_1q,
        "gates_2q": gates_2q,
        "summary": summary,
    }


def dumps(obj):
    """2-space JSON with short numeric lists (pairs) kept on one line."""
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    return (
        re.sub(
            r"\[\s*([-\d.eE+]+(?:,\s*[-\d.eE+]+)*)\s*\]",
            lambda m: "[" + ", ".join(re.split(r",\s*", m.group(1))) + "]",
            text,
        )
        + "\n"
    )


def write_all(out):
    pkg_dir, version = package_dir()
    out.mkdir(parents=True, exist_ok=True)
    profiles = {}
    for name, folder in DEVICES.items():
        profiles[name] = build_profile(name, folder, pkg_dir, version)
        (out / f"{name}.json").write_text(dumps(profiles[name]), encoding="utf-8")
    return profiles


def markdown_table(profiles):
    """The summary table of docs/devices.md (T1/T2 in us, durations in ns)."""
    rows = [
        ("T1 (us)", "t1", 1e6),
        ("T2 (us)", "t2", 1e6),
        ("sx/x error", "sx_error", 1),
        ("sx/x duration (ns)", "sx_duration", 1e9),
        ("cx error", "cx_error", 1),
        ("cx duration (ns)", "cx_duration", 1e9),
        ("readout p(1\\|0)", "readout_p10", 1),
        ("readout p(0\\|1)", "readout_p01", 1),
        ("readout duration (ns)", "readout_duration", 1e9),
    ]
    head = "| quantity | " + " | ".join(f"{n} median | {n} min | {n} max" for n in profiles) + " |"
    lines = [head, "|" + "---|" * (1 + 3 * len(profiles))]
    for label, key, f in rows:
        cells = [f"{p['summary'][key][s] * f:.4g}" for p in profiles.values() for s in STATS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="compare a fresh build with the files in --out")
    args = ap.parse_args()
    if not args.check:
        profiles = write_all(args.out)
        print(f"wrote {', '.join(f'{n}.json' for n in profiles)} to {args.out}\n\n{markdown_table(profiles)}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        profiles, bad = write_all(Path(tmp)), 0
        for name, profile in profiles.items():
            new, path = Path(tmp, f"{name}.json").read_text(encoding="utf-8"), args.out / f"{name}.json"
            if not path.exists():
                bad += 1
                print(f"MISSING: {path}")
                continue
            old = path.read_text(encoding="utf-8")
            if new != old:
                bad += 1
                was = json.loads(old).get("calibration", {}).get("package_version")
                now = profile["calibration"]["package_version"]
                why = f" (shipped from {PACKAGE} {was}, installed {now})" if was != now else ""
                print(f"DIFFERS: {path}{why}")
                sys.stdout.writelines(
                    list(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "shipped", "regenerated"))[
                        :40
                    ]
                )
        print(f"{bad} device profile(s) differ or are missing" if bad else "device profiles up to date")
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
