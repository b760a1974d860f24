"""`make lab` for real: the address JupyterLab prints is lesson 01's, token included, and opens it.

Runs the JupyterLab command that `make lab` runs (read with `make -n`, so nothing is installed),
with --no-browser, while the port it asks for is taken, as when a learner already has a JupyterLab
open. Its runtime files and workspaces go to a scratch folder.
"""
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSON_01 = "notebooks/01_generative_models.ipynb"
PRINTED_URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/\S*)\?token=([0-9a-f]+)")


def make_lab_command() -> list[str]:
    """The JupyterLab command line that `make lab` runs."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    printed = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    lines = [line for line in printed.splitlines() if "jupyter lab" in line]
    assert len(lines) == 1, printed
    return shlex.split(lines[0])


def test_make_lab_prints_lesson_01_and_the_address_opens_it(browser_context, tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"), GAN_LESSONS_QUICK="1")
    env.pop("JUPYTER_TOKEN", None)  # a token of the learner's own would be printed as "..."
    log_path = tmp_path / "lab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*make_lab_command(), "--no-browser", f"--ServerApp.port={port}"], cwd=ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (found := PRINTED_URL.search(log_path.read_text(errors="replace"))):
            assert proc.poll() is None, f"`make lab`'s JupyterLab exited:\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no address in 120 s:\n{log_path.read_text()[-3000:]}"
            time.sleep(0.5)
        url = found.group(0)
        assert found.group(2) == f"/lab/tree/{LESSON_01}", url
        assert int(found.group(1)) != port, "the server says it serves on a port that was taken"

        page = browser_context.new_page()
        try:
            page.goto(url, wait_until="domcontentloaded")
            panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            panel.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
            current_tab = page.locator(".lm-DockPanel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
            title = current_tab.inner_text()
            assert title == Path(LESSON_01).name, f"{url} opened {title!r}"
        finally:
            page.close()
    finally:
        taken.close()
        # The whole process group: the server and the kernel the opened lesson started.
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # any kernel left behind
        except ProcessLookupError:
            pass
