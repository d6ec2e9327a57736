/* The alarm bar never hides an alarm (dashboard/ui/board.py, "the alarm bar").

   The server sends every active alarm in the bar's order (highest priority first, then what needs someone,
   longest waiting first) and a counter button last. Only the browser knows what fits, so this file, after every
   change to the bar (a whole new bar or a patched text: a MutationObserver) and every change of its width (a
   ResizeObserver), shows the items in order while they fit in ROWS rows, hides the rest and writes what it hid
   into the counter, by priority ("+5 HIGH, +3 MED · show all"). An item marked `never-hidden` (an unacknowledged
   HIGH alarm) is always shown: the bar takes as many rows as they need (the tiles below shrink), and everything
   before the last of them in the order is shown with them. The counter is a button: it shows every alarm and
   says "Show fewer" (aria-expanded), and collapses the bar again; the choice lasts while the page is open.

   Cheap: the observer's callback runs before the page is painted (no flash of the hidden items), only when the
   bar itself changed; it reads every item's box once, decides on those numbers, writes, and measures the
   counter once more (its text sets its width). Its own writes are taken off the observer's queue.

   window.__alarmBar reports the last fit, for the browser tests and for anyone at the console:
   {runs, ms (their time in all), pendingMs (of which the page's own layout, pending when a run began), shown,
    hidden: {high, medium, low}, expanded}. */
