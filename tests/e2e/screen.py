"""A headless Chromium that keeps the whole console (warnings too: dash[testing] keeps only errors), sized to an
exact viewport, with what the board's tests measure on the page itself."""
from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any, Callable

from selenium import webdriver
from selenium.webdriver.chrome.options import Options

from .conftest import CHROMIUM, PASSWORD, QUIET_CHROMIUM, USERS

DEADLINE_S = 60.0  # generous: the machine may be busy with other tests


class Screen:
    def __init__(self, flags: tuple[str, ...] = ()) -> None:
        """`flags`: more Chromium switches (a ward display's kiosk autoplay policy)."""
        options = Options()
        for flag in (*QUIET_CHROMIUM, "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     *flags):
            options.add_argument(flag)
        if CHROMIUM:
            options.binary_location = CHROMIUM
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options)
        self.console: list[dict[str, Any]] = []

    def size(self, width: int, height: int, scale: float = 1.0) -> None:
        """The viewport in CSS pixels (what the page lays out for); `scale` only shrinks screenshots."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": scale, "mobile": False})
        self.frames()

    def frames(self) -> None:
        """Waits until the page has drawn two frames: what runs on a resize (the alarm bar's fitting, a
        ResizeObserver's) has run by then."""
        self.driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                         "requestAnimationFrame(() => requestAnimationFrame(() => done(true)))")

    def sign_in(self, url: str, role: str, then: str = "/") -> None:
        self.driver.get(f"{url}/login?next={then}")
        self.driver.find_element("id", "login-user").send_keys(USERS[role])
        self.driver.find_element("id", "login-password").send_keys(PASSWORD)
        self.driver.find_element("id", "login-submit").click()
        self.until(lambda: self.js("return !!document.querySelector('#page')"), f"{role} signed in")

    def go(self, path: str) -> None:
        """Opens `path` inside the running page as the app's own links do (history + Dash's location event), and
        waits until the router has drawn it: #page went through Dash's loading state and came out of it."""
        routed = ROUTED_JS if self.js(NAVIGATE_JS, path) else DRAWN_JS  # already there: no route to wait for
        self.until(lambda: self.js(routed), f"{path} routed and drawn")

    def sign_out(self) -> list[dict[str, Any]]:
        """Signs out through the real button; returns the console entries of the page it left."""
        self.driver.find_element("id", "sign-out").click()
        self.until(lambda: self.js("return !!document.getElementById('login-user')"), "the sign-in form")
        return self.logs()

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def until(self, condition: Callable[[], Any], what: str, timeout: float = DEADLINE_S) -> Any:
        """Wait for `condition()` to be truthy (and return it); fail saying what was awaited."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:.0f} s for: {what} (last: {value!r})")
            time.sleep(0.2)

    def logs(self) -> list[dict[str, Any]]:
        """Every console entry since the last call (also kept in `self.console`)."""
        fresh = self.driver.get_log("browser")
        self.console += fresh
        return fresh

    def shot(self, path: Path, colours: int = 64) -> None:
        """A screenshot kept small for the repository: `colours` colours, no dithering (flat UI colours)."""
        from PIL import Image

        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.open(io.BytesIO(self.driver.get_screenshot_as_png())).convert("RGB")
        image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            path, optimize=True)

    def quit(self) -> None:
        self.driver.quit()


# In-page navigation as dcc.Link does it; the router's answer is seen as #page's loading state going on, then off.
NAVIGATE_JS = """
if (location.pathname + location.search === arguments[0]) return false;
const page = document.getElementById('page');
const routing = window.__routing = {seen: false};
routing.observer = new MutationObserver(() => {
  if (page.getAttribute('data-dash-is-loading') === 'true') routing.seen = true; });
routing.observer.observe(page, {attributes: true, attributeFilter: ['data-dash-is-loading']});
history.pushState({}, '', arguments[0]);
window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));
return true;
"""
PAGE_DRAWN = ("document.getElementById('page').getAttribute('data-dash-is-loading') !== 'true'"
              " && !!document.getElementById('page').firstElementChild")
DRAWN_JS = f"return {PAGE_DRAWN}"
ROUTED_JS = f"return window.__routing.seen && {PAGE_DRAWN}"

# What the board's tests read off the page, in one script each (the board patches itself while we look).
MEASURE_JS = """
const px = v => parseFloat(v);
const header = document.querySelector('.top-bar').getBoundingClientRect();
// A crowded alarm bar (more unacknowledged HIGH alarms than its two rows hold: issue 22) grows and the tiles shrink;
// they then share what the bar and the escalation banner above it leave.
const bar = document.getElementById('alarm-bar');
const crowded = !!bar && bar.dataset.crowded === 'true';
const tilesFrom = crowded ? bar.getBoundingClientRect().bottom : header.bottom;
const tiles = Array.from(document.querySelectorAll('.board > .tile'));
const glyphs = e => { const r = document.createRange(); r.selectNodeContents(e); return r.getBoundingClientRect(); };
const inside = (a, b) => a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
const overlap = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
return {
  viewport: [innerWidth, innerHeight], under_header: innerWidth * (innerHeight - tilesFrom), crowded,
  scroll: document.scrollingElement.scrollHeight - innerHeight,
  tiles: tiles.map(t => { const r = t.getBoundingClientRect();
    const v = n => t.querySelector('.tile-' + n);
    return { chair: v('chair').textContent, area: r.width * r.height, bottom: r.bottom, right: r.right,
      bp: px(getComputedStyle(v('bp')).fontSize), hr: px(getComputedStyle(v('hr')).fontSize),
      spo2: px(getComputedStyle(v('spo2')).fontSize),
      // a numeral is clipped when its text leaves the tile or runs into another numeral or the BP's age
      clipped: ['bp', 'hr', 'spo2'].filter(n => !inside(glyphs(v(n)), r) || ['bp', 'hr', 'spo2', 'bp-age']
        .some(o => o !== n && v(o).offsetParent && overlap(glyphs(v(n)), glyphs(v(o))))) }; }),
};
"""

# WCAG contrast of an element's text against the background it is drawn on (the first opaque one up the tree).
CONTRAST_JS = """
const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
  .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
const background = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
  if (c.length === 3 || c[3] === 1) return c.slice(0, 3); } return [255, 255, 255]; };
return Array.from(document.querySelectorAll(arguments[0])).map(e => {
  const a = lum(rgb(getComputedStyle(e).color).slice(0, 3)), b = lum(background(e));
  return { text: e.textContent.slice(0, 40), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) }; });
"""
