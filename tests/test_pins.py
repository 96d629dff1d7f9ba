"""Setup-contract checks: exact pins, no drift between pyproject.toml and the conda/Binder files.

pyproject.toml ``[project].dependencies`` is the single source of truth for runtime pins. The
optional extras (notebooks, test, chem, compare, scale) must never be needed at run time (Binder
and the notebooks never need Ray, the ``scale`` extra of ``crlqas sweep``); the Jupyter
stack (JupyterLab, IPython, ipykernel) lives in the ``notebooks`` extra, not in the runtime pins.

The two conda files repeat the pins under ``pip:``, each by its own rule:

* ``environment.yml`` (local conda users, who want JupyterLab too): the runtime pins followed by the
  ``notebooks`` extra, verbatim.
* ``binder/environment.yml``: the runtime pins **minus every package that repo2docker's base
  environment already provides**. repo2docker installs this file's pip list into its own conda
  environment, which already holds the Jupyter stack (JupyterLab, Notebook 7, ipykernel, IPython,
  ipywidgets and its lab extension, jupyter_server, JupyterHub's single-user server, ...;
  ``tests/binder/repo2docker-py3.11-base.txt``, from repo2docker's Python 3.11 lock). Naming any of
  those packages there would make pip replace Binder's server stack piecemeal (e.g. a JupyterLab that
  Notebook 7.4 refuses). A runtime pin that the base also provides (ipywidgets) must therefore pin
  the base's version exactly: Binder then runs the version that the kit is tested with.

``tests/test_binder.py`` checks the result for real: a fresh venv with that base, then binder/'s
installs, ``pip check`` and JupyterLab in a browser.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
ENV_FILES = [ROOT / "environment.yml", ROOT / "binder" / "environment.yml"]
REPO2DOCKER_BASE = ROOT / "tests" / "binder" / "repo2docker-py3.11-base.txt"
README = ROOT / "README.md"
# The Jupyter packages a library user does not need: never runtime pins, always in the notebooks extra.
NOTEBOOK_STACK = ("jupyterlab", "ipython", "ipykernel")
PKG = ROOT / "crlqas_kit"

EXACT_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!_-]+)$")
# Modules whose dotted path contains one of these segments are adapters for an extra and may
# import it at module level; everything else must import with the runtime pins alone.
EXTRA_ADAPTER_SEGMENTS = {"compare", "chem", "testing"}


def norm(name: str) -> str:
    """PEP 503 normalized distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


# ----------------------------------------------------------------------------- parsing helpers
def load_pyproject() -> dict:
    with PYPROJECT.open("rb") as fh:
        return tomllib.load(fh)


def parse_pins(reqs: list[str], where: str) -> dict[str, str]:
    """{normalized name: version} for a list of requirement strings; asserts each is exact."""
    pins: dict[str, str] = {}
    bad = []
    for req in reqs:
        m = EXACT_PIN.match(req.strip())
        if not m:
            bad.append(req)
            continue
        name = norm(m["name"])
        assert name not in pins, f"{where}: {m['name']} is listed twice"
        pins[name] = m["version"]
    assert not bad, (
        f"{where}: every requirement must be an exact pin 'name==version' (no ranges, extras "
        f"or markers); not exact: {bad}"
    )
    return pins


def repo2docker_base_pins() -> dict[str, str]:
    """{normalized name: version} of repo2docker's Python 3.11 base environment (pip names)."""
    lines = [ln.strip() for ln in REPO2DOCKER_BASE.read_text().splitlines()]
    return parse_pins([ln for ln in lines if ln and not ln.startswith("#")], str(REPO2DOCKER_BASE.relative_to(ROOT)))


def runtime_pins() -> dict[str, str]:
    return parse_pins(load_pyproject()["project"]["dependencies"], "pyproject.toml [project].dependencies")


def extras_pins() -> dict[str, dict[str, str]]:
    extras = load_pyproject()["project"].get("optional-dependencies", {})
    return {
        extra: parse_pins(reqs, f"pyproject.toml [project.optional-dependencies].{extra}")
        for extra, reqs in extras.items()
    }


def _scalar(text: str):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _strip_comment(line: str) -> str:
    if line.lstrip().startswith("#"):
        return ""
    return re.sub(r"\s+#.*$", "", line).rstrip()


