/*
 * Watch page: HLS playback (hls.js or native), quality and subtitle selectors, live processing status.
 * Globals: window.hubPlayer (the hls.js instance, or null) and window.hubSubtitles.
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
  var qualityBox = document.getElementById("quality-box");
  var qualitySelect = document.getElementById("quality");
  var subtitlesBox = document.getElementById("subtitles-box");
  var subtitlesSelect = document.getElementById("subtitles");
  var LANGUAGE_NAMES = { vi: "Tiếng Việt" };
  var PREFERRED_LANGUAGE = "vi";

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

  /* ---------- Subtitles ---------- */

  function isVietnamese(lang) {
    return String(lang || "").toLowerCase().split("-")[0] === PREFERRED_LANGUAGE;
  }

  function subtitleLabel(name, lang) {
    var key = String(lang || "").toLowerCase().split("-")[0];
    return name || LANGUAGE_NAMES[key] || lang || "Phụ đề";
  }

  /* entries: [{value, label}]; `selected` is the value shown ("-1" is "Tắt"). */
  function fillSubtitleMenu(entries, selected) {
    if (!subtitlesSelect || !subtitlesBox) return;
    while (subtitlesSelect.options.length > 1) subtitlesSelect.remove(1);
    entries.forEach(function (entry) {
      var option = document.createElement("option");
      option.value = String(entry.value);
      option.textContent = entry.label;
      subtitlesSelect.appendChild(option);
    });
    subtitlesSelect.value = String(selected);
    subtitlesBox.hidden = entries.length === 0;
  }

  function showSubtitleChoice(value) {
    if (subtitlesSelect && subtitlesSelect.value !== String(value)) subtitlesSelect.value = String(value);
  }

  /* hls.js: tracks from the master playlist's SUBTITLES group, drawn natively (video.textTracks). */
  function setupHlsSubtitles(Hls, hls) {
    var chosenByViewer = false;

    function shownIndex() {
      return hls.subtitleDisplay && hls.subtitleTrack > -1 ? hls.subtitleTrack : -1;
    }

    function build() {
      var tracks = hls.subtitleTracks || [];
      if (!chosenByViewer) {
        var preferred = -1;
        tracks.forEach(function (t, index) {
          if (preferred === -1 && isVietnamese(t.lang)) preferred = index;
        });
        if (preferred > -1) {
          hls.subtitleDisplay = true;
          if (hls.subtitleTrack !== preferred) hls.subtitleTrack = preferred;
        }
      }
      fillSubtitleMenu(
        tracks.map(function (t, index) {
          return { value: index, label: subtitleLabel(t.name, t.lang) };
        }),
        shownIndex()
      );
    }

    hls.on(Hls.Events.MANIFEST_PARSED, build);
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, build);
    hls.on(Hls.Events.SUBTITLE_TRACK_SWITCH, function () {
      showSubtitleChoice(shownIndex());
    });
    if (video && video.textTracks && video.textTracks.addEventListener) {
      /* The browser's own captions menu changes track modes: follow it. */
      video.textTracks.addEventListener("change", function () {
        window.setTimeout(function () {
          showSubtitleChoice(shownIndex());
        }, 0);
      });
    }
    if (subtitlesSelect) {
      subtitlesSelect.addEventListener("change", function () {
        chosenByViewer = true;
        var index = parseInt(subtitlesSelect.value, 10);
        if (index < 0) {
          hls.subtitleDisplay = false;
          hls.subtitleTrack = -1;
        } else {
          hls.subtitleDisplay = true;
          hls.subtitleTrack = index;
        }
      });
    }

    return {
      select: function (index) {
        chosenByViewer = true;
        subtitlesSelect.value = String(index);
        subtitlesSelect.dispatchEvent(new Event("change"));
      },
    };
  }

  /* Native HLS (Safari): the subtitle renditions appear in video.textTracks by themselves. */
  function setupNativeSubtitles() {
    var textTracks = video.textTracks;
    if (!textTracks) return null;
    var chosenByViewer = false;

    function subtitleTracks() {
      var out = [];
      for (var i = 0; i < textTracks.length; i += 1) {
        var t = textTracks[i];
        if (t.kind === "subtitles" || t.kind === "captions") out.push(t);
      }
      return out;
    }

    function shownIndex() {
      var shown = -1;
      subtitleTracks().forEach(function (t, index) {
        if (shown === -1 && t.mode === "showing") shown = index;
      });
      return shown;
    }

    function choose(index) {
      subtitleTracks().forEach(function (t, i) {
        t.mode = i === index ? "showing" : "disabled";
      });
    }

    function build() {
      var tracks = subtitleTracks();
      if (!chosenByViewer) {
        var preferred = -1;
        tracks.forEach(function (t, index) {
          if (preferred === -1 && isVietnamese(t.language)) preferred = index;
        });
        if (preferred > -1) choose(preferred);
      }
      fillSubtitleMenu(
        tracks.map(function (t, index) {
          return { value: index, label: subtitleLabel(t.label, t.language) };
        }),
        shownIndex()
      );
    }

    if (textTracks.addEventListener) {
      textTracks.addEventListener("addtrack", build);
      textTracks.addEventListener("removetrack", build);
      textTracks.addEventListener("change", function () {
        showSubtitleChoice(shownIndex());
      });
    }
    if (subtitlesSelect) {
      subtitlesSelect.addEventListener("change", function () {
        chosenByViewer = true;
        choose(parseInt(subtitlesSelect.value, 10));
      });
    }
    build();
    return {
      select: function (index) {
        chosenByViewer = true;
        subtitlesSelect.value = String(index);
        choose(index);
      },
    };
  }

  /* For tests and embedding: the text of the cues on screen now ("" when none), lines joined by "\n". */
  function activeCueText() {
    if (!video || !video.textTracks) return "";
    var texts = [];
    for (var i = 0; i < video.textTracks.length; i += 1) {
      var t = video.textTracks[i];
      if (t.mode !== "showing" || !t.activeCues) continue;
      for (var j = 0; j < t.activeCues.length; j += 1) texts.push(t.activeCues[j].text);
    }
    return texts.join("\n");
  }

  var subtitleControl = null;
  window.hubSubtitles = {
    activeCueText: activeCueText,
    /* Choose a subtitle track by its index in the menu (-1 turns subtitles off). */
    select: function (index) {
      if (subtitleControl) subtitleControl.select(index);
    },
  };

  function startHls(Hls, url) {
    /* renderTextTracksNatively (the default): subtitle cues go to video.textTracks. */
    var hls = new Hls({ capLevelToPlayerSize: true, renderTextTracksNatively: true });
    window.hubPlayer = hls;
    subtitleControl = setupHlsSubtitles(Hls, hls);

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
      subtitleControl = setupNativeSubtitles();
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
