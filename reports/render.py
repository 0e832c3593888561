#!/usr/bin/python3
"""render: a report.html as Debian's headless Chromium draws it.

    reports/render.py [--png OUT.png] [--width 1280] REPORT.html

Opens the page in /usr/bin/chromium (headless, no network, a fresh profile),
driven over the DevTools protocol on a pipe (--remote-debugging-pipe: file
descriptors 3 and 4, one JSON message per NUL), and prints what it rendered,
one fact a line, for a test to judge:

    page WIDTH HEIGHT            the window's width, the document's height
    chart NAME WIDTH HEIGHT      each <svg> chart, by its aria-label, in CSS px
    bar NAME WIDTH               each bar of a bar chart (a <rect> with a <title>)
    overflow WHAT RIGHT          an element whose right edge passes the window
    print-overflow WHAT RIGHT    the same, printed (print media, A4 width)
    console LEVEL TEXT           a console message, exception or browser log entry
    request URL                  a request for anything but the page itself
    png PATH WIDTH HEIGHT        the whole page as a screenshot (with --png)

Exit 0 when the page was rendered (whatever it showed), 2 when it could not be
(no Chromium, a protocol error, or no answer within the time limit).
"""
import argparse
import base64
import json
import os
import select
import struct
import subprocess
import sys
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_S = 45
PRINT_WIDTH = 718  # A4 (794 CSS px) less Chromium's default print margins

# Everything on the page, measured in one evaluation. Elements inside a closed
# <details> have no box (width 0) and are skipped; of nested elements that pass
# the edge only the outermost is named.
MEASURE = r"""
(() => {
  const w = document.documentElement.clientWidth;
  const what = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : '');
  const charts = [...document.querySelectorAll('svg')]
      .filter(s => !s.parentElement.closest('svg'))
      .map(s => { const r = s.getBoundingClientRect();
                  return [s.getAttribute('aria-label') || '?', r.width, r.height]; });
  const over = [], wide = new Set();
  for (const e of document.body.querySelectorAll('*')) {
    if (e.closest('svg') && e.tagName.toLowerCase() !== 'svg') continue;
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > w + 0.5) {
      wide.add(e);
      if (!wide.has(e.parentElement)) over.push([what(e), r.right]);  // the outermost
    }
  }
  const bars = [...document.querySelectorAll('svg rect')]
      .filter(r => r.querySelector('title'))
      .map(r => [r.querySelector('title').textContent, r.getBoundingClientRect().width]);
  return JSON.stringify({width: w, height: document.documentElement.scrollHeight,
                         charts: charts, bars: bars, over: over});
})()
"""


class Chromium:
    """One headless Chromium, spoken to over its debugging pipe."""

    def __init__(self, profile):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()

        def fds_3_and_4():
            # Chromium reads commands on 3 and writes answers on 4; go through
            # high numbers first so neither dup2 clobbers the other's source.
            os.dup2(to_r, 100)
            os.dup2(from_w, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)
            os.close(100)
            os.close(101)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-extensions",
             "--hide-scrollbars", "--remote-debugging-pipe",
             "--user-data-dir=" + profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(profile, "chromium.log"), "w"),
            close_fds=False, preexec_fn=fds_3_and_4)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.deadline = time.monotonic() + TIMEOUT_S

    def _read_message(self):
        while b"\0" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_r], [], [], left)[0]:
                raise RuntimeError("no answer from Chromium in %d s" % TIMEOUT_S)
            chunk = os.read(self.from_r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed its debugging pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self.to_w, data):]
        while True:
            m = self._read_message()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"].get("message")))
                return m.get("result", {})
            self.events.append(m)

    def wait_for(self, method):
        for i, m in enumerate(self.events):
            if m.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self._read_message()
            if m.get("method") == method:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_w)
        os.close(self.from_r)


def png_size(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, 0
    return struct.unpack(">II", data[16:24])


def render(page_url, width, png):
    facts = []
    with tempfile.TemporaryDirectory(prefix="render.") as profile:
        chrome = Chromium(profile)
        try:
            target = chrome.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            s = chrome.call("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                chrome.call(domain + ".enable", session=s)
            chrome.call("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": 900, "deviceScaleFactor": 1,
                         "mobile": False}, session=s)
            chrome.events.clear()  # about:blank's own
            chrome.call("Page.navigate", {"url": page_url}, session=s)
            chrome.wait_for("Page.loadEventFired")

            m = json.loads(chrome.call("Runtime.evaluate", {"expression": MEASURE},
                                       session=s)["result"]["value"])
            facts.append("page %d %d" % (m["width"], m["height"]))
            for name, w, h in m["charts"]:
                facts.append("chart %s %.0f %.0f" % (name.replace(" ", "_"), w, h))
            for name, w in m["bars"]:
                facts.append("bar %s %.1f" % (name.replace(" ", "_"), w))
            for what, right in m["over"]:
                facts.append("overflow %s %.0f" % (what, right))

            if png:
                shot = chrome.call("Page.captureScreenshot",
                                   {"format": "png", "captureBeyondViewport": True,
                                    "clip": {"x": 0, "y": 0, "width": m["width"],
                                             "height": m["height"], "scale": 1}},
                                   session=s)
                data = base64.b64decode(shot["data"])
                with open(png, "wb") as f:
                    f.write(data)
                facts.append("png %s %d %d" % ((png,) + png_size(data)))

            chrome.call("Emulation.setEmulatedMedia", {"media": "print"}, session=s)
            chrome.call("Emulation.setDeviceMetricsOverride",
                        {"width": PRINT_WIDTH, "height": 1000, "deviceScaleFactor": 1,
                         "mobile": False}, session=s)
            p = json.loads(chrome.call("Runtime.evaluate", {"expression": MEASURE},
                                       session=s)["result"]["value"])
            for what, right in p["over"]:
                facts.append("print-overflow %s %.0f" % (what, right))
        finally:
            chrome.close()
        for e in chrome.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", "")))
                                for a in params.get("args", []))
                facts.append("console %s %s" % (params.get("type"), text))
            elif method == "Runtime.exceptionThrown":
                d = params.get("exceptionDetails", {})
                facts.append("console exception %s" % d.get("exception", {}).get(
                    "description", d.get("text")))
            elif method == "Log.entryAdded":
                entry = params.get("entry", {})
                facts.append("console %s %s" % (entry.get("level"), entry.get("text")))
            elif method == "Network.requestWillBeSent":
                url = params.get("request", {}).get("url", "")
                if url != page_url and not url.startswith("data:"):
                    facts.append("request %s" % url)
    return facts


def main():
    ap = argparse.ArgumentParser(description="report.html as headless Chromium renders it")
    ap.add_argument("html")
    ap.add_argument("--png", help="write the whole page as a PNG screenshot")
    ap.add_argument("--width", type=int, default=1280, help="window width in CSS px")
    a = ap.parse_args()
    if not os.path.isfile(a.html):
        print("render: %s: no such file" % a.html, file=sys.stderr)
        return 2
    if not os.access(CHROMIUM, os.X_OK):
        print("render: %s: not installed (make deps installs chromium)" % CHROMIUM,
              file=sys.stderr)
        return 2
    try:
        facts = render("file://" + os.path.realpath(a.html), a.width, a.png)
    except (RuntimeError, OSError, KeyError, ValueError) as e:
        print("render: %s: %s" % (a.html, e), file=sys.stderr)
        return 2
    for line in facts:
        print(line.replace("\n", " "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