def mini_yaml(text: str):
    """Tiny block-YAML reader: enough for conda environment files (maps, lists, scalars)."""
    lines = []
    for raw in text.splitlines():
        line = _strip_comment(raw)
        if line.strip():
            assert "\t" not in line[: len(line) - len(line.lstrip())], f"tab indentation: {raw!r}"
            lines.append((len(line) - len(line.lstrip()), line.strip()))

    def split_key(content: str):
        m = re.match(r"^([^:'\"\s][^:]*?):(\s+(.*))?$", content)
        return (m.group(1), m.group(3)) if m else (None, None)

    def block(i: int, indent: int):
        if lines[i][1].startswith("-"):
            seq = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-"):
                item = lines[i][1][1:].strip()
                i += 1
                key, val = split_key(item)
                if not item:
                    value, i = block(i, lines[i][0])
                    seq.append(value)
                elif key is not None:
                    if val is None and i < len(lines) and lines[i][0] > indent:
                        value, i = block(i, lines[i][0])
                    else:
                        value = _scalar(val or "")
                    seq.append({key: value})
                else:
                    seq.append(_scalar(item))
            return seq, i
        mapping = {}
        while i < len(lines) and lines[i][0] == indent:
            key, val = split_key(lines[i][1])
            assert key is not None, f"cannot parse YAML line: {lines[i][1]!r}"
            i += 1
            nxt = lines[i] if i < len(lines) else None
            if val is None and nxt and (nxt[0] > indent or (nxt[0] == indent and nxt[1].startswith("-"))):
                mapping[key], i = block(i, nxt[0])
            else:
                mapping[key] = _scalar(val or "")
        return mapping, i

    if not lines:
        return {}
    value, i = block(0, lines[0][0])
    assert i == len(lines), f"could not parse YAML from line: {lines[i][1]!r}"
    return value


def test_mini_yaml_reader():
    doc = mini_yaml(
        textwrap.dedent(
            """\
            name: x  # comment
            channels:
            - conda-forge
            dependencies:
              - python=3.11
              - pip
              - pip:
                  - "a==1"
                  - b==2
            """
        )
    )
    assert doc == {
        "name": "x",
        "channels": ["conda-forge"],
        "dependencies": ["python=3.11", "pip", {"pip": ["a==1", "b==2"]}],
    }


def format_diff(expected: dict[str, str], actual: dict[str, str], label: str) -> str:
    out = []
    for name in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(name), actual.get(name)
        if want == got:
            continue
        if got is None:
            out.append(f"  missing in {label}: {name}=={want}")
        elif want is None:
            out.append(f"  extra in {label} (not a pyproject runtime pin): {name}=={got}")
        else:
            out.append(f"  {name}: pyproject has =={want}, {label} has =={got}")
    return "\n".join(out)


# ----------------------------------------------------------------------------- pyproject
def test_runtime_pins_are_exact_and_present():
    pins = runtime_pins()
    core_deps = ("jax", "jaxlib", "flax", "optax", "numpy", "scipy", "matplotlib", "ipywidgets")
    for core in core_deps:
        assert core in pins, f"pyproject.toml runtime dependencies lack an exact pin for {core}"
    assert pins["jax"] == pins["jaxlib"], "jax and jaxlib must be pinned to the same version"


def test_jupyter_stack_is_the_notebooks_extra():
    """A library user gets no JupyterLab/IPython pins; `pip install -e ".[notebooks]"` brings them."""
    runtime, notebooks = runtime_pins(), extras_pins().get("notebooks", {})
    for name in NOTEBOOK_STACK:
        assert name not in runtime, f"{name} is a runtime pin; it belongs in the notebooks extra"
        assert name in notebooks, f"the notebooks extra lacks an exact pin for {name}"


def test_extras_agree_with_each_other():
    seen: dict[str, tuple[str, str]] = {}
    for extra, pins in extras_pins().items():
        for name, version in pins.items():
            other = seen.setdefault(name, (extra, version))
            assert other[1] == version, f"{name}: [{other[0]}] pins =={other[1]}, [{extra}] pins =={version}"


def test_extras_are_exact_and_never_runtime():
    runtime = runtime_pins()
    extras = extras_pins()
    assert {"test", "chem", "compare", "scale"} <= extras.keys(), f"extras found: {sorted(extras)}"
    for extra, pins in extras.items():
        clash = {n: v for n, v in pins.items() if n in runtime and runtime[n] != v}
        assert not clash, f"extra [{extra}] re-pins runtime deps differently: {clash}"


def test_project_metadata():
    project = load_pyproject()["project"]
    assert project["name"] == "crlqas_kit"
    assert project["requires-python"] == ">=3.11"
    assert project["scripts"]["crlqas"] == "crlqas_kit.cli:main"
    data = load_pyproject()["tool"]["setuptools"]["package-data"]["crlqas_kit"]
    assert any(p.endswith("*.json") for p in data) and any(p.endswith("*.qasm") for p in data)


