/*
 * Channel page: the live legal-TV stream (hls.js or native HLS), now/next refreshed from
 * GET /api/v1/channels/{slug}/now, today's guide with the programme on air highlighted.
 *
 * Globals:
 *   window.hubPlayer    the hls.js instance (null with native HLS); never destroyed or recreated:
 *                       programme boundaries are discontinuities that hls.js plays through.
 *   window.hubSubtitles {activeCueText(), select(index)} as on the watch page (hub.player, player.js).
 *   window.hubChannel   {video, nowNext, onAirEntry(), refresh(), playingDate(), serverNow()}.
 */
(function () {
  "use strict";

  var hub = window.hub;
  var data = hub ? hub.readJson("channel-data", null) : null;
  if (!hub || !data) return;

  var REFRESH_MS = 30000;
  var TICK_MS = 1000;
  var VN_OFFSET_MS = 7 * 3600 * 1000; /* Asia/Ho_Chi_Minh: UTC+7, no daylight saving time */
  var FAIL_MESSAGE = "Mất kết nối tới kênh. Đang thử kết nối lại…";

  var video = document.getElementById("player");
  var playerError = document.getElementById("player-error");
  var unmuteButton = document.getElementById("unmute");
  var guideList = document.getElementById("guide");

  window.hubPlayer = null;

  /* ---------- Clock: the server's, from the `at` of the last now/next answer ---------- */

  var clockSkewMs = 0;

  function serverNow() {
    return Date.now() + clockSkewMs;
  }

  /* What the viewer sees is a few segments behind the live edge: label now/next and the
     guide by the time of the frame on screen (EXT-X-PROGRAM-DATE-TIME) when known. */
  function viewerNow() {
    var hls = window.hubPlayer;
    var shown = hls && hls.playingDate ? hls.playingDate.getTime() : NaN;
    return isFinite(shown) ? shown : serverNow();
  }

  function parseTime(iso) {
    if (!iso) return NaN;
    return Date.parse(iso);
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /* "HH:MM" in Vietnam time, whatever the browser's time zone. */
  function vnClock(ms) {
    if (!isFinite(ms)) return "";
    var d = new Date(ms + VN_OFFSET_MS);
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  /* ---------- Player messages ---------- */

  function showPlayerError(message) {
    hub.player.showError(playerError, message);
  }

  function clearPlayerError() {
    if (playerError && !playerError.hidden) {
      playerError.hidden = true;
      playerError.textContent = "";
    }
  }

  /* Autoplay needs the video muted; offer one click to turn the sound on. */
  function syncUnmute() {
    if (unmuteButton && video) unmuteButton.hidden = !video.muted;
  }

  if (unmuteButton && video) {
    unmuteButton.addEventListener("click", function () {
      video.muted = false;
      if (video.volume === 0) video.volume = 1;
      if (video.paused) tryPlay();
      syncUnmute();
    });
    video.addEventListener("volumechange", syncUnmute);
    syncUnmute();
  }

  function tryPlay() {
    if (!video) return;
    var result = video.play();
    if (result && typeof result.catch === "function") result.catch(function () {});
  }

  /* ---------- Quality and subtitle menus (subtitles on by default when the stream has them) ---------- */

  var controls = hub.player.toolbar(video, { anyTrack: true });

  /* ---------- Live playback ---------- */

  function startHls(Hls, url) {
    var hls = new Hls({
      liveSyncDurationCount: 3,
      capLevelToPlayerSize: true,
      renderTextTracksNatively: true,
    });
    window.hubPlayer = hls;
    controls.attachHls(Hls, hls);

    /* Recovery never destroys the instance: the same hls.js keeps the same <video>. */
    var networkFailures = 0;
    var retryTimer = null;
    var mediaErrorTimes = [];

    function retryNetwork(manifestFailed) {
      if (retryTimer !== null) return;
      networkFailures += 1;
      if (networkFailures > 2) showPlayerError(FAIL_MESSAGE);
      var delay = Math.min(1000 * Math.pow(2, networkFailures - 1), 15000);
      retryTimer = window.setTimeout(function () {
        retryTimer = null;
        if (manifestFailed && !(hls.levels && hls.levels.length)) {
          hls.loadSource(url); /* the master playlist never arrived: ask for it again */
        } else {
          hls.startLoad();
        }
      }, networkFailures === 1 ? 0 : delay);
    }

    function recoverMedia() {
      var now = Date.now();
      mediaErrorTimes = mediaErrorTimes.filter(function (t) {
        return now - t < 60000;
      });
      mediaErrorTimes.push(now);
      if (mediaErrorTimes.length > 5) {
        showPlayerError("Không phát được kênh. Vui lòng tải lại trang hoặc thử lại sau.");
      }
      hls.recoverMediaError();
    }

    hls.on(Hls.Events.MANIFEST_PARSED, tryPlay);
    hls.on(Hls.Events.FRAG_BUFFERED, function () {
      if (networkFailures) {
        networkFailures = 0;
        clearPlayerError();
      }
    });
    hls.on(Hls.Events.ERROR, function (event, info) {
      if (!info.fatal) return;
      if (info.type === Hls.ErrorTypes.NETWORK_ERROR) {
        retryNetwork(/^manifest/i.test(String(info.details || "")));
      } else if (info.type === Hls.ErrorTypes.MEDIA_ERROR) {
        recoverMedia();
      } else {
        /* Other fatal errors (e.g. mux): try the media path again, still the same instance. */
        recoverMedia();
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
      controls.attachNative();
      video.src = data.master_url;
      video.addEventListener("loadedmetadata", tryPlay);
      video.addEventListener("error", function () {
        showPlayerError("Không phát được kênh. Vui lòng tải lại trang hoặc thử lại sau.");
      });
    } else {
      showPlayerError("Trình duyệt này không hỗ trợ phát video trực tuyến. Hãy dùng trình duyệt khác hoặc mở danh sách kênh bằng VLC.");
    }
  }

  /* ---------- Now / next ---------- */

  var nowNext = data.now_next || null;
  var nowTitle = document.getElementById("now-title");
  var nowTime = document.getElementById("now-time");
  var nowProgress = document.getElementById("now-progress");
  var nextTitle = document.getElementById("next-title");
  var nextTime = document.getElementById("next-time");
  var nextUp = document.getElementById("next-up");

  function setText(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  function entryFromGuide(li) {
    return li ? { title: li.querySelector(".guide__title").firstChild.textContent.trim(),
                  start: li.getAttribute("data-start"), stop: li.getAttribute("data-stop") } : null;
  }

  /* What to show: the last answer of the API, or, once its programme is over and no fresh
   * answer came yet, the guide's entry on air and the one after it. */
  function shownNowNext() {
    var current = nowNext && nowNext.now;
    var following = nowNext && nowNext.next;
    var stop = current ? parseTime(current.stop) : NaN;
    var t = viewerNow();
    if (!isFinite(stop) || t < stop) return { now: current, next: following };
    var index = -1;
    guideEntries.forEach(function (li, i) {
      if (index === -1 && li.__start <= t && t < li.__stop) index = i;
    });
    if (index > -1) return { now: entryFromGuide(guideEntries[index]), next: entryFromGuide(guideEntries[index + 1]) };
    if (following && parseTime(following.start) <= t) return { now: following, next: null };
    return { now: current, next: following };
  }

  function renderNowNext() {
    var shown = shownNowNext();
    var current = shown.now;
    var following = shown.next;
    if (current) {
      setText(nowTitle, current.title || "—");
      var start = parseTime(current.start);
      var stop = parseTime(current.stop);
      setText(nowTime, !isFinite(start) ? "" : isFinite(stop) ? "(" + vnClock(start) + "–" + vnClock(stop) + ")" : "(từ " + vnClock(start) + ")");
    } else {
      setText(nowTitle, "—");
      setText(nowTime, "");
    }
    if (nextUp) {
      /* "Tiếp theo: <title> lúc HH:MM" — the "lúc" text node sits between the two elements. */
      var between = nextTitle ? nextTitle.nextSibling : null;
      if (following) {
        setText(nextTitle, following.title || "—");
        if (nextTime) {
          nextTime.hidden = false;
          nextTime.setAttribute("datetime", following.start || "");
          setText(nextTime, vnClock(parseTime(following.start)));
        }
        if (between && between.nodeType === 3) between.textContent = " lúc ";
      } else {
        setText(nextTitle, "chưa có chương trình nào được xếp lịch");
        if (nextTime) nextTime.hidden = true;
        if (between && between.nodeType === 3) between.textContent = " ";
      }
    }
    updateProgress(current);
  }

  function updateProgress(current) {
    if (!nowProgress) return;
    var start = current ? parseTime(current.start) : NaN;
    var stop = current ? parseTime(current.stop) : NaN;
    if (!isFinite(start) || !isFinite(stop) || stop <= start) {
      nowProgress.hidden = true;
      return;
    }
    nowProgress.hidden = false;
    nowProgress.value = Math.min(1, Math.max(0, (viewerNow() - start) / (stop - start)));
  }

  /* ---------- Guide highlight ---------- */

  var guideEntries = guideList ? Array.prototype.slice.call(guideList.querySelectorAll(".guide__entry")) : [];
  guideEntries.forEach(function (li) {
    li.__start = parseTime(li.getAttribute("data-start"));
    li.__stop = parseTime(li.getAttribute("data-stop"));
  });
  var onAir = null;

  function scrollGuideTo(li) {
    if (!guideList || !li) return;
    /* Scroll the list itself, not the page: the entry a third of the way down. */
    var offset = li.getBoundingClientRect().top - guideList.getBoundingClientRect().top;
    guideList.scrollTop = Math.max(0, guideList.scrollTop + offset - guideList.clientHeight / 3);
  }

  function highlightGuide(scroll) {
    var t = viewerNow();
    var found = null;
    guideEntries.forEach(function (li) {
      var airing = li.__start <= t && t < li.__stop;
      if (airing && !found) found = li;
      li.classList.toggle("is-past", li.__stop <= t);
    });
    if (found === onAir) return;
    guideEntries.forEach(function (li) {
      var airing = li === found;
      li.classList.toggle("is-on-air", airing);
      if (airing) li.setAttribute("aria-current", "true");
      else li.removeAttribute("aria-current");
    });
    onAir = found;
    if (found && scroll !== false) scrollGuideTo(found);
  }

  /* ---------- Refresh loop: every 30 s, and right after the current programme ends ---------- */

  var refreshTimer = null;
  var failures = 0;

  function scheduleRefresh() {
    if (refreshTimer !== null) window.clearTimeout(refreshTimer);
    var wait = REFRESH_MS;
    if (failures) {
      wait = Math.min(REFRESH_MS * Math.pow(2, failures - 1), 120000);
    } else {
      var stop = nowNext && nowNext.now ? parseTime(nowNext.now.stop) : NaN;
      if (isFinite(stop)) wait = Math.max(500, Math.min(wait, stop - serverNow() + 500));
    }
    refreshTimer = window.setTimeout(refresh, wait);
  }

  var inflight = null;

  function refresh() {
    if (refreshTimer !== null) {
      window.clearTimeout(refreshTimer);
      refreshTimer = null;
    }
    if (inflight) return inflight;
    if (document.hidden) {
      scheduleRefresh();
      return Promise.resolve(nowNext);
    }
    var asked = Date.now();
    inflight = fetch(data.now_url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (json) {
        failures = 0;
        var at = parseTime(json && json.at);
        /* `at` is to the second; only correct clocks that are clearly off. */
        if (isFinite(at)) {
          var skew = at - (asked + Date.now()) / 2;
          if (Math.abs(skew) > 2000) clockSkewMs = skew;
          else clockSkewMs = 0;
        }
        nowNext = json;
        window.hubChannel.nowNext = json;
        renderNowNext();
        highlightGuide();
        scheduleRefresh();
        return json;
      })
      .catch(function () {
        failures += 1;
        scheduleRefresh();
        return nowNext;
      })
      .then(function (result) {
        inflight = null;
        return result;
      });
    return inflight;
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });

  window.setInterval(function () {
    renderNowNext();
    highlightGuide();
  }, TICK_MS);

  window.hubChannel = {
    video: video,
    nowNext: nowNext,
    /* The guide's <li> of the programme on air now (class "is-on-air"), or null. */
    onAirEntry: function () {
      return guideList ? guideList.querySelector(".guide__entry.is-on-air") : null;
    },
    /* Fetch now/next at once; resolves to the JSON shown. */
    refresh: refresh,
    /* The wall-clock time of the frame on screen (EXT-X-PROGRAM-DATE-TIME), or null. */
    playingDate: function () {
      var hls = window.hubPlayer;
      return hls && hls.playingDate ? hls.playingDate : null;
    },
    serverNow: function () {
      return new Date(serverNow());
    },
  };

  /* The page's now/next carries the server's clock too: start with it. */
  var renderedAt = parseTime(nowNext && nowNext.at);
  if (isFinite(renderedAt) && Math.abs(renderedAt - Date.now()) > 5000) clockSkewMs = renderedAt - Date.now();

  /* The server marked the entry on air when it rendered the page; keep it unless the clock moved on. */
  onAir = guideList ? guideList.querySelector(".guide__entry.is-on-air") : null;
  highlightGuide(false);
  scrollGuideTo(onAir);
  renderNowNext();
  scheduleRefresh();
})();