(function () {
  const ROWS = 2;  // the rows the bar may take for what is not never-hidden
  const PRIORITIES = [["high", "HIGH"], ["medium", "MED"], ["low", "LOW"]];
  const report = { runs: 0, ms: 0, pendingMs: 0, shown: 0, hidden: { high: 0, medium: 0, low: 0 }, expanded: false };
  window.__alarmBar = report;
  let expanded = false;
  let watchedBar = null;
  let lastWidth = -1;

  function priorityOf(item) {
    const found = PRIORITIES.find(function (p) { return item.classList.contains("prio-" + p[0]); });
    return found ? found[0] : "low";
  }

  function counterText(hidden) {
    const parts = PRIORITIES.filter(function (p) { return hidden[p[0]] > 0; })
      .map(function (p) { return "+" + hidden[p[0]] + " " + p[1]; });
    return parts.join(", ") + " · show all";
  }

  // The rows the items sit on when all are shown: flex-wrap fills a line before the next, and hiding later items
  // never moves earlier ones, so a prefix of this list is exactly what a shorter bar would show.
  function rowsOf(items) {
    const tops = items.map(function (item) { return item.getBoundingClientRect().top; });
    const rows = [];
    let row = -1, last = -Infinity;
    tops.forEach(function (top) {
      if (top > last + 2) { row += 1; last = top; }
      rows.push(row);
    });
    return rows;
  }

  // How many items (from the first) to show, collapsed: all rows up to the last never-hidden item's, at least
  // ROWS, and room after the last shown item for the counter.
  function fit(bar, items, more) {
    let mustShow = 0;
    items.forEach(function (item, index) { if (item.classList.contains("never-hidden")) mustShow = index + 1; });
    bar.dataset.crowded = "false";
    let rows = rowsOf(items);
    if (mustShow && rows[mustShow - 1] + 1 > ROWS) {  // more HIGH alarms than the rows hold: the short form
      bar.dataset.crowded = "true";
      rows = rowsOf(items);
    }
    const allowed = Math.max(ROWS, mustShow ? rows[mustShow - 1] + 1 : 0);
    let shown = rows.filter(function (row) { return row < allowed; }).length;
    if (shown === items.length) return shown;
    const style = getComputedStyle(bar);
    const gap = parseFloat(style.columnGap) || 0;
    const right = bar.getBoundingClientRect().right - (parseFloat(style.paddingRight) || 0);
    for (let tries = 0; tries < 3; tries += 1) {  // the counter's text, and so its width, depends on what it counts
      more.textContent = counterText(hiddenBy(items, shown));
      more.hidden = false;
      const width = more.getBoundingClientRect().width;
      while (shown > mustShow && items[shown - 1].getBoundingClientRect().right + gap + width > right) shown -= 1;
      if (more.textContent === counterText(hiddenBy(items, shown))) break;
    }
    return shown;
  }

  function hiddenBy(items, shown) {
    const hidden = { high: 0, medium: 0, low: 0 };
    items.slice(shown).forEach(function (item) { hidden[priorityOf(item)] += 1; });
    return hidden;
  }

  function layout(bar) {
    const items = Array.from(bar.querySelectorAll(":scope > .bar-item"));
    const more = bar.querySelector(":scope > .bar-more");
    report.runs += 1;
    if (!more) { report.shown = items.length; report.hidden = hiddenBy(items, items.length); return; }
    // While it measures, the bar keeps its height, so the tiles below are not laid out again for each reading:
    // the page is laid out anew once, after the last write, at the next frame.
    const asked = performance.now();
    const box = bar.getBoundingClientRect();  // the page's own pending layout, if any (the patch just applied)
    report.pendingMs += performance.now() - asked;
    bar.style.height = box.height + "px";
    bar.style.overflow = "hidden";
    // The counter comes last, so it never moves an item: it keeps its place (and the focus, after a press).
    items.forEach(function (item) { item.hidden = false; });
    const shown = fit(bar, items, more);
    bar.style.height = "";
    bar.style.overflow = "";
    const hidden = hiddenBy(items, shown);
    if (shown === items.length) expanded = false;  // nothing to expand: the next overflow starts collapsed
    const showAll = expanded || shown === items.length;
    items.forEach(function (item, index) { item.hidden = !showAll && index >= shown; });
    more.hidden = shown === items.length;
    more.textContent = expanded ? "Show fewer" : counterText(hidden);
    more.setAttribute("aria-expanded", expanded ? "true" : "false");
    bar.dataset.expanded = expanded ? "true" : "false";
    if (expanded) bar.dataset.crowded = "false";  // every alarm in full, its Acknowledge with it
    report.shown = showAll ? items.length : shown;
    report.hidden = showAll ? hiddenBy(items, items.length) : hidden;
    report.expanded = expanded;
    lastWidth = box.width;  // hiding items never changes the bar's width (it spans the board)
  }

  const resized = new ResizeObserver(function (entries) {
    const bar = entries[entries.length - 1].target;
    if (bar.isConnected && Math.abs(bar.getBoundingClientRect().width - lastWidth) > 0.5) run(bar);
  });

  function run(bar) {
    const began = performance.now();
    layout(bar);
    changed.takeRecords();  // our own writes
    report.ms += performance.now() - began;
  }

  // A text patched inside an item hidden behind another hidden one changes nothing shown: no new fit for it.
  function unseenBehindHidden(record) {
    const node = record.target.nodeType === Node.ELEMENT_NODE ? record.target : record.target.parentElement;
    const item = node && node.closest(".bar-item");
    const before = item && item.previousElementSibling;
    return !!(item && item.hidden && before && before.hidden);
  }

  const changed = new MutationObserver(function (records) {
    const bar = document.getElementById("alarm-bar");
    if (!bar) { watchedBar = null; return; }
    if (bar !== watchedBar) {
      if (watchedBar) resized.unobserve(watchedBar);
      watchedBar = bar;
      resized.observe(bar);
      run(bar);
      return;
    }
    const inBar = records.filter(function (r) { return bar.contains(r.target); });
    if (inBar.length && !(inBar.every(unseenBehindHidden) && !expanded)) run(bar);
  });

  document.addEventListener("click", function (event) {
    const more = event.target.closest && event.target.closest("#alarm-bar-more");
    if (!more) return;
    expanded = !expanded;
    run(document.getElementById("alarm-bar"));
  });

  function start() {
    changed.observe(document.body, { childList: true, subtree: true, characterData: true });
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