# ----------------------------------------------------------------------------- conda / Binder
def expected_env_pins(path: Path) -> tuple[dict[str, str], str]:
    """The pins (and the rule, for messages) that ``path``'s pip: block must repeat, in order."""
    runtime = runtime_pins()
    if path.parent.name == "binder":
        base = repo2docker_base_pins()
        return {n: v for n, v in runtime.items() if n not in base}, "runtime pins minus repo2docker's base"
    return {**runtime, **extras_pins()["notebooks"]}, "runtime pins + the notebooks extra"


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_environment_yml_matches_pyproject(path: Path):
    assert path.exists(), f"{path.relative_to(ROOT)} is missing"
    doc = mini_yaml(path.read_text())
    rel = path.relative_to(ROOT)
    assert "conda-forge" in (doc.get("channels") or []), f"{rel}: channels must include conda-forge"

    conda_deps = [d for d in doc.get("dependencies") or [] if isinstance(d, str)]
    pip_blocks = [d["pip"] for d in doc.get("dependencies") or [] if isinstance(d, dict) and "pip" in d]
    pythons = [d for d in conda_deps if re.match(r"^python\s*[=<>!]", d) or d == "python"]
    assert pythons, f"{rel}: no python in dependencies (need 'python=3.11')"
    assert all(re.fullmatch(r"python\s*==?\s*3\.11(\.\*)?", p) for p in pythons), (
        f"{rel}: python must be 3.11 (python=3.11), got {pythons}"
    )
    assert "pip" in conda_deps, f"{rel}: 'pip' must be a conda dependency"
    others = [d for d in conda_deps if d not in pythons and d != "pip"]
    assert not others, (
        f"{rel}: runtime deps must come from the pip: block (exact pins from pyproject.toml), "
        f"not as conda packages: {others}"
    )
    assert len(pip_blocks) == 1, f"{rel}: expected exactly one 'pip:' block, found {len(pip_blocks)}"

    actual = parse_pins(pip_blocks[0], f"{rel} pip:")
    expected, rule = expected_env_pins(path)
    diff = format_diff(expected, actual, str(rel))
    assert not diff, f"{rel} must list pyproject.toml's {rule}; it drifted:\n{diff}"
    assert list(actual) == list(expected), f"{rel}: list the pins in pyproject.toml's order ({rule})"


def test_runtime_pins_that_binder_provides_match_its_base():
    """A runtime pin left out of binder/environment.yml because the base has it must be the base's version."""
    base = repo2docker_base_pins()
    clash = {n: (v, base[n]) for n, v in runtime_pins().items() if n in base and base[n] != v}
    assert not clash, (
        "runtime pins that repo2docker's base provides at another version (pyproject, base): "
        f"{clash}. Binder would run the base's version, or pip would replace part of its Jupyter stack; "
        "pin the base's version (tests/binder/repo2docker-py3.11-base.txt)"
    )


def test_repo2docker_base_holds_the_jupyter_stack():
    base = repo2docker_base_pins()
    for name in (
        "jupyterlab",
        "notebook",
        "ipykernel",
        "ipython",
        "ipywidgets",
        "jupyterlab-widgets",
        "jupyter-server",
        "jupyterhub",
    ):
        assert name in base, f"{REPO2DOCKER_BASE.relative_to(ROOT)} lacks {name}"
    assert base["jupyterlab"].startswith("4.4.") and base["notebook"].startswith("7.4."), (
        "Notebook 7.4 requires JupyterLab 4.4: the base file is inconsistent"
    )


def _code_lines(path: Path) -> list[str]:
    stripped = (ln.strip() for ln in path.read_text().splitlines())
    return [ln for ln in stripped if ln and not ln.startswith("#")]


def test_binder_postbuild():
    path = ROOT / "binder" / "postBuild"
    text = path.read_text()
    assert text.startswith("#!/bin/bash"), "binder/postBuild must start with #!/bin/bash"
    lines = _code_lines(path)
    assert "set -e" in lines or any(re.match(r"^set -[a-z]*e", ln) for ln in lines), "binder/postBuild must `set -e`"
    installs = [ln for ln in lines if re.search(r"\bpip install\b", ln)]
    assert installs, "binder/postBuild must pip install the kit"
    for ln in installs:
        assert "--no-deps" in ln.split(), (
            f"binder/postBuild must install with --no-deps (deps come from environment.yml): {ln!r}"
        )
    assert os.access(path, os.X_OK), "binder/postBuild must be executable (chmod +x)"


