/* Shared helpers for the media-hub viewer pages (no framework, no build step). */
(function () {
  "use strict";

  function readJson(id, fallback) {
    var node = document.getElementById(id);
    if (!node) return fallback;
    try {
      return JSON.parse(node.textContent);
    } catch (err) {
      return fallback;
    }
  }

  var labels = readJson("hub-labels", { kind: {}, status: {}, failed_default: "" });

  function statusLabel(status) {
    return (labels.status && labels.status[status]) || status || "";
  }

  function kindLabel(kind) {
    return (labels.kind && labels.kind[kind]) || kind || "";
  }

  /* Progress fraction (0..1) to a whole percentage, or null when unknown. */
  function percent(progress) {
    if (progress === null || progress === undefined || typeof progress !== "number" || !isFinite(progress)) {
      return null;
    }
    return Math.floor(Math.min(1, Math.max(0, progress)) * 100);
  }

  function setProgress(progressEl, textEl, progress) {
    var pct = percent(progress);
    if (pct === null) {
      progressEl.removeAttribute("value"); /* indeterminate bar */
      if (textEl) textEl.textContent = "";
    } else {
      progressEl.value = pct;
      if (textEl) textEl.textContent = pct + "%";
    }
  }

  function isPending(status) {
    return status === "uploaded" || status === "processing";
  }

  /* Transcoded: playable by whoever may see it (drafts, items in review, published items). */
  function isPlayable(status) {
    return status === "ready" || status === "in_review" || status === "published";
  }

  /* The session's CSRF token; every script that POSTs sends it as the X-CSRF-Token header. */
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return (meta && meta.getAttribute("content")) || "";
  }

  /* Login page URL that comes back to the current page afterwards. */
  function loginUrl() {
    return "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search);
  }

  /*
   * Poll `url` every `intervalMs` while `onData(json)` returns true.
   * Network hiccups back off (up to 30 s) instead of stopping; polls pause while the tab is hidden.
   */
  function poll(url, intervalMs, onData) {
    var delay = intervalMs;
    var timer = null;
    var stopped = false;

    function schedule(ms) {
      if (!stopped) timer = window.setTimeout(tick, ms);
    }

    function tick() {
      timer = null;
      if (document.hidden) {
        schedule(intervalMs);
        return;
      }
      fetch(url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          delay = intervalMs;
          if (onData(data) === false) {
            stopped = true;
          } else {
            schedule(intervalMs);
          }
        })
        .catch(function () {
          delay = Math.min(delay * 2, 30000);
          schedule(delay);
        });
    }

    schedule(intervalMs);
    return {
      stop: function () {
        stopped = true;
        if (timer !== null) window.clearTimeout(timer);
      },
    };
  }

  window.hub = {
    labels: labels,
    readJson: readJson,
    statusLabel: statusLabel,
    kindLabel: kindLabel,
    percent: percent,
    setProgress: setProgress,
    isPending: isPending,
    isPlayable: isPlayable,
    csrfToken: csrfToken,
    loginUrl: loginUrl,
    poll: poll,
  };
})();
