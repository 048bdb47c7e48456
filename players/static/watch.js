/*
 * Watch page: HLS playback (hls.js or native), quality and subtitle selectors (hub.player, player.js),
 * live processing status.
 * Globals: window.hubPlayer (the hls.js instance, or null) and window.hubSubtitles (set by hub.player.toolbar).
 */
(function () {
  "use strict";

  var hub = window.hub;
  var data = hub ? hub.readJson("watch-data", null) : null;
  if (!hub || !data) return;

  var POLL_MS = 2000;
  window.hubPlayer = null;

  /* ---------- Playback ---------- */

  var video = document.getElementById("player");
  var playerError = document.getElementById("player-error");
  var FAIL_MESSAGE = "Không phát được video. Vui lòng tải lại trang hoặc thử lại sau.";
  var controls = hub.player.toolbar(video);

  function startHls(Hls, url) {
    /* renderTextTracksNatively (the default): subtitle cues go to video.textTracks. */
    var hls = new Hls({ capLevelToPlayerSize: true, renderTextTracksNatively: true });
    window.hubPlayer = hls;
    controls.attachHls(Hls, hls);
    hub.player.recover(Hls, hls, function () {
      hub.player.showError(playerError, FAIL_MESSAGE);
    });
    hls.attachMedia(video);
    hls.loadSource(url);
  }

  if (video && data.master_url) {
    var Hls = window.Hls;
    if (Hls && Hls.isSupported()) {
      startHls(Hls, data.master_url);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      controls.attachNative();
      video.src = data.master_url;
      video.addEventListener("error", function () {
        hub.player.showError(playerError, FAIL_MESSAGE);
      });
    } else {
      hub.player.showError(playerError, "Trình duyệt này không hỗ trợ phát video trực tuyến. Vui lòng dùng trình duyệt khác hoặc tải tệp gốc.");
    }
  }

  /* ---------- Live status while the item is not ready yet ---------- */

  var article = document.getElementById("watch");
  var panel = document.getElementById("status-panel");
  if (!article || !panel || !hub.isPending(data.status) || !data.api_url) return;

  function render(item) {
    var status = item.status;
    article.setAttribute("data-status", status);

    Array.prototype.forEach.call(document.querySelectorAll('[data-role="status"]'), function (el) {
      if (el.getAttribute("data-status-shown") === status) return;
      el.setAttribute("data-status-shown", status);
      el.className = "status status--" + status;
      el.textContent = hub.statusLabel(status);
    });

    Array.prototype.forEach.call(panel.querySelectorAll("[data-show-when]"), function (el) {
      el.hidden = el.getAttribute("data-show-when").split(" ").indexOf(status) === -1;
    });

    var progressEl = panel.querySelector('[data-role="progress"] progress');
    if (progressEl && status === "processing") {
      hub.setProgress(progressEl, panel.querySelector('[data-role="progress-text"]'), item.progress);
    }

    var errorText = panel.querySelector('[data-role="error-text"]');
    if (errorText && status === "failed") {
      errorText.textContent = item.error || hub.labels.failed_default || "";
    }
  }

  hub.poll(data.api_url, POLL_MS, function (response) {
    var item = response && response.item ? response.item : response;
    if (!item || !item.status) return true;
    if (hub.isPlayable(item.status)) {
      window.location.reload();
      return false;
    }
    render(item);
    return hub.isPending(item.status);
  });
})();
