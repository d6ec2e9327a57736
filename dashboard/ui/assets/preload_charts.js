/* The charts' library (plotly.js, 4.8 MB to load and compile) is loaded before the first chart needs it: Dash's
   Graph uses window.Plotly when it is already there. On a page that opens with a chart (a session, a review, a
   course) it starts at once, alongside the page's own requests; on a board, once the tiles are drawn and the
   browser has nothing else to do, so that opening a chair from the board does not wait for it. Other pages
   (settings, start, admin) never load it. See dashboard/ui/static.py. */
(function () {
  const CHART_PAGES = /^\/(session|review|course)\/\d+/;
  function preload() {
    if (window.Plotly || !window._dashPlotlyJSURL || document.getElementById("plotly-preload")) return false;
    const script = document.createElement("script");
    script.id = "plotly-preload";
    script.src = window._dashPlotlyJSURL;
    script.async = true;
    document.body.appendChild(script);
    return true;
  }
  const idle = window.requestIdleCallback || function (fn) { return setTimeout(fn, 1000); };
  new MutationObserver(function (_records, observer) {
    if (!window._dashPlotlyJSURL) return;  // set by Dash's renderer as it starts
    if (CHART_PAGES.test(location.pathname)) {
      observer.disconnect();
      preload();
    } else if (document.querySelector(".board > .tile, .board > .board-empty")) {
      observer.disconnect();
      idle(preload, { timeout: 5000 });
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
