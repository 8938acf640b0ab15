"""Headless Debian Chromium driven over the DevTools protocol: one page, kept open.

The page tests open a page once and read its DOM as it changes by itself, which a fresh
``--dump-dom`` per check could not show. One Chromium serves a test process (its start is
seconds of CPU); each test gets a tab of its own, closed after it.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import urllib.request
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.sync.client import connect

from devstack.servers import wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: axe-core, pinned by devstack/axe/package-lock.json
AXE = Path(__file__).resolve().parents[2] / "devstack" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
#: the DevTools endpoint, on loopback, on a port Chromium picks and prints
DEVTOOLS = ["--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"]


class Chromium:
    """One headless Chromium process, its DevTools on a loopback port it picks."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM is not None, "Debian chromium is not installed (make test installs it)"
        profile.mkdir(parents=True, exist_ok=True)
        self.log = profile / "chromium.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [CHROMIUM, *FLAGS, *DEVTOOLS, f"--user-data-dir={profile}", "about:blank"], stdout=log, stderr=log
            )
        listening = "DevTools listening on"
        wait_until(lambda: listening in self.log.read_text(errors="replace"), 60, "chromium", self.process)
        browser_ws = next(line for line in self.log.read_text().splitlines() if listening in line)
        self.port = urlsplit(browser_ws.split()[-1]).port

    def tab(self) -> Browser:
        """A new tab, on about:blank."""
        assert self.process.poll() is None, f"chromium exited with {self.process.returncode} (log: {self.log})"
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return Browser(self.port, json.load(answer))

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Browser:
    """One Chromium tab: open a URL, evaluate JavaScript in it, resize it, take screenshots."""

    def __init__(self, port: int | None, target: dict[str, Any]) -> None:
        self.port, self.target = port, target["id"]
        self.socket = connect(target["webSocketDebuggerUrl"], max_size=None)
        self.ids = count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self.socket.recv(timeout=60))
            if answer.get("id") == message_id:
                assert "error" not in answer, answer["error"]
                return answer.get("result", {})

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        wait_until(lambda: self.evaluate("document.readyState") == "complete", 30, f"the page {url}")

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def scripts(self, enabled: bool) -> None:
        """Run the page's own script, or not (a reader with script disabled); DevTools still evaluates."""
        self.call("Emulation.setScriptExecutionDisabled", value=not enabled)

    def resize(self, width: int, height: int, mobile: bool = False) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)

    def screenshot(self, path: Path) -> bytes:
        png = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        path.write_bytes(png)
        return png

    def axe_violations(self) -> list[str]:
        """What axe-core (npm, ``make tools``) finds on the open page against WCAG 2.1 A and AA and
        its best practices: each violation's rule and the elements it names (none: ``[]``).

        The script is evaluated over DevTools, which the page's script policy does not govern."""
        assert AXE.exists(), f"{AXE} is missing: make tools installs it (npm ci --prefix devstack/axe)"
        self.call("Runtime.evaluate", expression=AXE.read_text())
        run = """axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
          .then((r) => r.violations.map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", ")))"""
        result = self.call("Runtime.evaluate", expression=run, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"]["value"]  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the tab: its page, its scripts and its event streams end with it."""
        self.socket.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/close/{self.target}", timeout=10):
            pass