def test_binder_start():
    path = ROOT / "binder" / "start"
    text = path.read_text()
    assert text.startswith("#!/bin/bash"), "binder/start must start with #!/bin/bash"
    lines = _code_lines(path)
    assert lines and lines[-1] == 'exec "$@"', f'binder/start must end with exec "$@", ends with {lines[-1:]}'
    assert "export JAX_PLATFORMS=cpu" in lines, "binder/start must export JAX_PLATFORMS=cpu"
    assert os.access(path, os.X_OK), "binder/start must be executable (chmod +x)"


def test_ci_run():
    path = ROOT / ".ci" / "run"
    lines = _code_lines(path)
    assert "set -euo pipefail" in lines, ".ci/run must `set -euo pipefail`"
    assert lines[-1] == "exec python3 tasks.py test", f".ci/run must end with the test task, got {lines[-1:]}"
    assert os.access(path, os.X_OK), ".ci/run must be executable (chmod +x)"


def test_ci_installs_the_scale_extra():
    """tests/test_sweep.py runs a real Ray cluster: the test task installs Ray (it skips without it)."""
    tree = ast.parse((ROOT / "tasks.py").read_text())
    extras = next(
        ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "TEST_EXTRAS" for t in node.targets)
    )
    assert "scale" in extras and "scale" in extras_pins() and "ray" in extras_pins()["scale"], extras


def test_binder_and_notebooks_never_need_ray():
    for path in ENV_FILES:
        pins = parse_pins(mini_yaml(path.read_text())["dependencies"][-1]["pip"], str(path))
        assert "ray" not in pins, f"{path.relative_to(ROOT)} must not install Ray (the scale extra)"
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = nb.read_text()
        for needle in ("import ray", "from ray", "crlqas_kit.sweep", "ck.sweep", "crlqas sweep"):
            assert needle not in text, f"{nb.relative_to(ROOT)} uses {needle!r}: notebooks must run without Ray"


# ----------------------------------------------------------------------------- extras stay optional
EXTRA_MODULES = {  # top-level import name -> distribution, for extras that may not be installed here
    "pytest": "pytest",
    "_pytest": "pytest",
    "hypothesis": "hypothesis",
    "nbmake": "nbmake",
    "ruff": "ruff",
    "nbformat": "nbformat",
    "nbclient": "nbclient",
    "ipykernel": "ipykernel",
    "playwright": "playwright",
    "jupyterlab": "jupyterlab",
    "pyscf": "pyscf",
    "openfermion": "openfermion",
    "openfermionpyscf": "openfermionpyscf",
    "qiskit": "qiskit",
    "qiskit_aer": "qiskit-aer",
    "qulacs": "qulacs",
    "pennylane": "pennylane",
    "ray": "ray",
}


def _module_to_dists() -> dict[str, set[str]]:
    from importlib.metadata import packages_distributions

    mapping = {mod: {norm(d) for d in dists} for mod, dists in packages_distributions().items()}
    for mod, dist in EXTRA_MODULES.items():
        mapping.setdefault(mod, set()).add(norm(dist))
    return mapping


def _kit_sources() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def _is_adapter(path: Path) -> bool:
    parts = set(path.relative_to(ROOT).with_suffix("").parts)
    return bool(parts & EXTRA_ADAPTER_SEGMENTS)


def _imports(tree: ast.AST):
    """Yield (top-level module name, lazy?) for absolute imports not guarded by try/except ImportError."""

    def guarded(handlers) -> bool:
        names = set()
        for h in handlers:
            if h.type is None:
                return True
            for node in ast.walk(h.type):
                if isinstance(node, ast.Name):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute):
                    names.add(node.attr)
        return bool(names & {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})

    def visit(node: ast.AST, lazy: bool, optional: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import) and not optional:
                for alias in child.names:
                    yield alias.name.split(".")[0], lazy
            elif isinstance(child, ast.ImportFrom) and not optional:
                if child.level == 0 and child.module:
                    yield child.module.split(".")[0], lazy
            elif isinstance(child, ast.Try):
                opt = optional or guarded(child.handlers)
                for stmt in child.body:
                    yield from visit(ast.Module(body=[stmt], type_ignores=[]), lazy, opt)
                for part in (child.handlers, child.orelse, child.finalbody):
                    for stmt in part:
                        yield from visit(ast.Module(body=[stmt], type_ignores=[]), lazy, optional)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from visit(child, True, optional)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.orelse:
                    yield from visit(ast.Module(body=[stmt], type_ignores=[]), lazy, optional)
            else:
                yield from visit(child, lazy, optional)

    yield from visit(tree, False, False)


