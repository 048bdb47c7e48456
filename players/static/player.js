/*
 * hub.player: the parts of the HLS player that the watch page, the channel page, the embedded
 * player and the subtitle editor share. Load it after hub-common.js (where the page has it) and
 * before the page's script.
 *
 *   hub.player.showError(el, message)      the player's error line (#player-error)
 *   hub.player.recover(Hls, hls, onFail)   retry network errors 3 times (not a missing master
 *                                          playlist) and media errors twice, then onFail()
 *   hub.player.isVietnamese(lang)          "vi", "vi-VN", …
 *   hub.player.toolbar(video, options)     the quality and subtitle menus under the video and
 *                                          window.hubSubtitles {activeCueText(), select(index)}
 */
(function () {
  "use strict";

  var hub = window.hub || (window.hub = {});
  var LANGUAGE_NAMES = { vi: "Tiếng Việt" };
  var PREFERRED_LANGUAGE = "vi";

  function languageKey(lang) {
    return String(lang || "").toLowerCase().split("-")[0];
  }

  function isVietnamese(lang) {
    return languageKey(lang) === PREFERRED_LANGUAGE;
  }

  function showError(el, message) {
    if (!el) return;
    el.textContent = message;
    el.hidden = false;
  }

  function recover(Hls, hls, onFail) {
    var networkRetries = 0;
    var mediaRetries = 0;
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
        onFail();
      }
    });
  }

  /* ---------- Quality menu (#quality-box, #quality) ---------- */

  function levelLabel(level, sameHeightCount) {
    var kbps = level.bitrate ? Math.round(level.bitrate / 1000) : 0;
    if (!level.height) return kbps ? kbps + " kbps" : level.name || "";
    var label = level.height + "p";
    if (sameHeightCount > 1 && kbps) label += " (" + kbps + " kbps)";
    return label;
  }

  function setupQuality(Hls, hls) {
    var box = document.getElementById("quality-box");
    var select = document.getElementById("quality");

    function build() {
      var levels = hls.levels || [];
      if (!select || !box || levels.length < 2) return;
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
      while (select.options.length > 1) select.remove(1);
      order.forEach(function (entry) {
        var option = document.createElement("option");
        option.value = String(entry.index);
        option.textContent = levelLabel(entry.level, heightCounts[entry.level.height]);
        select.appendChild(option);
      });
      select.value = hls.autoLevelEnabled ? "-1" : String(hls.currentLevel);
      box.hidden = false;
    }

    hls.on(Hls.Events.MANIFEST_PARSED, build);
    hls.on(Hls.Events.LEVEL_SWITCHED, function (event, info) {
      if (!select) return;
      var level = hls.levels && hls.levels[info.level];
      select.options[0].textContent = hls.autoLevelEnabled && level ? "Tự động (" + levelLabel(level, 1) + ")" : "Tự động";
    });
    if (select) {
      select.addEventListener("change", function () {
        hls.currentLevel = parseInt(select.value, 10); /* -1 hands control back to adaptive bitrate */
      });
    }
  }

  /* ---------- Subtitle menu (#subtitles-box, #subtitles) ---------- */

  function subtitleMenu(anyTrack) {
    var box = document.getElementById("subtitles-box");
    var select = document.getElementById("subtitles");

    return {
      select: select,

      /* The track to show by default: the first Vietnamese one, else (anyTrack) the first one, else -1. */
      preferredIndex: function (langs) {
        var preferred = -1;
        langs.forEach(function (lang, index) {
          if (preferred === -1 && isVietnamese(lang)) preferred = index;
        });
        return preferred === -1 && anyTrack && langs.length ? 0 : preferred;
      },

      /* tracks: [{name, lang}]; `selected` is the index shown (-1 is "Tắt"). */
      fill: function (tracks, selected) {
        if (!select || !box) return;
        while (select.options.length > 1) select.remove(1);
        tracks.forEach(function (t, index) {
          var option = document.createElement("option");
          option.value = String(index);
          option.textContent = t.name || LANGUAGE_NAMES[languageKey(t.lang)] || t.lang || "Phụ đề";
          select.appendChild(option);
        });
        select.value = String(selected);
        box.hidden = tracks.length === 0;
      },

      show: function (index) {
        if (select && select.value !== String(index)) select.value = String(index);
      },
    };
  }

  /* hls.js: tracks from the master playlist's SUBTITLES group, drawn natively (video.textTracks). */
  function setupHlsSubtitles(Hls, hls, video, menu) {
    var chosenByViewer = false;

    function shownIndex() {
      return hls.subtitleDisplay && hls.subtitleTrack > -1 ? hls.subtitleTrack : -1;
    }

    function choose(index) {
      if (index < 0) {
        hls.subtitleDisplay = false;
        hls.subtitleTrack = -1;
      } else {
        hls.subtitleDisplay = true;
        hls.subtitleTrack = index;
      }
    }

    function build() {
      var tracks = hls.subtitleTracks || [];
      if (!chosenByViewer) {
        var preferred = menu.preferredIndex(tracks.map(function (t) {
          return t.lang;
        }));
        if (preferred > -1) {
          hls.subtitleDisplay = true;
          if (hls.subtitleTrack !== preferred) hls.subtitleTrack = preferred;
        }
      }
      menu.fill(tracks, shownIndex());
    }

    hls.on(Hls.Events.MANIFEST_PARSED, build);
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, build);
    hls.on(Hls.Events.SUBTITLE_TRACK_SWITCH, function () {
      menu.show(shownIndex());
    });
    if (video.textTracks && video.textTracks.addEventListener) {
      /* The browser's own captions menu changes track modes: follow it. */
      video.textTracks.addEventListener("change", function () {
        window.setTimeout(function () {
          menu.show(shownIndex());
        }, 0);
      });
    }
    if (menu.select) {
      menu.select.addEventListener("change", function () {
        chosenByViewer = true;
        choose(parseInt(menu.select.value, 10));
      });
    }
    return {
      select: function (index) {
        chosenByViewer = true;
        menu.show(index);
        choose(index);
      },
    };
  }

  /* Native HLS (Safari): the subtitle renditions appear in video.textTracks by themselves. */
  function setupNativeSubtitles(video, menu) {
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
        var preferred = menu.preferredIndex(tracks.map(function (t) {
          return t.language;
        }));
        if (preferred > -1) choose(preferred);
      }
      menu.fill(tracks.map(function (t) {
        return { name: t.label, lang: t.language };
      }), shownIndex());
    }

    if (textTracks.addEventListener) {
      textTracks.addEventListener("addtrack", build);
      textTracks.addEventListener("removetrack", build);
      textTracks.addEventListener("change", function () {
        menu.show(shownIndex());
      });
    }
    if (menu.select) {
      menu.select.addEventListener("change", function () {
        chosenByViewer = true;
        choose(parseInt(menu.select.value, 10));
      });
    }
    build();
    return {
      select: function (index) {
        chosenByViewer = true;
        menu.show(index);
        choose(index);
      },
    };
  }

  /* The text of the cues on screen now ("" when none), lines joined by "\n". */
  function activeCueText(video) {
    if (!video || !video.textTracks) return "";
    var texts = [];
    for (var i = 0; i < video.textTracks.length; i += 1) {
      var t = video.textTracks[i];
      if (t.mode !== "showing" || !t.activeCues) continue;
      for (var j = 0; j < t.activeCues.length; j += 1) texts.push(t.activeCues[j].text);
    }
    return texts.join("\n");
  }

  /*
   * The menus under `video` and window.hubSubtitles. Subtitles start on the first Vietnamese
   * track; with options.anyTrack, on the first track when none is Vietnamese.
   * Then call attachHls(Hls, hls) right after `new Hls(…)`, or attachNative() for native HLS.
   */
  function toolbar(video, options) {
    var menu = subtitleMenu(Boolean(options && options.anyTrack));
    var subtitleControl = null;

    window.hubSubtitles = {
      /* For tests and embedding. */
      activeCueText: function () {
        return activeCueText(video);
      },
      /* Choose a subtitle track by its index in the menu (-1 turns subtitles off). */
      select: function (index) {
        if (subtitleControl) subtitleControl.select(index);
      },
    };

    return {
      attachHls: function (Hls, hls) {
        subtitleControl = setupHlsSubtitles(Hls, hls, video, menu);
        setupQuality(Hls, hls);
      },
      attachNative: function () {
        subtitleControl = setupNativeSubtitles(video, menu);
      },
    };
  }

  hub.player = {
    showError: showError,
    recover: recover,
    isVietnamese: isVietnamese,
    toolbar: toolbar,
  };
})();
