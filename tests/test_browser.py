"""A real browser opens the index notebook in JupyterLab, runs every cell and sees a widget and a circuit.

The test starts its own JupyterLab on 127.0.0.1 (a free port, no token, a temporary copy of
``notebooks/`` so autosave never touches the repository), drives Debian's ``/usr/bin/chromium``
through Playwright's Python package, aborts every request that is not to the loopback server, and
stops the server (and its kernels) at the end. It saves ``tests/artifacts/browser_00_index.png``.
A missing Chromium or Playwright is a failure, not a skip: ``python3 tasks.py test`` (so
``.ci/run``) installs Chromium when run as root.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SCREENSHOT = ARTIFACTS / "browser_00_index.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 90  # s
RUN_ALL_TIMEOUT = 240  # s, the notebook itself runs in ~15 s (FAST) plus kernel start and compiles
NOTEBOOK = "notebooks/00_index.ipynb"
STOP_NOTEBOOK = "notebooks/stop_search.ipynb"  # written into the temporary copy only
STOP_WITHIN = 3.0  # s from the click to "stopped" in the page: a chunk (< 0.2 s) plus browser round trips


def _write_stop_notebook(path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from crlqas_kit.viz.widgets import SearchPanel\n"
            'panel = SearchPanel("H2-2q", episodes=100_000)\n'
            "panel.show()"
        )
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _stop_button_stops_the_search(page, server) -> None:
    """The search panel's run button starts a search in the background (the kernel stays idle);
    its stop button ends it within a few seconds of the click."""
    from playwright.sync_api import Error as PlaywrightError

    page.goto(f"{server.url}/lab/tree/{STOP_NOTEBOOK}?reset", wait_until="domcontentloaded")
    page.wait_for_function(JS_NOTEBOOK_READY, timeout=120_000, polling=500)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    run = page.locator(".jp-Notebook .widget-button", has_text="run").first
    run.wait_for(state="visible", timeout=60_000)
    run.click()
    try:  # the first chunk (compile included) is done and the progress line shows episodes
        page.get_by_text("best error").first.wait_for(timeout=180_000)
    except PlaywrightError:
        pytest.fail(f"the search panel never reported progress.\n{_page_text(page)}")
    assert page.evaluate(JS_STATE)["kernel"] == "idle", "the running search blocks the kernel"
    stop = page.locator(".jp-Notebook .widget-button", has_text="stop").first
    t0 = time.monotonic()
    stop.click()
    try:
        page.get_by_text("stopped:").first.wait_for(timeout=30_000)
    except PlaywrightError:
        pytest.fail(f"stop did not stop the search.\n{_page_text(page)}")
    took = time.monotonic() - t0
    assert took < STOP_WITHIN, f"stop took {took:.1f} s"
    print(f"stop honoured in {took:.2f} s")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "(no server log)"


class JupyterLab:
    """A JupyterLab server on 127.0.0.1 in its own process group, stopped by :meth:`stop`."""

    def __init__(
        self,
        root: Path,
        log: Path,
        *,
        launcher: tuple[str, ...] = (sys.executable, "-m", "jupyter"),
        env: dict[str, str] | None = None,
    ) -> None:
        """``launcher`` runs ``jupyter`` (tests/test_binder.py: ``binder/start <venv>/bin/jupyter``);
        ``env`` replaces the default environment (this process's, with CI=true: the notebooks' FAST mode)."""
        self.root, self.log_path, self.port = root, log, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = root / ".jupyter-settings"
        if env is None:
            env = {**os.environ, "CI": "true", "JAX_PLATFORMS": "cpu"}
        env = {
            **env,
            "JUPYTERLAB_SETTINGS_DIR": str(settings / "user-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(settings / "workspaces"),
            "JUPYTER_CONFIG_DIR": str(settings / "config"),
            "JUPYTER_RUNTIME_DIR": str(settings / "runtime"),
        }
        cmd = [
            *launcher,
            "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",  # no package-index look-ups
            "--ServerApp.terminals_enabled=False",
            "--ServerApp.allow_root=True",  # CI runs as root
        ]
        news = settings / "user-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True, exist_ok=True)
        news.write_text('{"fetchNews": "false"}\n')  # no news pop-up (and no news fetch) in the screenshot
        self.log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {self.proc.returncode}:\n{_log_tail(self.log_path)}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=5) as r:
                    if r.status == 200 and json.load(r) is not None:
                        return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.5)
        pytest.fail(
            f"JupyterLab did not answer on {self.url} within {SERVER_START_TIMEOUT} s:\n{_log_tail(self.log_path)}"
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the server and the kernels it started
                self.proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


# JavaScript run in the page (JupyterLab exposes its app as window.jupyterapp with expose_app_in_browser).
JS_NOTEBOOK_READY = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  if (!w || !w.content || !w.sessionContext) return false;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && w.content.widgets.length > 0;
}"""
JS_STATE = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = w.content.widgets.map(c => c.model).filter(m => m.type === 'code');
  const errors = [];
  for (const m of cells) {
    for (const o of m.outputs.toJSON()) {
      if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue);
    }
  }
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  return {
    total: cells.length,
    done: cells.filter(m => m.executionCount !== null).length,
    errors: errors,
    kernel: kernel ? kernel.status : 'none',
  };
}"""


def _page_text(page) -> str:
    try:
        return page.inner_text("body", timeout=5000)[-3000:]
    except Exception as err:  # the page may be gone; the failure message must still be useful
        return f"(page text unavailable: {err})"


def test_index_notebook_runs_in_chromium(tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (python3 tasks.py test does it as root)")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        pytest.fail(
            f"Playwright's Python package is missing ({err}); install the test extras: pip install -e '.[test]'"
        )

    workdir = tmp_path / "lab"
    shutil.copytree(ROOT / "notebooks", workdir / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    _write_stop_notebook(workdir / STOP_NOTEBOOK)
    ARTIFACTS.mkdir(exist_ok=True)
    if not (ARTIFACTS / ".gitignore").exists():
        (ARTIFACTS / ".gitignore").write_text("# test outputs (screenshots, timings): never committed\n*\n")
    server = JupyterLab(workdir, tmp_path / "jupyterlab.log")
    blocked: list[str] = []
    try:
        server.wait_ready()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 2400})
                page.set_default_timeout(60_000)

                def only_loopback(route):
                    host = urlparse(route.request.url).hostname
                    if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
                        route.continue_()
                    else:
                        blocked.append(route.request.url)
                        route.abort()

                page.route("**/*", only_loopback)
                console_errors: list[str] = []
                page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))

                page.goto(f"{server.url}/lab/tree/{NOTEBOOK}?reset", wait_until="domcontentloaded")
                try:
                    page.wait_for_function(JS_NOTEBOOK_READY, timeout=120_000, polling=500)
                except PlaywrightError:
                    pytest.fail(
                        f"the notebook or its kernel did not become ready.\npage text:\n{_page_text(page)}\n"
                        f"server log:\n{_log_tail(server.log_path)}"
                    )

                page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
                deadline, state = time.monotonic() + RUN_ALL_TIMEOUT, {}
                while time.monotonic() < deadline:
                    state = page.evaluate(JS_STATE)
                    if state["errors"] or (state["done"] == state["total"] and state["kernel"] == "idle"):
                        break
                    time.sleep(1)
                assert not state.get("errors"), f"cells raised: {state['errors']}\npage text:\n{_page_text(page)}"
                assert state.get("done") == state.get("total"), (
                    f"only {state.get('done')}/{state.get('total')} cells finished within {RUN_ALL_TIMEOUT} s "
                    f"(kernel {state.get('kernel')}).\npage text:\n{_page_text(page)}\n"
                    f"server log:\n{_log_tail(server.log_path)}"
                )

                # a widget rendered: the circuit builder's gate buttons, not "Loading widget..." or an error
                buttons = page.locator(".jp-Notebook .jupyter-widgets .widget-button")
                try:
                    buttons.first.wait_for(state="visible", timeout=30_000)
                except PlaywrightError:
                    pytest.fail(
                        f"no rendered ipywidgets button in the notebook.\nconsole errors: {console_errors[-5:]}\n"
                        f"page text:\n{_page_text(page)}"
                    )
                labels = buttons.all_inner_texts()
                assert any(t.strip() == "RY(0)" for t in labels), f"gate buttons rendered: {labels}"

                # a circuit drawing rendered: a matplotlib PNG in an output area, decoded by the browser
                images = page.locator(".jp-Notebook .jp-OutputArea-output img:not(.jupyter-widgets img)")
                all_imgs = page.eval_on_selector_all(
                    "img", "els => els.map(e => (e.parentElement.className || '') + ' | ' + e.src.slice(0, 30))"
                )
                assert images.count() >= 1, f"no image output rendered (images: {all_imgs})\n{_page_text(page)}"
                widths = [
                    images.nth(i).evaluate("img => img.complete ? img.naturalWidth : 0") for i in range(images.count())
                ]
                assert max(widths) > 50, f"output images did not decode (natural widths {widths})"

                buttons.first.scroll_into_view_if_needed()
                page.wait_for_timeout(500)
                page.screenshot(path=str(SCREENSHOT))
                print(f"screenshot: {SCREENSHOT}")

                # the widget talks to the kernel: finishing the circuit ends the episode with success
                page.locator(".jp-Notebook .widget-button", has_text="CX(0,1)").first.click()
                try:
                    page.get_by_text("episode over (success)").first.wait_for(timeout=60_000)
                except PlaywrightError:
                    pytest.fail(f"clicking CX(0,1) did not update the circuit builder.\n{_page_text(page)}")

                _stop_button_stops_the_search(page, server)
            finally:
                browser.close()
    finally:
        server.stop()
    assert server.proc.poll() is not None, "JupyterLab is still running"
    print(f"non-loopback requests aborted: {len(blocked)} {blocked[:5]}")
