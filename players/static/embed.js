/*
 * Embedded player (/embed/{slug}): HLS through hls.js (or natively on Safari), Vietnamese
 * subtitles shown when the item has reviewed ones. window.hubPlayer is the hls.js instance.
 * Needs player.js (hub.player) loaded first.
 */
(function () {
  "use strict";

  var player = window.hub.player;
  var node = document.getElementById("embed-data");
  var video = document.getElementById("player");
  var box = document.getElementById("embed");
  var errorBox = document.getElementById("player-error");
  if (!node || !video) return;
  var data = JSON.parse(node.textContent);
  var FAILED = "Không phát được video. Vui lòng tải lại trang hoặc xem trên trang của Sở.";
  window.hubPlayer = null;

  function fail(message) {
    player.showError(errorBox, message);
  }

  video.addEventListener("playing", function () {
    box.classList.add("embed--playing");
  });
  video.addEventListener("pause", function () {
    box.classList.remove("embed--playing");
  });

  function autoplay() {
    if (!data.autoplay) return;
    video.muted = true; /* browsers allow muted autoplay only */
    var started = video.play();
    if (started && started.catch) started.catch(function () {});
  }

  var Hls = window.Hls;
  if (!data.master_url) {
    fail(FAILED);
  } else if (Hls && Hls.isSupported()) {
    var hls = new Hls({ capLevelToPlayerSize: true, renderTextTracksNatively: true });
    window.hubPlayer = hls;
    var recovered = 0;
    hls.on(Hls.Events.MANIFEST_PARSED, function () {
      var tracks = hls.subtitleTracks || [];
      for (var i = 0; i < tracks.length; i += 1) {
        if (player.isVietnamese(tracks[i].lang)) {
          hls.subtitleDisplay = true;
          hls.subtitleTrack = i;
          break;
        }
      }
      autoplay();
    });
    hls.on(Hls.Events.ERROR, function (event, info) {
      if (!info.fatal) return;
      if (info.type === Hls.ErrorTypes.MEDIA_ERROR && recovered < 2) {
        recovered += 1;
        hls.recoverMediaError();
      } else if (info.type === Hls.ErrorTypes.NETWORK_ERROR && recovered < 3) {
        recovered += 1;
        hls.startLoad();
      } else {
        fail(FAILED);
      }
    });
    hls.attachMedia(video);
    hls.loadSource(data.master_url);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = data.master_url;
    video.addEventListener("loadedmetadata", autoplay);
    video.addEventListener("error", function () {
      fail(FAILED);
    });
  } else {
    fail("Trình duyệt này không hỗ trợ phát video trực tuyến.");
  }
})();
