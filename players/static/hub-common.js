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

  /* Background jobs of an item (item.jobs): "Nhận dạng giọng nói", "đang chạy 45%", "lỗi: …". */
  function jobTaskLabel(task) {
    return (labels.job_task && labels.job_task[task]) || task || "";
  }

  function isJobActive(job) {
    return Boolean(job) && (job.state === "queued" || job.state === "running" || job.state === "retrying");
  }

  function jobStateText(job) {
    if (!job) return "";
    var label = (labels.job_state && labels.job_state[job.state]) || job.state || "";
    if (job.state === "running") {
      var pct = percent(job.progress);
      return pct === null ? label : label + " " + pct + "%";
    }
    if (job.state === "failed") {
      var reason = String(job.error || "").trim();
      return reason ? label + ": " + reason : label;
    }
    return label;
  }

  /* The latest job of `task` in `jobs` (oldest first, as the API lists them), or null. */
  function latestJob(jobs, task) {
    var found = null;
    (jobs || []).forEach(function (job) {
      if (job && job.task === task) found = job;
    });
    return found;
  }

  /* fetch() for the hub's JSON API: same-origin cookies, the CSRF header on anything but GET,
   * JSON bodies. Resolves to {ok, status, data}; data is the parsed JSON body or null. */
  function api(method, url, body) {
    var headers = { Accept: "application/json" };
    var options = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try {
          data = text ? JSON.parse(text) : null;
        } catch (err) {
          data = null;
        }
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  /* The Vietnamese reason of a failed API call ({"detail": "…"} from the hub). */
  function apiError(result, fallback) {
    var detail = result && result.data && result.data.detail;
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail) && detail.length && detail[0] && typeof detail[0].msg === "string") {
      return fallback; /* pydantic's English validation text is not for editors */
    }
    if (result && result.status === 401) return "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.";
    if (result && result.status === 403) return "Bạn không có quyền thực hiện thao tác này.";
    return fallback;
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
    api: api,
    apiError: apiError,
    jobTaskLabel: jobTaskLabel,
    jobStateText: jobStateText,
    isJobActive: isJobActive,
    latestJob: latestJob,
  };
})();
