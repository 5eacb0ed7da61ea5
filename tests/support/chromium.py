"""Headless Chromium for the tests and the benchmark: opens the served reports like a reader would (page loads,
screenshots, what each page requested), over the DevTools protocol on a pipe, stdlib only."""

import base64
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe), stdlib only.

    Used by the end-to-end test and the benchmark to open the served site like a reader would: page loads,
    screenshots, transferred bytes. Every host but 127.0.0.1 resolves to nothing, so a page that tries to load
    anything from the internet shows up as a failed request instead of a download."""

    def __init__(self, executable: str | None = None, width: int = 1280, height: int = 900) -> None:
        import threading

        exe = executable or find_chromium()
        if not exe:
            raise RuntimeError("No chromium on PATH: apt-get install -y chromium")
        self.profile = tempfile.mkdtemp(prefix="strava-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the browser's ends move above 9 so that putting them on fds 3 and 4 cannot overwrite one with the other
        to_browser_r, from_browser_w = (_fd_above_9(fd) for fd in (to_browser_r, from_browser_w))
        flags = [
            "--headless",
            "--remote-debugging-pipe",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--mute-audio",
            "--hide-scrollbars",
            "--disable-features=Translate,MediaRouter,OptimizationHints",
            "--metrics-recording-only",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
        ]
        if os.geteuid() == 0:
            flags.append("--no-sandbox")  # Chromium refuses to start its sandbox as root
        # the protocol runs on fds 3 (to the browser) and 4 (from it): a shell puts the pipe ends there
        wrapper = f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w} {to_browser_r}<&- {from_browser_w}>&-'
        self.proc = subprocess.Popen(
            ["/bin/bash", "-c", wrapper, "sh", exe, *flags, "about:blank"],
            pass_fds=(to_browser_r, from_browser_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._responses: dict = {}
        self.events: list = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.send("Browser.getVersion", timeout=60)

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._responses[None] = "closed"
                    self._cond.notify_all()
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            with self._cond:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._responses[message["id"]] = message
                    else:
                        self.events.append(message)
                self._cond.notify_all()

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            message = {"id": ident, "method": method, "params": params or {}}
            if session:
                message["sessionId"] = session
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._cond:
            while ident not in self._responses:
                if None in self._responses:
                    raise RuntimeError(f"Chromium exited while waiting for {method}")
                if not self._cond.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                    raise TimeoutError(f"no answer to {method} within {timeout} s")
            reply = self._responses.pop(ident)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def wait_event(self, method: str, session: str | None, since: int, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events[since:]:
                    if event.get("method") == method and event.get("sessionId") == session:
                        return event
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"no {method} within {timeout} s")
                self._cond.wait(0.2)

    def new_page(self, cache: bool = True) -> "Tab":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        if not cache:
            self.send("Network.setCacheDisabled", {"cacheDisabled": True}, session=session)
        return Tab(self, target, session)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class Tab:
    browser: Chromium
    target: str
    session: str

    def goto(self, url: str, timeout: float = 60) -> int:
        """Navigates and waits for the load event; returns the index of the first event of this navigation."""
        since = len(self.browser.events)
        reply = self.browser.send("Page.navigate", {"url": url}, session=self.session)
        if reply.get("errorText"):
            raise RuntimeError(f"{url}: {reply['errorText']}")
        self.browser.wait_event("Page.loadEventFired", self.session, since, timeout)
        return since

    def evaluate(self, expression: str, timeout: float = 30):
        reply = self.browser.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session,
            timeout=timeout,
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(
                f"script failed: {reply['exceptionDetails'].get('text')} "
                f"{reply['exceptionDetails'].get('exception', {}).get('description', '')}"
            )
        return reply["result"].get("value")

    def click(self, selector: str, text: str = "", timeout: float = 10) -> None:
        """Clicks (mouse down and up, like a reader) the first element matching the CSS selector whose text contains
        text; waits up to timeout for it to appear. Raises RuntimeError when there is none."""
        find = (
            f"(() => {{ const e = [...document.querySelectorAll({json.dumps(selector)})]"
            f".find(e => e.innerText.includes({json.dumps(text)}) && e.getClientRects().length);"
            " if (!e) return null; e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        deadline = time.monotonic() + timeout
        while (at := self.evaluate(find)) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing to click: {selector} with {text!r}")
            time.sleep(0.1)
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.browser.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": at[0], "y": at[1], "button": "left", "clickCount": 1},
                session=self.session,
            )

    def screenshot(self, path: Path) -> None:
        """A PNG of the whole page, not only the window."""
        size = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        shot = self.browser.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size[0], "height": min(size[1], 16000), "scale": 1},
            },
            session=self.session,
            timeout=60,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def network(self, since: int) -> list:
        """Requests of this tab since an event index: url, status, bytes on the wire and uncompressed, failure."""
        requests: dict = {}
        for event in self.browser.events[since:]:
            if event.get("sessionId") != self.session:
                continue
            params = event.get("params", {})
            method = event.get("method")
            if method == "Network.requestWillBeSent":
                requests[params["requestId"]] = {
                    "url": params["request"]["url"],
                    "status": None,
                    "bytes": 0,
                    "decoded": 0,
                    "failed": None,
                }
            elif method == "Network.dataReceived" and params["requestId"] in requests:
                requests[params["requestId"]]["decoded"] += params.get("dataLength", 0)
            elif method == "Network.responseReceived" and params["requestId"] in requests:
                requests[params["requestId"]]["status"] = params["response"]["status"]
            elif method == "Network.loadingFinished" and params["requestId"] in requests:
                requests[params["requestId"]]["bytes"] = params.get("encodedDataLength", 0)
            elif method == "Network.loadingFailed" and params["requestId"] in requests:
                requests[params["requestId"]]["failed"] = params.get("errorText")
        return list(requests.values())

    def exceptions(self, since: int) -> list:
        return [
            e["params"]["exceptionDetails"].get("exception", {}).get("description")
            or e["params"]["exceptionDetails"].get("text")
            for e in self.browser.events[since:]
            if e.get("sessionId") == self.session and e.get("method") == "Runtime.exceptionThrown"
        ]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.browser.send("Target.closeTarget", {"targetId": self.target})


def _fd_above_9(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


# what the page shows once Evidence has run its queries: echarts instances (Evidence keeps them on window under
# this symbol) with their data points, Leaflet maps with drawn routes, tables, big values, error blocks, whether
# the page still loads its own data, and the browser's clock (now_ms, from navigation start)
PAGE_STATE_JS = r"""
(() => {
  const registry = window[Symbol.for('__evidence-chart-window-debug__')] || {};
  const charts = Object.values(registry).filter(c => c && !c.isDisposed()).map(c => {
    const series = (c.getOption() || {}).series || [];
    const points = series.reduce((n, s) => n + (s.data || []).filter(d => d !== null && d !== undefined
      && !(Array.isArray(d) && d.slice(1).every(v => v === null || v === undefined))).length, 0);
    const canvas = c.getDom().querySelector('canvas');
    return {types: series.map(s => s.type), series: series.length, points,
            width: canvas ? canvas.width : 0, height: canvas ? canvas.height : 0};
  });
  const errors = [...document.querySelectorAll('[class*="border-negative/50"]')]
    .map(e => e.innerText.trim().replace(/\s+/g, ' ').slice(0, 300));
  const maps = [...document.querySelectorAll('.leaflet-container')]
    .map(m => ({routes: m.querySelectorAll('path.leaflet-interactive').length}));
  const tables = [...document.querySelectorAll('table')]
    .map(t => [...t.querySelectorAll('tr')].filter(r => !r.closest('thead') && r.innerText.trim()).length);
  const values = {};
  document.querySelectorAll('[data-value]').forEach(e => { values[e.dataset.value] = e.innerText.trim(); });
  const skeletons = document.querySelectorAll('[class*="animate-pulse"]').length;
  const h1 = document.querySelector('h1');
  // a page that fetches its data itself (the activity page) marks itself [data-loading] until it has drawn it
  const loading = document.querySelectorAll('[data-loading]').length > 0;
  return {title: document.title, h1: h1 ? h1.innerText.trim() : null, charts, errors, maps, tables, values,
          skeletons, loading, now_ms: performance.now(), text: document.body.innerText.slice(0, 20000),
          failed: /500|404/.test(document.title) && !!document.querySelector('h1')
                  && /Internal Error|Not Found/.test(document.body.innerText)};
})()
"""
