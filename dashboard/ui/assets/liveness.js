/* Every screen knows when it last got fresh data, and says so loudly when it cannot (IEC 60601-1-8's distributed
   alarm system; docs/alarms.md, "Screens that cannot update").

   The watchdog reads the answers to Dash's callback requests (window.fetch, wrapped here): the shell polls on
   every page, so a page that works gets an answer every poll. When no request has been answered with fresh data
   for `screen.stale_after` seconds (the setting, from #liveness-settings: dashboard/engine/defaults.toml), the
   page shows a full-width technical alarm (#liveness-alarm, role="alert", above everything else, the page's
   content greyed) saying what is wrong and what to do, and sounds the technical pattern of assets/alarm_sound.js
   through the same AudioContext. What is wrong is read from the last failed answer:
   - 401 or 403: this screen's sign-in has ended (idle or absolute limit, a password reset, a role change): "Sign
     in again" opens the sign-in page, which brings the nurse back to this same page afterwards (?next=);
   - any other error status: the server answers with an error;
   - no answer at all (the request failed, or hangs): the server is not answering or the network is down.
   It clears itself at the next fresh answer. While the tab is hidden and no answer failed, the browser may hold
   its polls back (background throttling): that is not counted as an outage, and a tab brought back gets
   `screen.stale_after` to refresh.

   The page also tells the server it is live (dashboard/ui/shell.py): each poll, the clientside callback
   `liveness.report` gives this page load's random id, the page shown and the AudioContext's state.

   window.__liveness reports the watchdog's state for tests and the console:
   {state: "starting" | "fresh" | "stale", reason: "" | "signed-out" | "server-error" | "no-answer",
    status (last failed HTTP status, 0: none), lastFreshAt, staleSince (epoch ms), answers, failures,
    soundRequests, screen (this page load's id), staleAfterS}. */
