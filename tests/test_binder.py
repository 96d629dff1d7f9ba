"""The Binder build, reproduced as closely as this machine allows, then used in a real browser.

mybinder.org builds the image with repo2docker, which (conda build pack, ``binder/environment.yml``
asks for python=3.11):

1. installs its frozen base environment for Python 3.11 (``environment.py-3.11-linux-64.lock``), which
   holds the Jupyter stack: JupyterLab 4.4, Notebook 7.4, ipykernel, IPython, ipywidgets and its lab
   extension, jupyter_server, JupyterHub's single-user server, jupyterlab-myst, ...;
2. installs ``binder/environment.yml`` into that same environment; its ``pip:`` list goes to
   ``python -m pip install -r <list> --no-input`` (what micromamba runs for a pip block);
3. runs ``binder/postBuild`` from the repository (it installs the kit itself, ``--no-deps``);
4. starts the server through ``binder/start`` (``binder/start jupyter ...``).

This test does the same without conda or Docker: a fresh venv (Python 3.11, like the base) gets the
base's Python packages at their locked versions from ``tests/binder/repo2docker-py3.11-base.txt`` by
pip, then step 2 and 3 as above on a copy of the repository. It asserts ``pip check`` is clean and that
no package of the base changed version (binder/ must not replace Binder's Jupyter stack), starts
JupyterLab through ``binder/start`` with that venv on PATH, as Binder does, opens
``notebooks/00_index.ipynb`` in headless Chromium, runs it (full mode: CI is unset, as on Binder),
checks that the circuit-builder widget renders (its buttons, not "Loading widget...") and that a click
reaches the kernel, and that the kernel wrote the persistent compilation cache.

What it cannot reproduce: conda's builds of the same versions (pip wheels here), the container, the
memory limit. Installs go through pip's normal cache (left on: repeated runs download little where
the index's responses may be cached). Wall time on the 2-core machine: ~55 s when it is quiet
(installs ~35 s), ~2.5 min while other jobs load both cores (step times are printed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    JS_NOTEBOOK_READY,
    JS_STATE,
    JupyterLab,
    _log_tail,
    _page_text,
)
from test_pins import REPO2DOCKER_BASE, mini_yaml, norm, repo2docker_base_pins

pytestmark = [pytest.mark.binder, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SCREENSHOT = ARTIFACTS / "binder_00_index.png"
NOTEBOOK = "notebooks/00_index.ipynb"
INSTALL_TIMEOUT = 900  # s per pip call; a warm cache needs ~30-50 s for the biggest
RUN_ALL_TIMEOUT = 300  # s; 00_index runs in ~15 s plus kernel start and compiles
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "runs", "artifacts", "__pycache__", ".ipynb_checkpoints", "*.egg-info", "build"
)


def _python311() -> str:
    """An interpreter for the venv: repo2docker's base is Python 3.11."""
    if sys.version_info[:2] == (3, 11):
        return getattr(sys, "_base_executable", sys.executable)
    found = shutil.which("python3.11")
    if not found:
        pytest.fail(f"the Binder build test needs Python 3.11 (Binder's), this is {sys.version.split()[0]}")
    return found


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], what: str, timeout: float = INSTALL_TIMEOUT) -> str:
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"{what} did not finish within {timeout:.0f} s:\n{str(err.stdout)[-3000:]}")
    print(f"{what}: {time.monotonic() - t0:.0f} s")
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def _freeze(python: Path, env: dict[str, str], cwd: Path) -> dict[str, str]:
    out = _run([python, "-m", "pip", "list", "--format=freeze"], cwd=cwd, env=env, what="pip list", timeout=120)
    pins = {}
    for line in out.splitlines():
        name, _, version = line.partition("==")
        if version:
            pins[norm(name)] = version.strip()
    return pins


