"""Headless Debian Chromium driven by chromium-driver through python3-selenium,
for the report and live-page tests: console errors and network requests
come from the browser's own logs, screenshots are checked by pixel statistics
(decoded by the browser itself) and kept as test artefacts."""
import base64
import json
import os
import shutil
import sys
import tempfile
import time

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
except ImportError:  # Debian's python3-selenium lives in the system Python's path
    sys.path.append("/usr/lib/python3/dist-packages")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--no-proxy-server", "--hide-scrollbars", "--window-size=1400,1000"]


def available():
    """None when Chromium and chromedriver are there, else why not."""
    for p in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not os.access(p, os.X_OK):
            return p + " missing (Debian packages chromium, chromium-driver)"
    return None


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="gt-chromium-")
        o = webdriver.ChromeOptions()
        o.binary_location = "/usr/bin/chromium"
        for f in CHROMIUM_FLAGS:
            o.add_argument(f)
        o.add_argument("--user-data-dir=" + self.profile)
        o.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
        self.d.set_page_load_timeout(60)
        # The browser's own start-up pages (new tab page: chrome:// resources) must not
        # mix into the first test page's logs.
        self.d.get("about:blank")
        time.sleep(0.5)
        self.logs()

    def close(self):
        try:
            self.d.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def load(self, url, ready_js="return document.body && document.body.dataset.ready === '1'", timeout=60):
        """Open url, drop the logs of earlier pages, wait until ready_js holds."""
        self.logs()
        self.d.get(url)
        t_end = time.time() + timeout
        while time.time() < t_end:
            if self.d.execute_script(ready_js):
                return
            time.sleep(0.2)
        raise AssertionError(url + ": page not ready after %d s; console: %s" % (timeout, self.console()))

    @staticmethod
    def network(urls):
        """The URLs that could reach the network: not the browser's built-in chrome://
        resources, not data: URLs."""
        return [u for u in urls if not u.startswith(("chrome://", "chrome-extension://", "data:", "about:"))]

    def logs(self):
        """(console entries, request URLs) since the last call."""
        console = self.d.get_log("browser")
        urls = []
        for e in self.d.get_log("performance"):
            m = json.loads(e["message"])["message"]
            if m.get("method") == "Network.requestWillBeSent":
                urls.append(m["params"]["request"]["url"])
        return console, urls

    def console(self):
        return [e for e in self.d.get_log("browser")]

    def js(self, code, *args):
        return self.d.execute_script(code, *args)

    def screenshot(self, path):
        """Full-page PNG into path; returns pixel statistics of it."""
        h = self.js("return Math.min(8000, document.documentElement.scrollHeight)")
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1400, "height": int(h), "deviceScaleFactor": 1, "mobile": False})
        png = base64.b64decode(self.d.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"])
        self.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(png)
        return self.pixel_stats(png)

    def pixel_stats(self, png):
        """Decode png in the page (canvas) and return {w, h, distinct, nonwhite, colored}:
        colours in a 4-bit-per-channel histogram, share of non-white and of
        saturated pixels."""
        return self.d.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const img = new Image();
            img.onload = () => {
                const c = document.createElement('canvas');
                c.width = img.width; c.height = img.height;
                const g = c.getContext('2d');
                g.drawImage(img, 0, 0);
                const p = g.getImageData(0, 0, c.width, c.height).data;
                const seen = new Set();
                let nonwhite = 0, colored = 0, n = 0;
                for (let i = 0; i < p.length; i += 16) {
                    const r = p[i], gg = p[i + 1], b = p[i + 2];
                    n++;
                    seen.add((r >> 4) << 8 | (gg >> 4) << 4 | (b >> 4));
                    if (r + gg + b < 735) nonwhite++;
                    if (Math.max(r, gg, b) - Math.min(r, gg, b) > 60) colored++;
                }
                done({w: c.width, h: c.height, distinct: seen.size, nonwhite: nonwhite / n, colored: colored / n});
            };
            img.onerror = () => done({error: 'undecodable'});
            img.src = 'data:image/png;base64,' + arguments[0];
        """, base64.b64encode(png).decode())


if __name__ == "__main__":
    # browser.py URL OUT.png WIDTH HEIGHT: a screenshot of the top of a page (for the README).
    url, out, w, h = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    b = Browser()
    try:
        b.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": False})
        b.load(url)
        png = base64.b64decode(b.d.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"])
        with open(out, "wb") as f:
            f.write(png)
        print(out, len(png), "bytes", b.pixel_stats(png))
    finally:
        b.close()