(function () {
  const CALLBACK = "_dash-update-component";
  const LOOK_EVERY_MS = 1000;  // how often the watchdog looks: a tenth of the 10 s it guards
  const report = { state: "starting", reason: "", status: 0, lastFreshAt: Date.now(), staleSince: null, answers: 0,
                   failures: 0, soundRequests: 0, screen: pageLoadId(), staleAfterS: null };
  window.__liveness = report;
  let lastFailure = null;  // {reason, status, at}
  let watchedSince = Date.now();  // last seen hidden: a hidden tab's polls held back by the browser are no outage
  let lastReported = null;

  function pageLoadId() {  // crypto.randomUUID needs https; getRandomValues does not
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function answered(status) {
    if (status >= 200 && status < 300) {
      report.answers += 1;
      report.lastFreshAt = Date.now();
      lastFailure = null;
      look();
      return;
    }
    failed(status === 401 || status === 403 ? "signed-out" : "server-error", status);
  }

  function failed(reason, status) {
    report.failures += 1;
    lastFailure = { reason: reason, status: status, at: Date.now() };
  }

  const fetchFirst = window.fetch.bind(window);
  window.fetch = function (input, init) {
    const url = typeof input === "string" ? input : (input && input.url) || String(input);
    const sent = fetchFirst(input, init);
    if (url.indexOf(CALLBACK) === -1) return sent;
    return sent.then(function (response) { answered(response.status); return response; },
                     function (error) { failed("no-answer", 0); throw error; });
  };

  function staleAfterMs() {
    const settings = document.getElementById("liveness-settings");
    const seconds = settings ? parseFloat(settings.dataset.staleAfterS) : NaN;
    report.staleAfterS = isNaN(seconds) ? null : seconds;
    return isNaN(seconds) ? null : seconds * 1000;
  }

  function clock(ms) { return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }); }

  function message(reason, status) {
    const since = clock(report.lastFreshAt);
    if (reason === "signed-out") {
      return { title: "THIS SCREEN IS SIGNED OUT: it is not updating.",
               text: "Its sign-in has ended (time limit, password or role changed). Alarms shown here are not " +
                     "current since " + since + "; the bedside monitors stay primary.",
               action: "Sign in again" };
    }
    if (reason === "server-error") {
      return { title: "THE SERVER ANSWERS WITH AN ERROR (" + status + "): this screen is not updating.",
               text: "Last update " + since + ". Watch the bedside monitors, which stay primary, and call " +
                     "whoever runs the monitor's server. This screen retries by itself." };
    }
    return { title: "NO CONNECTION TO THE SERVER: this screen is not updating.",
             text: "The server is not answering or the network is down; last update " + since + ". Watch the " +
                   "bedside monitors, which stay primary, and check the network and the monitor's server. This " +
                   "screen retries by itself." };
  }

  function show(reason, status) {
    let alarm = document.getElementById("liveness-alarm");
    const key = reason + ":" + status + ":" + report.lastFreshAt;
    if (!alarm) {
      alarm = document.createElement("div");
      alarm.id = "liveness-alarm";
      alarm.className = "liveness-alarm";
      alarm.setAttribute("role", "alert");
      document.body.insertBefore(alarm, document.body.firstChild);  // outside Dash's tree: shown even if it fails
    }
    if (alarm.dataset.key !== key) {  // rewritten only when what it says changes: an alert is read out each time
      const words = message(reason, status);
      alarm.dataset.key = key;
      alarm.dataset.reason = reason;
      alarm.replaceChildren();
      const marker = document.createElement("span");
      marker.className = "banner-marker";
      marker.setAttribute("aria-hidden", "true");
      const title = document.createElement("strong");
      title.textContent = words.title + " ";
      const text = document.createElement("span");
      text.textContent = words.text + " ";
      alarm.append(marker, title, text);
      if (words.action) {
        const link = document.createElement("a");
        link.id = "liveness-sign-in";
        link.className = "liveness-action";
        link.href = "/login?next=" + encodeURIComponent(location.pathname);
        link.textContent = words.action;
        alarm.append(link);
      }
    }
    document.documentElement.dataset.liveness = "stale";
    document.documentElement.style.setProperty("--liveness-h", alarm.offsetHeight + "px");
  }

  function clear() {
    const alarm = document.getElementById("liveness-alarm");
    if (alarm) alarm.remove();
    delete document.documentElement.dataset.liveness;
    document.documentElement.style.removeProperty("--liveness-h");
  }

  function look() {
    const limit = staleAfterMs();
    if (limit === null) return;  // not one of the monitor's pages (yet): nothing to guard
    const now = Date.now();
    if (report.state === "starting" && report.answers === 0) {  // the layout just came from the server: fresh
      report.lastFreshAt = now;
      report.state = "fresh";
    }
    if (!lastFailure && document.visibilityState === "hidden") {  // held back by the browser, not failing
      watchedSince = now;
      return;
    }
    const from = lastFailure ? report.lastFreshAt : Math.max(report.lastFreshAt, watchedSince);
    if (now - from < limit) {
      if (report.state !== "fresh") clear();
      report.state = "fresh";
      report.reason = "";
      report.status = 0;
      report.staleSince = null;
      return;
    }
    const reason = lastFailure ? lastFailure.reason : "no-answer";
    if (report.state !== "stale") report.staleSince = now;
    report.state = "stale";
    report.reason = reason;
    report.status = lastFailure ? lastFailure.status : 0;
    show(reason, report.status);
    report.soundRequests += 1;
    if (window.__alarmSound && window.__alarmSound.soundTechnical) window.__alarmSound.soundTechnical();
  }

  setInterval(look, LOOK_EVERY_MS);

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    liveness: {
      // This page load as the server should know it (dashboard/ui/shell.py): sent when it changes.
      report: function (_n) {
        const sound = window.__alarmSound;
        const now = { screen: report.screen, audio: (sound && sound.state) || "none", page: location.pathname };
        if (lastReported && lastReported.audio === now.audio && lastReported.page === now.page) {
          return window.dash_clientside.no_update;
        }
        lastReported = now;
        return now;
      },
    },
  });
})();