def _copy_repo(dest: Path) -> None:
    """The files a clone would have (tracked and new, not ignored), else the tree minus local state."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        shutil.copytree(ROOT, dest, ignore=COPY_IGNORE)
        return
    for rel in filter(None, listed.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def binder_pip_list() -> list[str]:
    doc = mini_yaml((ROOT / "binder" / "environment.yml").read_text())
    blocks = [d["pip"] for d in doc["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(blocks) == 1, "binder/environment.yml needs exactly one pip: block"
    return blocks[0]


def test_binder_build_serves_a_working_widget(tmp_path):
    t_start = time.monotonic()
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (python3 tasks.py test does it as root)")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    repo, venv, home = tmp_path / "repo", tmp_path / "env", tmp_path / "home"
    repo.mkdir()
    home.mkdir()
    _copy_repo(repo)
    for script in ("postBuild", "start"):
        assert os.access(repo / "binder" / script, os.X_OK), f"binder/{script} lost its execute bit"

    # The build environment: the conda env's bin first on PATH (as repo2docker's image has it); nothing
    # from this test run leaks in (PYTHONPATH, the kit's test-only switches, CI=true).
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "CI", "CRLQAS_NO_COMPILE_CACHE", "JUPYTER_PATH"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["XDG_CACHE_HOME"] = str(home / ".cache")  # the kit's compilation cache lands here, not in ~
    env["JUPYTER_DATA_DIR"] = str(home / ".local" / "share" / "jupyter")  # no user kernelspecs from ~
    env["IPYTHONDIR"] = str(home / ".ipython")  # no user IPython profile
    if "PIP_CACHE_DIR" not in os.environ:
        env["PIP_CACHE_DIR"] = str(Path.home() / ".cache" / "pip")  # pip's own cache, shared between runs
    python = venv / "bin" / "python"

    # 1. repo2docker's base environment for Python 3.11
    _run([_python311(), "-m", "venv", venv], cwd=tmp_path, env=env, what="venv")
    base = repo2docker_base_pins()
    _run([python, "-m", "pip", "install", "--no-input", f"pip=={base['pip']}"], cwd=tmp_path, env=env, what="pip")
    _run(
        [python, "-m", "pip", "install", "--no-input", "-r", REPO2DOCKER_BASE],
        cwd=tmp_path,
        env=env,
        what="base environment",
    )
    before = _freeze(python, env, tmp_path)
    missing = {n: (v, before.get(n)) for n, v in base.items() if before.get(n) != v}
    assert not missing, f"the base environment did not install as locked: {missing}"

    # 2. binder/environment.yml's pip block, as micromamba runs it
    spec = tmp_path / "binder-pip.txt"
    spec.write_text("\n".join(binder_pip_list()) + "\n")
    _run(
        [python, "-m", "pip", "install", "-r", spec, "--no-input"],
        cwd=repo / "binder",
        env=env,
        what="binder/environment.yml pip",
    )
    # 3. binder/postBuild from the repository
    _run([repo / "binder" / "postBuild"], cwd=repo, env=env, what="binder/postBuild")

    check = subprocess.run([python, "-m", "pip", "check"], env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, f"pip check after the Binder installs:\n{check.stdout}{check.stderr}"
    after = _freeze(python, env, tmp_path)
    replaced = {n: (v, after.get(n)) for n, v in before.items() if after.get(n) != v}
    assert not replaced, f"binder/ replaced packages of repo2docker's base (before, after): {replaced}"
    for name in ("jupyterlab", "notebook", "ipykernel", "ipython", "ipywidgets", "jupyterlab-widgets"):
        assert after[name] == base[name], name
    assert "crlqas-kit" in after, "binder/postBuild did not install the kit"
    print(f"added by binder/: {sorted(set(after) - set(before))}")

    # 4. JupyterLab through binder/start, the way repo2docker's entrypoint runs the server command
    launcher = (str(repo / "binder" / "start"), str(venv / "bin" / "jupyter"))
    server = JupyterLab(repo, tmp_path / "jupyterlab.log", launcher=launcher, env=env)
    ARTIFACTS.mkdir(exist_ok=True)
    if not (ARTIFACTS / ".gitignore").exists():
        (ARTIFACTS / ".gitignore").write_text("# test outputs (screenshots, timings): never committed\n*\n")
    t_lab = time.monotonic()
    try:
        server.wait_ready()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 2000})
                page.set_default_timeout(60_000)

                def only_loopback(route):
                    host = urlparse(route.request.url).hostname
                    if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
                        route.continue_()
                    else:
                        route.abort()

                page.route("**/*", only_loopback)
                console_errors: list[str] = []
                page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
                page.goto(f"{server.url}/lab/tree/{NOTEBOOK}?reset", wait_until="domcontentloaded")
                try:
                    page.wait_for_function(JS_NOTEBOOK_READY, timeout=120_000, polling=500)
                except PlaywrightError:
                    pytest.fail(
                        f"00_index or its kernel did not become ready.\npage text:\n{_page_text(page)}\n"
                        f"server log:\n{_log_tail(server.log_path)}"
                    )
                page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
                deadline, state = time.monotonic() + RUN_ALL_TIMEOUT, {}
                while time.monotonic() < deadline:
                    state = page.evaluate(JS_STATE)
                    if state["errors"] or (state["done"] == state["total"] and state["kernel"] == "idle"):
                        break
                    time.sleep(1)
                assert not state.get("errors"), f"cells raised: {state['errors']}\n{_page_text(page)}"
                assert state.get("done") == state.get("total"), (
                    f"only {state.get('done')}/{state.get('total')} cells ran within {RUN_ALL_TIMEOUT} s.\n"
                    f"{_page_text(page)}\nserver log:\n{_log_tail(server.log_path)}"
                )

                # the widget renders (the base's lab extension talks to the kit's ipywidgets) ...
                buttons = page.locator(".jp-Notebook .jupyter-widgets .widget-button")
                try:
                    buttons.first.wait_for(state="visible", timeout=30_000)
                except PlaywrightError:
                    pytest.fail(
                        f"no rendered widget button.\nconsole errors: {console_errors[-5:]}\n{_page_text(page)}"
                    )
                labels = [t.strip() for t in buttons.all_inner_texts()]
                assert "RY(0)" in labels and "CX(0,1)" in labels, f"gate buttons rendered: {labels}"
                body = _page_text(page)
                assert "Loading widget" not in body and "Error displaying widget" not in body, body
                buttons.first.scroll_into_view_if_needed()
                page.screenshot(path=str(SCREENSHOT))
                # ... and works: a click runs the kernel-side callback, which ends the episode
                page.locator(".jp-Notebook .widget-button", has_text="CX(0,1)").first.click()
                try:
                    page.get_by_text("episode over (success)").first.wait_for(timeout=60_000)
                except PlaywrightError:
                    pytest.fail(f"clicking CX(0,1) did not update the circuit builder.\n{_page_text(page)}")
            finally:
                browser.close()
    finally:
        server.stop()
    assert server.proc.poll() is not None, "JupyterLab is still running"

    log = server.log_path.read_text(errors="replace")
    running = f"Jupyter Server {base['jupyter-server']} is running"
    assert running in log, f"the server that ran is not the base's ({running!r} not in its log):\n{log[-2000:]}"
    cache = home / ".cache" / "crlqas_kit" / "jax"
    assert cache.is_dir() and any(cache.iterdir()), "the kernel did not use the persistent compilation cache"
    print(
        f"Binder build test: {time.monotonic() - t_start:.0f} s in all, JupyterLab + browser "
        f"{time.monotonic() - t_lab:.0f} s; screenshot {SCREENSHOT}"
    )
