/* Alarm sounds in the browser (Web Audio), after IEC 60601-1-8's burst patterns:
   high = 2 bursts of 5 pulses, medium = 3 pulses, low = 1 pulse, each with its own pitch and repeat.
   The server says which priority is audible (unacknowledged, not paused); this file only plays it. */
(function () {
  const PATTERNS = {
    high: { pitch: 880, pulses: [0, 0.15, 0.3, 0.6, 0.75, 1.0, 1.15, 1.3, 1.6, 1.75], repeatMs: 5000 },
    medium: { pitch: 660, pulses: [0, 0.25, 0.5], repeatMs: 15000 },
    low: { pitch: 440, pulses: [0], repeatMs: 30000 },
  };
  const PULSE_S = 0.12;
  let ctx = null;
  let lastPlayed = { priority: null, at: 0 };
  window.__alarmSoundLog = [];

  function audio() {
    if (!ctx && (window.AudioContext || window.webkitAudioContext)) {
      ctx = new (window.AudioContext || window.webkitAudioContext)();
    }
    return ctx;
  }
  // Browsers start audio suspended until the page is touched: any click enables it.
  document.addEventListener("click", function () { const a = audio(); if (a && a.state === "suspended") a.resume(); });

  function play(priority) {
    const pattern = PATTERNS[priority];
    window.__alarmSoundLog.push({ priority: priority, at: Date.now() });
    const a = audio();
    if (!a) return;
    const start = a.currentTime + 0.02;
    pattern.pulses.forEach(function (offset) {
      const osc = a.createOscillator();
      const gain = a.createGain();
      osc.frequency.value = pattern.pitch;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, start + offset + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + PULSE_S);
      osc.connect(gain).connect(a.destination);
      osc.start(start + offset);
      osc.stop(start + offset + PULSE_S + 0.02);
    });
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    alarms: {
      sound: function (sound, _n) {
        const priority = sound && sound.priority;
        if (!priority || !PATTERNS[priority]) { lastPlayed = { priority: null, at: 0 }; return priority || ""; }
        const now = Date.now();
        const changed = priority !== lastPlayed.priority || (sound.key && sound.key !== lastPlayed.key);
        if (changed || now - lastPlayed.at >= PATTERNS[priority].repeatMs) {
          play(priority);
          lastPlayed = { priority: priority, key: sound.key, at: now };
        }
        return priority;
      },
    },
  });
})();
