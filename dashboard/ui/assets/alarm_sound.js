/* Alarm sounds in the browser (Web Audio), after IEC 60601-1-8's burst patterns:
   high = 2 bursts of 5 pulses, medium = 3 pulses, low = 1 pulse, each with its own pitch and repeat.
   The server says which priority is audible (unacknowledged, not paused); this file plays it.

   Sound is never silently off. Browsers keep Web Audio suspended until someone touches the page (Chrome's
   autoplay policy), so the AudioContext is created and resumed only inside a click, tap or key press, or at
   load where the browser lets the page sound (below), and never touched otherwise (touching it earlier only
   logs a warning and plays nothing). While it is not
   running - after every load, when the system suspends it, when the tab comes back - the sound-off bar
   (#sound-off, on the screens of roles that hear alarms) says so, and one click turns sound on and plays a
   short test tone. The state shown is the AudioContext's own (`ctx.state`), re-read on load, on focus, on
   every state change and every poll.

   window.__alarmSound reports what happened, for the browser tests and for anyone at the console:
   {state, context, polls (answers from the server), oscillators (started so far), tests (test tones),
    played: [{priority, key, at}], technical: {requested, played}}.

   Technical alarms of the screen itself (assets/liveness.js: this page cannot update) have their own sound,
   TECHNICAL, through the same AudioContext: `window.__alarmSound.soundTechnical()` asks for it (call it while
   the condition lasts; it plays when due and while sound is on, and counts every request in `technical`; the
   function is not enumerable, so copies of the report stay plain data).
   The shell's "no screen sounds for these chairs" alarm (sound key "coverage") is skipped once this screen's
   sound is on: a screen with sound on whose board holds those chairs covers them itself, as the server learns at
   its next report (its audible path is alarm forwarding; docs/alarms.md). */
(function () {
  const PATTERNS = {
    high: { pitch: 880, pulses: [0, 0.15, 0.3, 0.6, 0.75, 1.0, 1.15, 1.3, 1.6, 1.75], repeatMs: 5000 },
    medium: { pitch: 660, pulses: [0, 0.25, 0.5], repeatMs: 15000 },
    low: { pitch: 440, pulses: [0], repeatMs: 30000 },
  };
  const TEST_TONE = { pitch: 660, pulses: [0] };
  // Falling two-tone, twice, in a square wave: unlike any patient alarm's pulses (a fault of the system itself).
  const TECHNICAL = { pitch: 587, pitches: [587, 392, 587, 392], pulses: [0, 0.3, 0.9, 1.2], wave: "square",
                      repeatMs: 10000 };
  const COVERAGE_KEY = "coverage";  // dashboard/ui/shell.py COVERAGE_KEY
  const PULSE_S = 0.12;
  const AudioContextClass = window.AudioContext || window.webkitAudioContext;
  const report = { state: "none", context: null, polls: 0, oscillators: 0, tests: 0, played: [],
                   technical: { requested: 0, played: 0 } };
  window.__alarmSound = report;
  let ctx = null;
  let lastPlayed = { priority: null, key: null, at: 0 };

  function running() { return ctx !== null && ctx.state === "running"; }

  function showState() {
    report.state = ctx ? ctx.state : "none";
    const bar = document.getElementById("sound-off");
    if (bar) bar.hidden = running();
  }

  function beep(pattern) {
    const start = ctx.currentTime + 0.02;
    pattern.pulses.forEach(function (offset, index) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = pattern.pitches ? pattern.pitches[index] : pattern.pitch;
      if (pattern.wave) osc.type = pattern.wave;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, start + offset + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + PULSE_S);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start + offset);
      osc.stop(start + offset + PULSE_S + 0.02);
      report.oscillators += 1;
    });
  }

  // Inside a user gesture only: create the context if need be, resume it, and confirm with a test tone.
  // A click made by a script is no gesture (the browser would refuse the context and log a warning).
  function enable(event) {
    if (!AudioContextClass || running()) return;
    if (event && (!event.isTrusted || (navigator.userActivation && !navigator.userActivation.isActive))) return;
    if (!ctx) {
      ctx = new AudioContextClass();
      ctx.addEventListener("statechange", showState);
      report.context = ctx;
    }
    ctx.resume().then(function () {
      showState();
      if (running()) { beep(TEST_TONE); report.tests += 1; }
    });
    showState();
  }

  ["click", "keydown", "touchend"].forEach(function (type) {
    document.addEventListener(type, enable, true);
  });
  // Where the browser lets sound start without a touch (a ward display's kiosk Chromium started with
  // --autoplay-policy=no-user-gesture-required: docs/ward-display.md; Firefox's site setting), it starts at load.
  // Firefox says so (getAutoplayPolicy). Chromium cannot say, so it is asked to play 50 ms of silence: a refusal
  // is silent, and the AudioContext is made only when the clip was allowed: never a blocked context.
  function startIfAllowed() {
    if (navigator.getAutoplayPolicy) {
      if (navigator.getAutoplayPolicy("audiocontext") === "allowed") enable();
      return;
    }
    const probe = new Audio("/assets/silence.wav");
    probe.play().then(function () { enable(); }, function () { /* a touch turns sound on (the sound-off bar) */ });
  }
  startIfAllowed();
  ["focus", "pageshow"].forEach(function (type) { window.addEventListener(type, showState); });
  document.addEventListener("visibilitychange", showState);
  // The bar is drawn by Dash after this file runs: show it as soon as it exists.
  new MutationObserver(function (_records, observer) {
    if (document.getElementById("sound-off")) { showState(); observer.disconnect(); }
  }).observe(document.documentElement, { childList: true, subtree: true });

  let technicalAt = 0;
  // Asked for every second or so while a technical alarm of this screen lasts: plays when due, if sound is on.
  Object.defineProperty(report, "soundTechnical", { enumerable: false, value: function () {
    report.technical.requested += 1;
    const now = Date.now();
    if (!running() || now - technicalAt < TECHNICAL.repeatMs) return false;
    technicalAt = now;
    report.technical.played += 1;
    beep(TECHNICAL);
    return true;
  } });

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    alarms: {
      sound: function (sound, _n) {
        report.polls += 1;
        showState();
        if (sound && sound.key === COVERAGE_KEY && running()) sound = null;  // this screen covers them (above)
        const priority = sound && sound.priority;
        if (!priority || !PATTERNS[priority]) { lastPlayed = { priority: null, key: null, at: 0 }; return priority || ""; }
        const now = Date.now();
        const changed = priority !== lastPlayed.priority || (sound.key && sound.key !== lastPlayed.key);
        if (!running()) return priority;  // the bar is up; the context is left alone; it plays once sound is on
        if (changed || now - lastPlayed.at >= PATTERNS[priority].repeatMs) {
          report.played.push({ priority: priority, key: sound.key, at: now });
          beep(PATTERNS[priority]);
          lastPlayed = { priority: priority, key: sound.key, at: now };
        }
        return priority;
      },
    },
  });
})();
