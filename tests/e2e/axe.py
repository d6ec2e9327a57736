"""axe-core (Deque's accessibility rules engine, from npm: `make axe` installs the pinned version under var/axe)
run inside a page of the real app, as the suite's Chromium shows it.

`problems(driver)` injects axe.min.js into the page (once per document: an in-page route keeps it) and returns
the violations a screen reader or keyboard user would hit hardest (impact critical or serious), each with the
elements concerned, so a failing test says what to fix and where.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "var" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")
MISSING = f"axe-core is not installed at {AXE_JS.relative_to(ROOT)}: run `make axe` (make test does it)"

# The whole document, every rule axe runs by default (WCAG 2.0-2.2 A/AA and best practices); the answer kept small.
RUN_JS = """
const done = arguments[arguments.length - 1];
const within = arguments.length > 1 && arguments[0] ? document.querySelector(arguments[0]) : document;
axe.run(within, {resultTypes: ['violations']}).then(results => done(results.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}))))
  .catch(error => done([{id: 'axe-error', impact: 'critical', help: String(error), nodes: []}]));
"""


def problems(driver: Any, within: str = "") -> list[dict[str, Any]]:
    """The page's critical and serious axe violations now (`within`: only that element's, a CSS selector)."""
    if not driver.execute_script("return !!window.axe"):
        driver.execute_script(AXE_JS.read_text())
    driver.set_script_timeout(120)  # a busy machine: axe walks the whole page
    return [v for v in driver.execute_async_script(RUN_JS, within) if v["impact"] in BLOCKING]


def report(where: str, found: list[dict[str, Any]]) -> str:
    """Each violation's id, impact and elements, for a failing assertion."""
    lines = [f"{where}: {len(found)} critical or serious accessibility violations"]
    for v in found:
        lines.append(f"  {v['id']} ({v['impact']}): {v['help']}")
        lines += [f"    {node['target']}: {' '.join(node['summary'].split())[:300]}" for node in v["nodes"][:8]]
    return "\n".join(lines)


# The focused element's ring: its outline (style, width) and the contrast of the outline's colour against what it is
# drawn on (the first opaque background from the element's parent up), as WCAG 2.4.13 measures a focus indicator;
# and of its halo (a box-shadow band of 2 px or more), since a two-colour ring passes when either band does (C40).
FOCUS_JS = """
const e = document.activeElement;
if (!e || e === document.body) return null;
const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
  .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
const background = n => { for (; n; n = n.parentElement) { const c = rgb(getComputedStyle(n).backgroundColor);
  if (c.length === 3 || c[3] === 1) return c.slice(0, 3); } return [255, 255, 255]; };
const ratio = (x, y) => (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
const style = getComputedStyle(e), behind = lum(background(e.parentElement));
const halo = style.boxShadow.match(/^(rgba?\\([^)]*\\)) 0px 0px 0px (\\d+)px/);  // a two-colour ring's inner band
return {element: e.id || e.tagName.toLowerCase() + '.' + e.className, style: style.outlineStyle,
        width: parseFloat(style.outlineWidth), ring: ratio(lum(rgb(style.outlineColor).slice(0, 3)), behind),
        halo: halo && Number(halo[2]) >= 2 ? ratio(lum(rgb(halo[1]).slice(0, 3)), behind) : 0};
"""
RING_PX, RING_CONTRAST = 2.0, 3.0  # WCAG 2.4.13 Focus Appearance: at least a 2 px perimeter at 3:1


def weak_focus_rings(driver: Any, tabs: int) -> list[dict[str, Any]]:
    """Tabs through the page from its top, as a keyboard user does; every focused control whose ring is thinner
    than RING_PX or fainter than RING_CONTRAST."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    weak, seen = [], 0
    for _ in range(tabs):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        ring = driver.execute_script(FOCUS_JS)
        if ring is None:
            continue
        seen += 1
        if ring["style"] == "none" or ring["width"] < RING_PX or max(ring["ring"], ring["halo"]) < RING_CONTRAST:
            weak.append(ring)
    assert seen, "no control took the keyboard focus"
    return weak