def _is_type_checking(test: ast.AST) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@pytest.mark.skipif(not PKG.is_dir(), reason="crlqas_kit/ not written yet")
def test_kit_imports_only_pinned_distributions():
    """Every third-party import in crlqas_kit/ is a pinned runtime dep (lazy imports may use extras)."""
    runtime = set(runtime_pins())
    extras = {d for pins in extras_pins().values() for d in pins}
    mod2dist = _module_to_dists()
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    problems = []
    for src in _kit_sources():
        rel = src.relative_to(ROOT)
        tree = ast.parse(src.read_text(), filename=str(rel))
        for mod, lazy in _imports(tree):
            if mod in stdlib or mod == "crlqas_kit":
                continue
            dists = mod2dist.get(mod, set())
            if dists & runtime:
                continue
            if dists & extras and (lazy or _is_adapter(src)):
                continue
            if dists & extras:
                problems.append(
                    f"{rel}: module-level `import {mod}` needs extra-only {sorted(dists)}; "
                    "import it inside the function that needs it (extras are never needed at run time)"
                )
            else:
                problems.append(
                    f"{rel}: imports {mod!r} (distribution {sorted(dists) or 'unknown'}), which is not an "
                    "exact runtime pin: add it to pyproject.toml dependencies and both environment.yml files"
                )
    assert not problems, "\n".join(problems)


BLOCKER = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys, traceback
    blocked, adapters = set(json.loads(sys.argv[1])), set(json.loads(sys.argv[2]))

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in blocked:
                raise ModuleNotFoundError(f"extra-only module {name!r} blocked", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    import crlqas_kit
    failures = []
    for info in pkgutil.walk_packages(crlqas_kit.__path__, "crlqas_kit."):
        parts = set(info.name.split("."))
        if "__main__" in parts or parts & adapters:
            continue
        try:
            importlib.import_module(info.name)
        except Exception:
            failures.append(info.name + ":\\n" + traceback.format_exc(limit=-4))
    print("\\n".join(failures))
    sys.exit(1 if failures else 0)
    """
)


@pytest.mark.skipif(not PKG.is_dir(), reason="crlqas_kit/ not written yet")
def test_kit_imports_without_extras():
    """Import every crlqas_kit module with all extras' modules blocked (adapters excepted)."""
    import json

    blocked = sorted(EXTRA_MODULES)
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER, json.dumps(blocked), json.dumps(sorted(EXTRA_ADAPTER_SEGMENTS))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, (
        "crlqas_kit modules failed to import without the optional extras "
        f"(blocked: {blocked}):\n{proc.stdout}\n{proc.stderr[-4000:]}"
    )


# ----------------------------------------------------------------------------- the Binder link
BADGE = re.compile(r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\((?P<url>[^)\s]*)\)")


def test_binder_link_has_one_home():
    """[project.urls] Binder is the one place the link lives; README's badge repeats it exactly."""
    url = load_pyproject()["project"].get("urls", {}).get("Binder")
    assert url, "pyproject.toml needs [project.urls] Binder (the Binder link)"
    assert re.fullmatch(
        r"https://mybinder\.org/v2/gh/[A-Za-z0-9_-]+/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+"
        r"\?urlpath=lab/tree/notebooks/00_index\.ipynb",
        url,
    ), f"[project.urls] Binder is not a mybinder.org link that opens the index notebook: {url}"
    badges = BADGE.findall(README.read_text(encoding="utf-8"))
    assert badges == [url], f"README's Binder badge must link {url}, it links {badges}"


def test_binder_url_task_rewrites_both_places(tmp_path):
    for name in ("tasks.py", "pyproject.toml", "README.md"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    proc = subprocess.run(
        [sys.executable, "tasks.py", "binder-url", "alice/crlqas_kit", "dev"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    url = "https://mybinder.org/v2/gh/alice/crlqas_kit/dev?urlpath=lab/tree/notebooks/00_index.ipynb"
    with (tmp_path / "pyproject.toml").open("rb") as fh:
        assert tomllib.load(fh)["project"]["urls"]["Binder"] == url
    assert BADGE.findall((tmp_path / "README.md").read_text(encoding="utf-8")) == [url]
    bad = subprocess.run(
        [sys.executable, "tasks.py", "binder-url", "not a slug"], cwd=tmp_path, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "usage" in bad.stdout


def test_index_tells_users_to_shut_down_kernels():
    """Binder caps a session at 1-2 GB and JupyterLab keeps closed tabs' kernels alive."""
    import json

    nb = json.loads((ROOT / "notebooks" / "00_index.ipynb").read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "Shut Down Kernel" in text and "Running Terminals and Kernels" in text and "1-2 GB" in text
