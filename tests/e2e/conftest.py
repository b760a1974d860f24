"""Fixtures for the end-to-end suite: a JupyterLab server and a headless Chromium driven by Playwright.

The server runs on 127.0.0.1 on a free port with a random token (authentication stays on), in quick
mode, with autosave off so that running a lesson in the browser never rewrites the notebook files.
It keeps its notebook trust (signatures and key) in its own folder, so every committed lesson opens
untrusted, as it does for a learner fresh from git, until a test trusts it (``NotebookPage.trust``).
Chromium is Debian's (``/usr/bin/chromium``, or ``GAN_LESSONS_CHROMIUM``), with a fresh profile.
Both are stopped in teardown whatever happens. Without a browser or the ``playwright`` package the
suite is skipped with instructions, except under ``CI=true``, where that is a failure.
"""
import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INSTALL_HINT = ("install a browser for the end-to-end tests: `apt-get install chromium chromium-driver` "
                "and `pip install playwright` (no `playwright install` needed: the suite uses the system "
                "Chromium)")
# JupyterLab settings for the test server: no autosave (the lessons' files stay as they are), every
# cell kept in the page (no windowing), and no news pop-up over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
}


def _chromium_path() -> str | None:
    """The system Chromium: ``GAN_LESSONS_CHROMIUM``, ``/usr/bin/chromium``, or ``chromium`` on PATH."""
    for candidate in (os.environ.get("GAN_LESSONS_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _missing_browser(reason: str):
    """Skip the suite outside CI, fail it under CI=true."""
    message = f"{reason}; {INSTALL_HINT}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The path of the system Chromium (skips or fails the suite when there is none)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing_browser("the Python package `playwright` is not installed")
    path = _chromium_path()
    if path is None:
        _missing_browser("no Chromium found at /usr/bin/chromium or on PATH")
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots go: ``GAN_LESSONS_E2E_ARTIFACTS``, or ``artifacts/e2e`` (git-ignored)."""
    path = Path(os.environ.get("GAN_LESSONS_E2E_ARTIFACTS") or ROOT / "artifacts" / "e2e")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET", timeout: float = 10):
    request = urllib.request.Request(f"{base}{path}", method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read()
    return json.loads(body) if body else None


class LabServer:
    """A running JupyterLab: its base URL, token, and a way to shut down every kernel."""

    def __init__(self, base: str, token: str, log_path: Path):
        self.base, self.token, self.log_path = base, token, log_path

    def url(self, path: str, query: str = "") -> str:
        """The address of ``path`` (e.g. ``lab/tree/notebooks/x.ipynb``), with the token."""
        return f"{self.base}/{path}?{query + '&' if query else ''}token={self.token}"

    def api(self, path: str, method: str = "GET"):
        """Call the server's REST API (``path`` like ``/api/sessions``)."""
        return _api(self.base, self.token, path, method)

    def shutdown_kernels(self) -> None:
        """Delete every session and kernel, so one lesson's kernel does not slow the next."""
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", method="DELETE")
        for kernel in self.api("/api/kernels"):
            self.api(f"/api/kernels/{kernel['id']}", method="DELETE")

    def log(self) -> str:
        """The server's output so far (for failure messages)."""
        return self.log_path.read_text(errors="replace")[-4000:]


def _stop_process_tree(proc: subprocess.Popen) -> None:
    """Stop the server and any process it started (kernels), politely first."""
    try:
        import psutil
        children = psutil.Process(proc.pid).children(recursive=True)
    except Exception:  # psutil missing or the server already gone
        children = []
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    for child in children:
        try:
            child.kill()
        except Exception:  # already exited
            pass


@pytest.fixture(scope="module")
def lab_server(chromium_executable, tmp_path_factory):
    """Start JupyterLab for a test module (quick mode, random token, free port) and stop it after."""
    work = tmp_path_factory.mktemp("jupyter")
    settings_dir = work / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ, GAN_LESSONS_QUICK="1", JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"), JUPYTER_RUNTIME_DIR=str(work / "runtime"))
    env.setdefault("GAN_LESSONS_CHECKPOINTS", str(work / "checkpoints"))
    env.pop("JUPYTER_TOKEN", None)
    port, token = _free_port(), secrets.token_hex(24)
    # A trust database and key of its own (the key written as nbformat writes one): the learner's
    # own are never read or changed.
    notary = {"db_file": str(work / "nbsignatures.db"), "secret_file": str(work / "notebook_secret")}
    Path(notary["secret_file"]).write_bytes(base64.encodebytes(os.urandom(1024)))
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={ROOT}", "--ServerApp.open_browser=False",
           *(f"--NotebookNotary.{name}={value}" for name, value in notary.items())]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = work / "server.log"
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    server = LabServer(base, token, log_path)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {proc.returncode}:\n{server.log()}")
            try:
                _api(base, token, "/api/status", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer within 120 s:\n{server.log()}")
                time.sleep(0.5)
        yield server
    finally:
        try:
            if proc.poll() is None:
                server.shutdown_kernels()
        except Exception:  # the server is stopped below anyway
            pass
        _stop_process_tree(proc)


@pytest.fixture(scope="module")
def browser_context(chromium_executable, tmp_path_factory):
    """Headless system Chromium with a fresh profile folder, closed after the module.

    Module scope, not session: Playwright's sync API keeps an asyncio loop running in this thread
    while it lives, which would break later tests that start a loop of their own."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    playwright = sync_playwright().start()
    context = None
    try:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_executable, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
        context.set_default_timeout(60_000)
        yield context
    finally:
        try:
            if context is not None:
                context.close()
        finally:
            playwright.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(request, browser_context, lab_server, artifacts_dir):
    """A new tab; on teardown it is closed (after a screenshot if the test failed) and every kernel
    shut down."""
    tab = browser_context.new_page()
    try:
        yield tab
    finally:
        try:
            report = getattr(request.node, "report_call", None)
            if report is not None and report.failed:
                name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
                tab.screenshot(path=str(artifacts_dir / f"FAILED_{name}.png"), full_page=True, timeout=30_000)
        except Exception:  # a screenshot is a help, never a second failure
            pass
        finally:
            try:
                tab.close()
            finally:
                lab_server.shutdown_kernels()


# JavaScript run in the page: the state of every code cell of the open notebook.
_CELLS_STATE_JS = """() => {
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  if (!nb) return null;
  const cells = [...nb.querySelectorAll('.jp-Cell.jp-CodeCell')];
  const prompts = cells.map(c => {
    const p = c.querySelector('.jp-InputArea-prompt');
    return p ? p.textContent.trim() : '';
  });
  const status = document.querySelector(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
  const dialog = document.querySelector('.jp-Dialog .jp-Dialog-header');
  // The first output, in cell order, that shows a traceback: JupyterLab renders a cell's error with
  // the stderr mime type; a traceback printed to stderr by a callback counts too.
  let error = null;
  cells.some((c, i) => [...c.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], '
      + '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')].some(out => {
    const text = out.innerText || '';  // read only for stderr and error outputs: it costs a layout
    if (out.getAttribute('data-mime-type') === 'application/vnd.jupyter.error'
        || /Traceback \\(most recent call last\\)|^\\w*(Error|Exception): /m.test(text)) {
      error = {cell: i + 1, prompt: prompts[i], text: text.slice(-4000)};
      return true;
    }
    return false;
  }));
  return {n: cells.length, prompts: prompts, status: status ? status.getAttribute('data-status') : null,
          dialog: dialog ? dialog.textContent.trim() : null, error: error};
}"""

# JavaScript run in the page: every output of the open notebook that shows an error or a traceback.
_ERRORS_JS = """() => {
  const found = [];
  const outputs = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output');
  for (const out of outputs) {
    const mime = out.getAttribute('data-mime-type') || '';
    const text = out.innerText || '';
    if (mime === 'application/vnd.jupyter.error' || /Traceback \\(most recent call last\\)/.test(text)
        || /Error displaying widget|Error rendering output/.test(text)
        || /^\\w*(Error|Exception): /m.test(mime === 'application/vnd.jupyter.stderr' ? text : '')) {
      found.push(text.slice(0, 2000));
    }
  }
  return found;
}"""


def _numbered(prompt: str) -> bool:
    """True for an execution-count prompt like ``[12]:``."""
    return prompt.startswith("[") and prompt.rstrip(":").strip("[]").strip().isdigit()


# Dialog titles and kernel states that JupyterLab shows when the kernel has died.
KERNEL_DIED_DIALOGS = ("Kernel Restarting", "Kernel Dead")
KERNEL_DIED_STATES = ("autorestarting", "dead")


class LessonFailed(AssertionError):
    """A cell raised or the kernel died: raised at once, not after the run's timeout."""


def error_summary(traceback_text: str) -> str:
    """The exception's name and message from a traceback as JupyterLab shows it: its last
    ``Name: message`` line (e.g. ``ValueError: bad input``), else its last non-empty line."""
    lines = [line.strip() for line in traceback_text.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*: ", line):
            return line
    return lines[-1] if lines else "(an empty error output)"


class NotebookPage:
    """Drive one notebook in JupyterLab from the browser, as a learner does."""

    def __init__(self, page, server: LabServer, path: str):
        self.page, self.server, self.path = page, server, path

    def open(self, timeout_s: float = 120) -> "NotebookPage":
        """Open the notebook and wait until its kernel is idle and its cells are in the page."""
        # A workspace of its own, reset, so no tab from an earlier test is restored beside it.
        workspace = "e2e-" + re.sub(r"[^A-Za-z0-9]+", "-", self.path)
        self.page.goto(self.server.url(f"lab/workspaces/{workspace}/tree/{self.path}", "reset"),
                       wait_until="domcontentloaded")
        self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").first.wait_for(
            timeout=timeout_s * 1000)
        self.wait_for(lambda s: s and s["status"] == "idle" and not s["dialog"] and self._has_kernel(),
                      timeout_s, "the kernel to start and be idle")
        return self

    def _has_kernel(self) -> bool:
        """True when the server has a session with a kernel for this notebook."""
        sessions = self.server.api("/api/sessions")
        return any(sess.get("path") == self.path and sess.get("kernel") for sess in sessions)

    def state(self) -> dict | None:
        """Number of code cells, their prompts, and the kernel status shown in the toolbar."""
        return self.page.evaluate(_CELLS_STATE_JS)

    def wait_for(self, condition, timeout_s: float, what: str, stop_on_error: bool = False) -> dict:
        """Poll the notebook's state until ``condition(state)`` holds; fail after ``timeout_s``.

        Fails at once (``LessonFailed``) when the kernel dies, and, with ``stop_on_error``, when a
        cell shows a traceback: JupyterLab runs no further cell after an error, so waiting longer
        would only wait out the timeout."""
        start = time.monotonic()
        deadline = start + timeout_s
        state = None
        while time.monotonic() < deadline:
            state = self.state()
            if state and state["dialog"] == "Select Kernel":
                # Lessons without kernel metadata may ask which kernel to start: take the default
                # (Python 3), as a learner would.
                self.page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
            elif state and (state["dialog"] in KERNEL_DIED_DIALOGS or state["status"] in KERNEL_DIED_STATES):
                raise LessonFailed(
                    f"{self.path}: the kernel died {time.monotonic() - start:.0f} s into waiting for {what} "
                    f"(JupyterLab shows {state['dialog'] or state['status']!r}); prompts {state['prompts']}"
                    f"\nserver log:\n{self.server.log()}")
            elif stop_on_error and state and state.get("error"):
                error = state["error"]
                raise LessonFailed(
                    f"{self.path}: code cell {error['cell']} (prompt {error['prompt'].rstrip(':')}) raised "
                    f"{error_summary(error['text'])} ({time.monotonic() - start:.0f} s into waiting for "
                    f"{what}; no later cell runs after an error)\n--- its output ---\n{error['text']}")
            elif condition(state):
                return state
            self.page.wait_for_timeout(250)
        raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what} in {self.path}; "
                             f"last state: {state}\nserver log:\n{self.server.log()}")

    def menu(self, menu: str, command: str) -> None:
        """Choose a menu item, e.g. ``menu("Run", "runmenu:run-all")``."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
        self.page.locator(f'.lm-Menu-item[data-command="{command}"]').click()

    def trust(self) -> None:
        """Trust the notebook as a learner does (command palette, "Trust Notebook", confirm): JupyterLab
        then renders its outputs with every renderer, widgets included, not only the "safe" ones. Nothing
        is written: the trust lasts until the page is reloaded (autosave is off)."""
        self.page.keyboard.press("Control+Shift+C")
        self.page.locator(".lm-CommandPalette-input").fill("Trust Notebook")
        self.page.locator('.lm-CommandPalette-item[data-command="notebook:trust"]').click()
        self.page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
        self.page.locator(".jp-Dialog").wait_for(state="detached")

    def _run_all_once(self) -> None:
        # Clearing first makes every prompt "[ ]:", so a number on each means this run reached it.
        self.menu("Edit", "editmenu:clear-all")
        self.wait_for(lambda s: s and all(p == "[ ]:" for p in s["prompts"]), 30, "the outputs to clear")
        self.menu("Run", "runmenu:run-all")

    def _finished(self, state) -> bool:
        return bool(state) and state["status"] == "idle" and state["n"] > 0 and all(
            _numbered(p) for p in state["prompts"])

    def run_all(self, timeout_s: float = 300) -> dict:
        """Run > Run All Cells, and wait until every code cell has an execution count and the kernel
        is idle. Fails at once (``LessonFailed``, with the exception's name and message) at the first
        cell that shows a traceback, or when the kernel dies. The first "run all" right after opening
        can be dropped silently: when no cell has started within 30 s, it is asked for once more."""
        for attempt in range(2):
            self._run_all_once()
            try:
                self.wait_for(lambda s: s and any(p != "[ ]:" and p for p in s["prompts"]), 30,
                              "the first cell to start", stop_on_error=True)
                break
            except AssertionError as err:
                if attempt == 1 or isinstance(err, LessonFailed):
                    raise
        return self.wait_for(self._finished, timeout_s, "every code cell to run (Run All Cells)",
                             stop_on_error=True)

    def errors(self) -> list[str]:
        """The text of every output that shows an error or a traceback."""
        return self.page.evaluate(_ERRORS_JS)

    def screenshot(self, path: Path) -> None:
        """A screenshot of the whole window."""
        self.page.screenshot(path=str(path))


@pytest.fixture
def open_notebook(page, lab_server):
    """``open_notebook("notebooks/x.ipynb")`` opens that notebook in a new tab; returns a ``NotebookPage``."""
    def _open(path: str, timeout_s: float = 120) -> NotebookPage:
        return NotebookPage(page, lab_server, path).open(timeout_s)
    return _open


@pytest.fixture
def lesson_copy():
    """``lesson_copy("05_training_1d_gan.ipynb")`` copies a lesson, outputs and saved widget state, into a
    fresh folder under the git-ignored ``artifacts/`` and returns its path for the server. JupyterLab
    saves a notebook when it is trusted (autosave or not), so a test that trusts a lesson trusts the copy:
    the committed file is never rewritten. The folder is removed afterwards."""
    scratch_root = NOTEBOOKS.parent / "artifacts"
    scratch_root.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="e2e-lesson-", dir=scratch_root) as folder:
        def _copy(lesson: str) -> str:
            path = Path(folder) / lesson
            shutil.copyfile(NOTEBOOKS / lesson, path)
            return path.relative_to(NOTEBOOKS.parent).as_posix()
        yield _copy


@pytest.fixture
def scratch_notebook():
    """``scratch_notebook(sources)`` writes a notebook with those code cells into a fresh folder under
    the git-ignored ``artifacts/`` (the server serves only the checkout) and returns its path for the
    server; the folder is removed afterwards."""
    scratch_root = NOTEBOOKS.parent / "artifacts"
    scratch_root.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="e2e-scratch-", dir=scratch_root) as folder:
        def _write(sources: list[str]) -> str:
            cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                      "source": source} for source in sources]
            kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
            notebook = {"cells": cells, "metadata": {"kernelspec": kernelspec},
                        "nbformat": 4, "nbformat_minor": 4}
            path = Path(folder) / "probe.ipynb"
            path.write_text(json.dumps(notebook))
            return path.relative_to(NOTEBOOKS.parent).as_posix()
        yield _write
