/* Watch page: HLS playback (hls.js or native), quality selector, live processing status. */
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
  var qualityBox = document.getElementById("quality-box");
  var qualitySelect = document.getElementById("quality");

  function showPlayerError(message) {
    if (!playerError) return;
    playerError.textContent = message;
    playerError.hidden = false;
  }

  function levelLabel(level, sameHeightCount) {
    var kbps = level.bitrate ? Math.round(level.bitrate / 1000) : 0;
    if (!level.height) return kbps ? kbps + " kbps" : level.name || "";
    var label = level.height + "p";
    if (sameHeightCount > 1 && kbps) label += " (" + kbps + " kbps)";
    return label;
  }

  function buildQualityMenu(hls) {
    var levels = hls.levels || [];
    if (!qualitySelect || !qualityBox || levels.length < 2) return;

    var heightCounts = {};
    levels.forEach(function (level) {
      heightCounts[level.height] = (heightCounts[level.height] || 0) + 1;
    });

    var order = levels.map(function (level, index) {
      return { level: level, index: index };
    });
    order.sort(function (a, b) {
      return (b.level.height || 0) - (a.level.height || 0) || (b.level.bitrate || 0) - (a.level.bitrate || 0);
    });

    while (qualitySelect.options.length > 1) qualitySelect.remove(1);
    order.forEach(function (entry) {
      var option = document.createElement("option");
      option.value = String(entry.index);
      option.textContent = levelLabel(entry.level, heightCounts[entry.level.height]);
      qualitySelect.appendChild(option);
    });
    qualitySelect.value = "-1";
    qualityBox.hidden = false;

    qualitySelect.addEventListener("change", function () {
      /* -1 hands control back to adaptive bitrate selection. */
      hls.currentLevel = parseInt(qualitySelect.value, 10);
    });
  }

  function updateAutoLabel(hls, levelIndex) {
    if (!qualitySelect) return;
    var autoOption = qualitySelect.options[0];
    var level = hls.levels && hls.levels[levelIndex];
    autoOption.textContent = hls.autoLevelEnabled && level ? "Tự động (" + levelLabel(level, 1) + ")" : "Tự động";
  }

  function startHls(Hls, url) {
    var hls = new Hls({ capLevelToPlayerSize: true });
    window.hubPlayer = hls;

    var networkRetries = 0;
    var mediaRetries = 0;
    var failMessage = "Không phát được video. Vui lòng tải lại trang hoặc thử lại sau.";

    hls.on(Hls.Events.MANIFEST_PARSED, function () {
      buildQualityMenu(hls);
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, function (event, info) {
      updateAutoLabel(hls, info.level);
    });
    hls.on(Hls.Events.ERROR, function (event, info) {
      if (!info.fatal) return;
      var manifestFailed = /^manifest/i.test(String(info.details || ""));
      if (info.type === Hls.ErrorTypes.NETWORK_ERROR && !manifestFailed && networkRetries < 3) {
        networkRetries += 1;
        hls.startLoad();
      } else if (info.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRetries < 2) {
        mediaRetries += 1;
        hls.recoverMediaError();
      } else {
        showPlayerError(failMessage);
      }
    });

    hls.attachMedia(video);
    hls.loadSource(url);
  }

  if (video && data.master_url) {
    var Hls = window.Hls;
    if (Hls && Hls.isSupported()) {
      startHls(Hls, data.master_url);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = data.master_url;
      video.addEventListener("error", function () {
        showPlayerError("Không phát được video. Vui lòng tải lại trang hoặc thử lại sau.");
      });
    } else {
      showPlayerError("Trình duyệt này không hỗ trợ phát video trực tuyến. Vui lòng dùng trình duyệt khác hoặc tải tệp gốc.");
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
