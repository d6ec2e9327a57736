/* The charts' library (plotly.js, 4.8 MB to load and compile) is loaded before the first chart needs it: Dash's
   Graph uses window.Plotly when it is already there. On a board, once the tiles are drawn and the browser has
   nothing else to do, so that opening a chair from the board does not wait for it; on a review or a course page,
   at once. Other pages (settings, start, admin) never load it. See dashboard/ui/static.py.

   A live session page opened straight from a link (the alarm message on a nurse's phone, a bookmark) shows what a
   nurse needs first before the chart: the chair, its vitals and phase, the alarms with Acknowledge. Compiling and
   running plotly.js takes the page's only thread for seconds on a phone, and Dash's Graph starts loading it the
   moment the page is drawn: an Acknowledge tapped then waited for it. So on that page plotly.js waits until the
   alarms are drawn and the browser is idle (or at most STATUS_WAIT_MS). Until it has loaded, window.Plotly is a
   promise of it, which Dash 4.4.1's Graph awaits as it would its own load (Promise.resolve(window.Plotly || ...));
   the library replaces it as it runs. bench/first_chart.py measures this ("direct, cold"). */
(function () {
  const CHART_PAGES = /^\/(session|review|course)\/\d+/;
  const STATUS_FIRST = /^\/session\/\d+/;
  const STATUS_DRAWN = "#session-alarms";
  const STATUS_WAIT_MS = 4000;
  const idle = window.requestIdleCallback || function (fn) { return setTimeout(fn, 1000); };
  let loaded = null;  // resolves when plotly.js has run

  function preload() {
    if ((window.Plotly && !window.Plotly.pending) || !window._dashPlotlyJSURL
        || document.getElementById("plotly-preload")) return false;
    const script = document.createElement("script");
    script.id = "plotly-preload";
    script.src = window._dashPlotlyJSURL;
    script.async = true;
    script.onload = function () { if (loaded) loaded.resolve(); };
    script.onerror = function (error) { if (loaded) loaded.reject(error); };
    document.body.appendChild(script);
    return true;
  }

  if (STATUS_FIRST.test(location.pathname) && !window.Plotly) {
    let resolve, reject;
    const promise = new Promise(function (ok, fail) { resolve = ok; reject = fail; });
    loaded = { resolve: resolve, reject: reject };
    window.Plotly = { pending: true, then: function (ok, fail) { return promise.then(ok, fail); } };
    let started = false;
    const load = function () {  // once; the renderer sets the library's URL as it starts
      if (window._dashPlotlyJSURL) preload(); else setTimeout(load, 50);
    };
    const start = function () { if (!started) { started = true; load(); } };
    setTimeout(start, STATUS_WAIT_MS);
    new MutationObserver(function (_records, observer) {
      if (!document.querySelector(STATUS_DRAWN)) return;
      observer.disconnect();
      requestAnimationFrame(function () { idle(start, { timeout: 1000 }); });  // painted; a tap goes first
    }).observe(document.documentElement, { childList: true, subtree: true });
    return;
  }

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
