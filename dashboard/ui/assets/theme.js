/* The night view: a dark screen for dimmed treatment rooms, chosen per screen (this browser) and remembered.
   Runs before the page is drawn, so a night screen never flashes white on load. The alarm colours stay. */
(function () {
  const KEY = "monitor.theme";
  function stored() { try { return localStorage.getItem(KEY); } catch (e) { return null; } }
  function apply(theme) {
    document.documentElement.dataset.theme = theme === "night" ? "night" : "day";
    const button = document.getElementById("theme-toggle");
    if (button) button.textContent = theme === "night" ? "Day view" : "Night view";
  }
  apply(stored());
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("#theme-toggle")) return;
    const next = document.documentElement.dataset.theme === "night" ? "day" : "night";
    try { localStorage.setItem(KEY, next); } catch (e) { /* private mode: this page only */ }
    apply(next);
  });
  new MutationObserver(function (_records, observer) {  // the button's label, once Dash has drawn it
    if (document.getElementById("theme-toggle")) { apply(stored()); observer.disconnect(); }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
