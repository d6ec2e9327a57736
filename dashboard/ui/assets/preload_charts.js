/* The charts' library (plotly.js, 4.8 MB to load and compile) is loaded while the board is idle, so the first
   session chart a nurse opens draws at once: Dash's Graph uses window.Plotly when it is already there. Only on
   the boards, once their tiles are drawn, when the browser has nothing else to do. See dashboard/ui/static.py. */
(function () {
  function preload() {
    if (window.Plotly || !window._dashPlotlyJSURL || document.getElementById("plotly-preload")) return;
    const script = document.createElement("script");
    script.id = "plotly-preload";
    script.src = window._dashPlotlyJSURL;
    script.async = true;
    document.body.appendChild(script);
  }
  const idle = window.requestIdleCallback || function (fn) { return setTimeout(fn, 1000); };
  new MutationObserver(function (_records, observer) {
    if (document.querySelector(".board > .tile, .board > .board-empty")) {
      observer.disconnect();
      idle(preload, { timeout: 5000 });
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
