#!/usr/bin/env python3
"""One-command setup and tasks for crlqas_kit (stdlib only: needs nothing but Python 3.11+ and pip).

Usage:
    python3 tasks.py lab [ARGS...]      # .venv + `pip install -e ".[notebooks]"`, then JupyterLab at
                                        # notebooks/00_index.ipynb (ARGS go to `jupyter lab`)
    python3 tasks.py demo [ARGS...]     # .venv + `pip install -e .`, then `crlqas demo --out runs/demo ARGS`
    python3 tasks.py test [ARGS...]     # .venv + `pip install -e ".[test,compare,notebooks,scale]"`, ruff, pytest
    python3 tasks.py setup [EXTRAS]     # only create/refresh .venv (EXTRAS like "test,compare")
    python3 tasks.py binder-url OWNER/REPO [BRANCH]
                                        # point the Binder link ([project.urls] and README's badge) at a fork

Options (before the task name):
    --dry-run     print what would run, run nothing
    --reinstall   ignore the install stamp and reinstall

The install is skipped when .venv/.crlqas-install-stamp already records the sha256 of
pyproject.toml + the requested extras (or a superset of them).
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYPROJECT = ROOT / "pyproject.toml"
STAMP = VENV / ".crlqas-install-stamp"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
EXE = ".exe" if os.name == "nt" else ""
VENV_PY = BIN / f"python{EXE}"

#: test: the suite's tools; compare: the cross-checks; notebooks: JupyterLab for the browser test;
#: scale: Ray, for tests/test_sweep.py (a real local cluster)
TEST_EXTRAS = ("test", "compare", "notebooks", "scale")
LAB_EXTRAS = ("notebooks",)
INDEX_NOTEBOOK = "notebooks/00_index.ipynb"
README = ROOT / "README.md"
LINT_PATHS = ("crlqas_kit", "tests")
DEMO_OUT = "runs/demo"

DRY_RUN = False


def say(msg: str) -> None:
    print(f"[tasks] {msg}", flush=True)


def run(cmd: list[str], *, check: bool = True) -> int:
    """Print and run a command from the repo root; return its exit code."""
    say("$ " + " ".join(shlex.quote(str(c)) for c in cmd))
    if DRY_RUN:
        return 0
    try:
        rc = subprocess.call([str(c) for c in cmd], cwd=ROOT)
    except FileNotFoundError as exc:
        say(f"cannot run {cmd[0]}: {exc}")
        rc = 127
    except KeyboardInterrupt:
        rc = 130
    if check and rc != 0:
        say(f"command failed with exit code {rc}")
        sys.exit(rc)
    return rc


def _extras_key(extras: tuple[str, ...]) -> str:
    return ",".join(sorted(set(extras)))


def _stamp_hash(pyproject_bytes: bytes, extras: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    h.update(pyproject_bytes)
    h.update(b"\0extras=" + _extras_key(extras).encode())
    return h.hexdigest()


def _stamp_lines(pyproject_bytes: bytes) -> list[tuple[str, tuple[str, ...]]]:
    """Stamp entries ("<sha256> <extras>") that are still valid for the current pyproject.toml."""
    if not STAMP.exists():
        return []
    valid = []
    for line in STAMP.read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        digest = parts[0]
        extras = tuple(e for e in (parts[1] if len(parts) > 1 else "").split(",") if e)
        if digest == _stamp_hash(pyproject_bytes, extras):
            valid.append((digest, extras))
    return valid


def _venv_python_works() -> bool:
    if not VENV_PY.exists():
        return False
    try:
        out = subprocess.run(
            [str(VENV_PY), "-c", "import sys; print(sys.version_info[:2] >= (3, 11))"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "True"


def ensure_venv(extras: tuple[str, ...] = (), *, reinstall: bool = False) -> None:
    """Create .venv if needed and install the package (editable) with `extras`, unless stamped."""
    if not PYPROJECT.exists():
        say(f"no pyproject.toml in {ROOT}")
        sys.exit(2)
    if not _venv_python_works():
        if VENV.exists():
            say(f"{VENV_PY} is missing or broken (or older than Python 3.11): recreating .venv")
            run([sys.executable, "-m", "venv", "--clear", VENV])
        else:
            say("creating .venv")
            run([sys.executable, "-m", "venv", VENV])
    else:
        say(f"using existing {VENV.relative_to(ROOT)}")

    pyproject_bytes = PYPROJECT.read_bytes()
    wanted = set(extras)
    valid = [] if reinstall else _stamp_lines(pyproject_bytes)
    if any(wanted <= set(have) for _, have in valid):
        say(f"install is up to date (stamp matches pyproject.toml + extras [{_extras_key(extras)}])")
        return

    spec = f".[{','.join(dict.fromkeys(extras))}]" if extras else "."
    t0 = time.monotonic()
    run([VENV_PY, "-m", "pip", "install", "--upgrade", "pip"])
    run([VENV_PY, "-m", "pip", "install", "-e", spec])
    say(f"install took {time.monotonic() - t0:.0f} s")
    if DRY_RUN:
        return
    entries = {d: e for d, e in valid}
    entries[_stamp_hash(pyproject_bytes, extras)] = tuple(sorted(wanted))
    STAMP.write_text("".join(f"{d} {','.join(e)}\n" for d, e in entries.items()))


def task_demo(args: list[str], reinstall: bool) -> int:
    ensure_venv((), reinstall=reinstall)
    return run([BIN / f"crlqas{EXE}", "demo", "--out", DEMO_OUT, *args], check=False)


CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> None:
    """The browser test drives Debian's Chromium: install it when missing and we are root."""
    if CHROMIUM.exists() or os.name == "nt":
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        say("installing Debian's chromium for the browser test")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            say("$ " + " ".join(cmd))
            if not DRY_RUN and subprocess.call(cmd, cwd=ROOT, env=env) != 0:
                say("could not install chromium: tests/test_browser.py will fail")
                return
    else:
        say(f"{CHROMIUM} is missing and this is not root: install `chromium` (Debian) for tests/test_browser.py")


