/* Library page: live status/progress for items still being uploaded or processed. */
(function () {
  "use strict";

  var hub = window.hub;
  var list = document.getElementById("library");
  if (!hub || !list) return;

  var POLL_MS = 2000;
  var pollUrl = list.getAttribute("data-poll-url") || "/api/v1/media?limit=100";

  function cards() {
    return Array.prototype.slice.call(list.querySelectorAll(".card[data-media-id]"));
  }

  function anyPending() {
    return cards().some(function (card) {
      return hub.isPending(card.getAttribute("data-status"));
    });
  }

  function updateCard(card, item) {
    var previous = card.getAttribute("data-status");
    var status = item.status;

    var statusEl = card.querySelector('[data-role="status"]');
    var progressBox = card.querySelector('[data-role="progress"]');
    var progressEl = progressBox && progressBox.querySelector("progress");
    var progressText = card.querySelector('[data-role="progress-text"]');
    var errorBox = card.querySelector('[data-role="error"]');
    var errorText = card.querySelector('[data-role="error-text"]');

    if (status !== previous) {
      card.setAttribute("data-status", status);
      if (statusEl) {
        statusEl.className = "status status--" + status;
        statusEl.textContent = hub.statusLabel(status);
      }
    }

    if (progressBox && progressEl) {
      progressBox.hidden = status !== "processing";
      if (status === "processing") hub.setProgress(progressEl, progressText, item.progress);
    }

    if (errorBox) {
      errorBox.hidden = status !== "failed";
      if (status === "failed" && errorText) {
        errorText.textContent = item.error || hub.labels.failed_default || "";
      }
    }

    /* A newly finished item has a poster and duration now: reload to show them. */
    return status !== previous && hub.isPlayable(status);
  }

  function onData(data) {
    var items = (data && data.items) || [];
    var byId = {};
    items.forEach(function (item) {
      byId[String(item.id)] = item;
    });

    var needsReload = false;
    cards().forEach(function (card) {
      var item = byId[card.getAttribute("data-media-id")];
      if (item && updateCard(card, item)) needsReload = true;
    });

    if (needsReload) {
      window.location.reload();
      return false;
    }
    return anyPending();
  }

  if (anyPending()) hub.poll(pollUrl, POLL_MS, onData);
})();