def task_test(args: list[str], reinstall: bool) -> int:
    ensure_venv(TEST_EXTRAS, reinstall=reinstall)
    ensure_chromium()
    lint_paths = [p for p in LINT_PATHS if (ROOT / p).exists()]
    missing = sorted(set(LINT_PATHS) - set(lint_paths))
    if missing:
        say(f"warning: not linting missing path(s): {', '.join(missing)}")
    lint_rc = 0
    if lint_paths:
        lint_rc = run([VENV_PY, "-m", "ruff", "check", *lint_paths], check=False)
        if lint_rc != 0:
            say(f"ruff failed (exit {lint_rc}); running pytest anyway, the task will still fail")
    rc = run([VENV_PY, "-m", "pytest", "-q", *args], check=False)
    if rc == 5:
        say("pytest collected NO tests (exit 5): treating as failure, 'ran no test' must never pass")
        return 1
    if rc != 0:
        say(f"pytest failed (exit {rc})")
        return rc
    if lint_rc != 0:
        say(f"tests passed but ruff failed (exit {lint_rc}): fix with `.venv/bin/python -m ruff check --fix`")
        return lint_rc
    return 0


def task_setup(args: list[str], reinstall: bool) -> int:
    extras = tuple(e for a in args for e in a.split(",") if e)
    ensure_venv(extras, reinstall=reinstall)
    return 0


def task_lab(args: list[str], reinstall: bool) -> int:
    """JupyterLab (the notebooks extra) on the repository, opened at the index notebook."""
    ensure_venv(LAB_EXTRAS, reinstall=reinstall)
    # root_dir: the repository, as on Binder (a file argument alone would make notebooks/ the root)
    cmd = [str(BIN / f"jupyter{EXE}"), "lab", INDEX_NOTEBOOK, f"--ServerApp.root_dir={ROOT}", *args]
    say(f"JupyterLab opens {INDEX_NOTEBOOK} in your browser; Ctrl-C (then y) stops it and its kernels")
    if os.name == "nt" or DRY_RUN:
        return run(cmd, check=False)
    say("$ " + " ".join(shlex.quote(c) for c in cmd))
    os.chdir(ROOT)
    os.execv(cmd[0], cmd)  # JupyterLab takes over this process: Ctrl-C is its own (a clean shutdown)


BINDER_URL = "https://mybinder.org/v2/gh/{slug}/{branch}?urlpath=lab/tree/" + INDEX_NOTEBOOK
BINDER_URL_LINE = re.compile(r'^Binder = "(?P<url>[^"]*)"$', re.M)
BADGE = re.compile(r"(\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\()(?P<url>[^)\s]*)(\))")
SLUG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$")


def task_binder_url(args: list[str], reinstall: bool) -> int:
    """Rewrite [project.urls] Binder in pyproject.toml and README's badge for OWNER/REPO (and BRANCH)."""
    if not 1 <= len(args) <= 2 or not SLUG.match(args[0]):
        say("usage: python3 tasks.py binder-url OWNER/REPO [BRANCH]   (e.g. alice/crlqas_kit main)")
        return 2
    branch = args[1] if len(args) > 1 else "main"
    if not re.fullmatch(r"[A-Za-z0-9._-]+", branch):
        say(f"branch {branch!r}: use a plain branch name (letters, digits, '.', '_', '-')")
        return 2
    url = BINDER_URL.format(slug=args[0], branch=branch)
    for path, pattern, template in (
        (PYPROJECT, BINDER_URL_LINE, 'Binder = "{url}"'),
        (README, BADGE, r"\g<1>{url}\g<3>"),
    ):
        text = path.read_text(encoding="utf-8")
        new, n = pattern.subn(template.format(url=url), text)
        if n != 1:
            say(f"{path.name}: expected one Binder link, found {n}; nothing changed")
            return 1
        if not DRY_RUN:
            path.write_text(new, encoding="utf-8")
        say(f"{path.name}: Binder link -> {url}")
    return 0


TASKS = {
    "lab": task_lab,
    "demo": task_demo,
    "test": task_test,
    "setup": task_setup,
    "binder-url": task_binder_url,
}


def main(argv: list[str]) -> int:
    global DRY_RUN
    if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py may be started by an older python3
        say(f"Python >= 3.11 is required, this is {sys.version.split()[0]} ({sys.executable})")
        return 2
    reinstall = False
    while argv and argv[0].startswith("-"):
        opt = argv.pop(0)
        if opt == "--dry-run":
            DRY_RUN = True
        elif opt == "--reinstall":
            reinstall = True
        elif opt in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            say(f"unknown option {opt!r}")
            print(__doc__)
            return 2
    if not argv or argv[0] not in TASKS:
        print(__doc__)
        return 0 if not argv or argv[0] == "help" else 2
    name, rest = argv[0], argv[1:]
    return TASKS[name](rest, reinstall)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
