/*
 * Subtitle editor page (/v/{slug}/subtitles): the cue list with time/text checks, the draft
 * cues shown on the video while editing, save (PUT) and mark reviewed, the burn-in job,
 * the speech-recognition job while there are no subtitles yet, the unsaved-changes guard.
 *
 * Globals for tests: window.hubPlayer (the hls.js instance, or null) and window.hubSubtitleEditor.
 */
(function () {
  "use strict";

  var hub = window.hub;
  var data = hub ? hub.readJson("subtitles-data", null) : null;
  var root = document.getElementById("subtitle-editor");
  if (!hub || !data || !root) return;

  var MAX_LINE_CHARS = 42;
  var MAX_LINES = 2;
  var MAX_CPS = 20;
  var GAP = 0.08; /* seconds between a cue and the one inserted after it */
  var NEW_CUE_SECONDS = 2;
  var POLL_MS = 2000;

  var editable = Boolean(data.editable);
  var duration = typeof data.duration === "number" && isFinite(data.duration) && data.duration > 0 ? data.duration : null;
  var track = data.track || null;

  var list = document.getElementById("cue-list");
  var rowTemplate = document.getElementById("cue-template");
  var emptyBox = document.getElementById("cue-empty");
  var countEl = document.getElementById("cue-count");
  var video = document.getElementById("player");
  var clock = document.getElementById("current-time");
  var playerError = document.getElementById("player-error");
  var saveButton = document.getElementById("save-subtitles");
  var reviewedButton = document.getElementById("mark-reviewed");
  var reviewedHint = document.getElementById("reviewed-hint");
  var dirtyNote = document.getElementById("dirty-note");
  var saveStatus = document.getElementById("save-status");
  var addButton = document.getElementById("add-cue");

  window.hubPlayer = null;

  var saving = false;
  var dirty = false;
  var leaving = false;
  var savedSnapshot = "";
  var model = []; /* [{start, end, text, startText, endText}] in list order, refreshed after every edit */
  var nextRowId = 1;

  /* ---------- Times and numbers ---------- */

  function pad(value, width) {
    var text = String(value);
    while (text.length < width) text = "0" + text;
    return text;
  }

  function round3(seconds) {
    return Math.round(seconds * 1000) / 1000;
  }

  /* Seconds as m:ss.mmm, or h:mm:ss.mmm from one hour (as the template's cue_time filter). */
  function formatTime(seconds) {
    var ms = Math.max(0, Math.round((Number(seconds) || 0) * 1000));
    var hours = Math.floor(ms / 3600000);
    var minutes = Math.floor(ms / 60000) % 60;
    var secs = Math.floor(ms / 1000) % 60;
    var tail = pad(secs, 2) + "." + pad(ms % 1000, 3);
    return hours ? hours + ":" + pad(minutes, 2) + ":" + tail : minutes + ":" + tail;
  }

  var CLOCK_TIME = /^(?:(\d+):)?(\d{1,3}):(\d{1,2})(?:[.,](\d{1,3}))?$/;
  var PLAIN_SECONDS = /^(\d+)(?:[.,](\d{1,3}))?$/;

  function fraction(digits) {
    return digits ? parseInt((digits + "00").slice(0, 3), 10) / 1000 : 0;
  }

  /* "1:05.25", "0:01:05,250", "65.25" -> seconds (ms precision); null when unreadable. */
  function parseTime(text) {
    var value = String(text || "").trim();
    var match = CLOCK_TIME.exec(value);
    if (match) {
      var hours = match[1] ? parseInt(match[1], 10) : 0;
      var minutes = parseInt(match[2], 10);
      var secs = parseInt(match[3], 10);
      if (secs >= 60 || (match[1] && minutes >= 60)) return null;
      return round3(hours * 3600 + minutes * 60 + secs + fraction(match[4]));
    }
    match = PLAIN_SECONDS.exec(value);
    if (match) return round3(parseInt(match[1], 10) + fraction(match[2]));
    return null;
  }

  /* Vietnamese decimal comma: 15,2 */
  function formatNumber(value, decimals) {
    var text = value.toFixed(decimals);
    if (decimals) text = text.replace(/\.?0+$/, "");
    return text.replace(".", ",");
  }

  function charCount(text) {
    return Array.from ? Array.from(text).length : text.length;
  }

  /* What viewers get: NFC, spaces collapsed, blank lines dropped, lines joined by "\n". */
  function cleanText(text) {
    var value = String(text || "");
    if (value.normalize) value = value.normalize("NFC");
    return value
      .split(/\r\n|\r|\n/)
      .map(function (line) {
        return line.replace(/\s+/g, " ").trim();
      })
      .filter(Boolean)
      .join("\n");
  }

  /* dd/mm/yyyy HH:MM in Vietnam time, as the template's datetime_vi filter (no offset means UTC). */
  function formatDateTime(iso) {
    var text = String(iso || "");
    if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) text += "Z";
    var moment = new Date(text);
    if (isNaN(moment.getTime())) return String(iso || "");
    var shifted = new Date(moment.getTime() + 7 * 3600 * 1000); /* ICT, no daylight saving */
    return (
      pad(shifted.getUTCDate(), 2) + "/" + pad(shifted.getUTCMonth() + 1, 2) + "/" + shifted.getUTCFullYear() + " " +
      pad(shifted.getUTCHours(), 2) + ":" + pad(shifted.getUTCMinutes(), 2)
    );
  }

  /* ---------- Rows ---------- */

  function rows() {
    return Array.prototype.slice.call(list.querySelectorAll('[data-role="cue"]'));
  }

  function field(row, name) {
    return row.querySelector('[data-field="' + name + '"]');
  }

  function readRow(row) {
    var startText = field(row, "start").value;
    var endText = field(row, "end").value;
    return {
      start: parseTime(startText),
      end: parseTime(endText),
      startText: startText,
      endText: endText,
      text: cleanText(field(row, "text").value),
    };
  }

  /* Ids for the row's error message, so every field of the row is described by it. */
  function prepareRow(row) {
    var id = "cue-" + nextRowId++;
    row.id = id;
    var error = row.querySelector('[data-role="error"]');
    var stats = row.querySelector('[data-role="stats"]');
    error.id = id + "-error";
    stats.id = id + "-stats";
    ["start", "end"].forEach(function (name) {
      field(row, name).setAttribute("aria-describedby", error.id);
    });
    field(row, "text").setAttribute("aria-describedby", stats.id + " " + error.id);
    if (!video) {
      Array.prototype.forEach.call(row.querySelectorAll('[data-action="play"], [data-action="now-start"], [data-action="now-end"]'), function (button) {
        button.disabled = true;
      });
    }
    return row;
  }

  function createRow(cue) {
    var row = rowTemplate.content.firstElementChild.cloneNode(true);
    field(row, "start").value = formatTime(cue.start);
    field(row, "end").value = formatTime(cue.end);
    field(row, "text").value = cue.text || "";
    return prepareRow(row);
  }

  function renumber() {
    var all = rows();
    all.forEach(function (row, index) {
      Array.prototype.forEach.call(row.querySelectorAll('[data-role="number"]'), function (el) {
        el.textContent = String(index + 1);
      });
    });
    if (countEl) countEl.textContent = "(" + all.length + " câu)";
    if (emptyBox) emptyBox.hidden = all.length > 0;
  }

  function renderCues(cues) {
    while (list.firstChild) list.removeChild(list.firstChild);
    if (rowTemplate) {
      cues.forEach(function (cue) {
        list.appendChild(createRow(cue));
      });
    }
    renumber();
    refresh(null);
  }

  /* ---------- Checks ---------- */

  function stat(text, warn) {
    var span = document.createElement("span");
    span.className = "cue__stat" + (warn ? " cue__stat--warn" : "");
    span.textContent = text;
    return span;
  }

  /* Line lengths, cue duration and reading speed; returns whether anything deserves a warning. */
  function updateStats(row, cue) {
    var box = row.querySelector('[data-role="stats"]');
    var parts = [];
    var lines = cue.text ? cue.text.split("\n") : [];
    lines.forEach(function (line, index) {
      var count = charCount(line);
      var over = count > MAX_LINE_CHARS;
      parts.push(stat("Dòng " + (index + 1) + ": " + count + " ký tự" + (over ? " (quá " + MAX_LINE_CHARS + ")" : ""), over));
    });
    if (lines.length > MAX_LINES) parts.push(stat(lines.length + " dòng (nên tối đa " + MAX_LINES + ")", true));
    if (cue.start !== null && cue.end !== null && cue.end > cue.start) {
      var seconds = cue.end - cue.start;
      parts.push(stat("Thời lượng: " + formatNumber(seconds, 2) + " giây", false));
      if (cue.text) {
        var cps = charCount(cue.text) / seconds;
        var fast = cps > MAX_CPS;
        parts.push(stat("Tốc độ đọc: " + formatNumber(cps, 1) + " ký tự/giây" + (fast ? " (nhanh quá, nên không quá " + MAX_CPS + ")" : ""), fast));
      }
    }
    var warn = parts.some(function (span) {
      return span.className.indexOf("--warn") !== -1;
    });
    while (box.firstChild) box.removeChild(box.firstChild);
    parts.forEach(function (span, index) {
      if (index) box.appendChild(document.createTextNode(" · "));
      box.appendChild(span);
    });
    row.classList.toggle("cue--warn", warn);
    return warn;
  }

  /* Problems of cue `index` of `cues`: {start, end, text} flags and Vietnamese messages. */
  function problems(cues, index) {
    var cue = cues[index];
    var prev = index > 0 ? cues[index - 1] : null;
    var out = { start: false, end: false, text: false, messages: [] };
    if (cue.start === null) {
      out.start = true;
      out.messages.push(cue.startText.trim() ? "Thời điểm bắt đầu chưa đúng định dạng (ví dụ 0:05.250)." : "Chưa nhập thời điểm bắt đầu.");
    }
    if (cue.end === null) {
      out.end = true;
      out.messages.push(cue.endText.trim() ? "Thời điểm kết thúc chưa đúng định dạng (ví dụ 0:07.500)." : "Chưa nhập thời điểm kết thúc.");
    }
    if (cue.start !== null && cue.end !== null && cue.end <= cue.start) {
      out.end = true;
      out.messages.push("Thời điểm kết thúc phải sau thời điểm bắt đầu.");
    }
    if (duration !== null) {
      if (cue.start !== null && cue.start >= duration) {
        out.start = true;
        out.messages.push("Thời điểm bắt đầu vượt quá thời lượng video (" + formatTime(duration) + ").");
      } else if (cue.end !== null && cue.end > round3(duration)) {
        out.end = true;
        out.messages.push("Thời điểm kết thúc vượt quá thời lượng video (" + formatTime(duration) + ").");
      }
    }
    if (prev && cue.start !== null && prev.start !== null) {
      if (cue.start < prev.start) {
        out.start = true;
        out.messages.push("Câu này bắt đầu trước câu " + index + " — các câu phải theo thứ tự thời gian.");
      } else if (prev.end !== null && cue.start < prev.end) {
        out.start = true;
        out.messages.push("Câu này bắt đầu (" + formatTime(cue.start) + ") khi câu " + index + " chưa kết thúc (" + formatTime(prev.end) + ").");
      }
    }
    if (!cue.text) {
      out.text = true;
      out.messages.push("Chưa có lời thoại.");
    }
    return out;
  }

  function markField(input, bad) {
    if (bad) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  /*
   * Re-read the list after an edit: model, errors of every row (a change can break the
   * neighbour's order), stats of `changedRow` (all rows when null), dirty flag, video track.
   * `strict` also reports an empty text on rows just inserted. Returns the number of rows in error.
   */
  function refresh(changedRow, strict) {
    var all = rows();
    model = all.map(readRow);
    var errors = 0;
    all.forEach(function (row, index) {
      var found = problems(model, index);
      if (found.text && !strict && row.getAttribute("data-fresh") === "true") {
        found.text = false;
        found.messages = found.messages.filter(function (message) {
          return message !== "Chưa có lời thoại.";
        });
      }
      if (strict) row.removeAttribute("data-fresh");
      var text = found.messages.join(" ");
      var box = row.querySelector('[data-role="error"]');
      if (box.textContent !== text) box.textContent = text;
      box.hidden = !text;
      row.classList.toggle("cue--invalid", Boolean(text));
      markField(field(row, "start"), found.start);
      markField(field(row, "end"), found.end);
      markField(field(row, "text"), found.text);
      if (text) errors += 1;
      if (changedRow === null || changedRow === row) updateStats(row, model[index]);
    });
    refreshDirty();
    scheduleTrackSync();
    highlight(true);
    return errors;
  }

  /* ---------- Unsaved changes ---------- */

  function snapshotOf(cues) {
    return JSON.stringify(
      cues.map(function (cue) {
        return [
          typeof cue.start === "number" ? round3(cue.start) : cue.startText,
          typeof cue.end === "number" ? round3(cue.end) : cue.endText,
          cleanText(cue.text),
        ];
      })
    );
  }

  function refreshDirty() {
    dirty = editable && snapshotOf(model) !== savedSnapshot;
    if (dirtyNote) dirtyNote.hidden = !dirty;
    updateButtons();
  }

  function setStatus(text, kind) {
    if (!saveStatus) return;
    saveStatus.textContent = text;
    saveStatus.className = "subs__result" + (kind ? " subs__result--" + kind : "");
  }

  window.addEventListener("beforeunload", function (event) {
    if (!dirty || leaving) return undefined;
    event.preventDefault();
    event.returnValue = "";
    return "";
  });

  /* ---------- Track summary, history, buttons ---------- */

  var subtitleStatus = hub.labels.subtitle_status || {};
  var subtitleSource = hub.labels.subtitle_source || {};

  function renderHistory() {
    var body = document.getElementById("history-rows");
    var wrap = document.getElementById("history-wrap");
    var empty = document.getElementById("history-empty");
    if (!body || !track) return;
    while (body.firstChild) body.removeChild(body.firstChild);
    var revisions = (track.revisions || []).slice().reverse();
    revisions.forEach(function (rev) {
      var tr = document.createElement("tr");
      var current = rev.number === track.revision;
      if (current) tr.className = "is-current";
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = String(rev.number);
      if (current) {
        var note = document.createElement("span");
        note.className = "muted";
        note.textContent = " (đang dùng)";
        th.appendChild(note);
      }
      var source = document.createElement("td");
      source.textContent = subtitleSource[rev.source] || rev.source || "";
      var author = document.createElement("td");
      author.textContent = rev.author || (rev.source === "asr" ? "Hệ thống" : "Không rõ");
      var when = document.createElement("td");
      when.className = "nowrap";
      var time = document.createElement("time");
      time.dateTime = rev.created_at;
      time.textContent = formatDateTime(rev.created_at);
      when.appendChild(time);
      [th, source, author, when].forEach(function (cell) {
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
    if (wrap) wrap.hidden = revisions.length === 0;
    if (empty) empty.hidden = revisions.length > 0;
  }

  function applyTrack(newTrack) {
    track = newTrack;
    if (!track) return;
    var badge = document.getElementById("track-status");
    if (badge) {
      badge.className = "status status--subs-" + track.status;
      badge.textContent = subtitleStatus[track.status] || track.status;
    }
    var revision = document.getElementById("track-revision");
    if (revision) revision.textContent = String(track.revision);
    var source = document.getElementById("track-source");
    if (source) source.textContent = subtitleSource[track.source] || track.source;
    var downloads = document.getElementById("downloads");
    if (downloads) downloads.hidden = false;
    var note = document.getElementById("subtitle-note");
    if (note && !rows().length) note.textContent = "Bản phụ đề này không có câu nào.";
    var transcribe = document.getElementById("transcribe-state");
    if (transcribe) transcribe.hidden = true;
    renderHistory();
    updateButtons();
  }

  var burnActive = Boolean(data.burn_job && hub.isJobActive(data.burn_job));

  function updateButtons() {
    if (saveButton) saveButton.disabled = saving || !dirty;
    if (reviewedButton) {
      var reviewed = Boolean(track) && track.status === "reviewed";
      reviewedButton.disabled = saving || dirty || !track || reviewed;
      if (reviewedHint) {
        var hint;
        if (!track) hint = "Chưa có bản phụ đề nào để duyệt.";
        else if (dirty) hint = "Hãy lưu các thay đổi trước khi đánh dấu đã duyệt.";
        else if (reviewed) hint = "Bản " + track.revision + " đã được duyệt, người xem đang thấy phụ đề này.";
        else hint = "Sau khi duyệt, người xem sẽ thấy phụ đề này khi phát video.";
        if (reviewedHint.textContent !== hint) reviewedHint.textContent = hint;
      }
    }
    var burnButton = document.getElementById("burn-in-start");
    if (burnButton) burnButton.disabled = !track || burnActive;
  }

  /* ---------- Save and review ---------- */

  function firstInvalidField() {
    return list.querySelector('[aria-invalid="true"]');
  }

  function networkFailed() {
    setStatus("Không kết nối được máy chủ. Vui lòng thử lại.", "error");
  }

  function save() {
    if (!editable || saving) return;
    var errors = refresh(null, true);
    if (errors) {
      setStatus("Còn " + errors + " câu có lỗi — hãy sửa trước khi lưu.", "error");
      var bad = firstInvalidField();
      if (bad) bad.focus();
      return;
    }
    if (!dirty) {
      setStatus("Không có thay đổi nào để lưu.", "");
      return;
    }
    var sent = model.map(function (cue) {
      return { start: cue.start, end: cue.end, text: cue.text };
    });
    var sentSnapshot = snapshotOf(model);
    saving = true;
    updateButtons();
    setStatus("Đang lưu…", "");
    hub
      .api("PUT", data.subtitles_url, { cues: sent })
      .then(function (result) {
        if (!result.ok || !result.data) {
          setStatus("Không lưu được: " + hub.apiError(result, "Dữ liệu phụ đề không hợp lệ."), "error");
          return null;
        }
        applyTrack(result.data);
        /* Read back what was stored (the server clips cues to the media), unless edited meanwhile. */
        return hub.api("GET", data.subtitles_url + "?format=json").then(function (stored) {
          var cues = stored.ok && stored.data && Array.isArray(stored.data.cues) ? stored.data.cues : null;
          var message = "Đã lưu bản " + track.revision + ".";
          if (cues) {
            if (cues.length < sent.length) {
              message += " Máy chủ đã bỏ " + (sent.length - cues.length) + " câu nằm ngoài thời lượng video.";
            }
            var unchanged = snapshotOf(model) === sentSnapshot;
            savedSnapshot = snapshotOf(cues);
            if (unchanged && savedSnapshot !== sentSnapshot) {
              renderCues(cues);
            } else {
              refreshDirty();
            }
          } else {
            savedSnapshot = sentSnapshot;
            refreshDirty();
          }
          setStatus(message, "ok");
        });
      })
      .catch(networkFailed)
      .then(function () {
        saving = false;
        updateButtons();
      });
  }

  function markReviewed() {
    if (!editable || saving || dirty || !track) return;
    saving = true;
    updateButtons();
    setStatus("Đang đánh dấu đã duyệt…", "");
    hub
      .api("POST", data.subtitles_url + "/reviewed")
      .then(function (result) {
        if (!result.ok || !result.data) {
          setStatus("Không đánh dấu được: " + hub.apiError(result, "Vui lòng thử lại."), "error");
          return;
        }
        applyTrack(result.data);
        setStatus("Đã duyệt bản " + track.revision + ". Người xem sẽ thấy phụ đề này khi phát video.", "ok");
      })
      .catch(networkFailed)
      .then(function () {
        saving = false;
        updateButtons();
      });
  }

  if (saveButton) saveButton.addEventListener("click", save);
  if (reviewedButton) reviewedButton.addEventListener("click", markReviewed);

  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && String(event.key).toLowerCase() === "s") {
      event.preventDefault(); /* not the browser's "save page" */
      if (editable) save();
    }
  });

  /* ---------- Editing ---------- */

  function insertAfter(row) {
    var all = rows();
    var index = row ? all.indexOf(row) : all.length - 1;
    var before = index >= 0 ? model[index] : null;
    var after = index + 1 < model.length ? model[index + 1] : null;
    var start;
    if (before && before.end !== null) start = before.end + GAP;
    else start = video ? video.currentTime : 0;
    var limit = Infinity;
    if (after && after.start !== null) limit = after.start - GAP;
    if (duration !== null) limit = Math.min(limit, duration);
    var end = Math.min(start + NEW_CUE_SECONDS, limit);
    if (end <= start) end = start + 1; /* no room: the check shows the overlap to fix */
    var newRow = createRow({ start: round3(start), end: round3(end), text: "" });
    newRow.setAttribute("data-fresh", "true");
    var next = index >= 0 ? all[index].nextElementSibling : list.firstElementChild;
    list.insertBefore(newRow, next || null);
    renumber();
    refresh(newRow);
    field(newRow, "text").focus();
  }

  function removeRow(row) {
    var next = row.nextElementSibling || row.previousElementSibling;
    list.removeChild(row);
    renumber();
    refresh(null);
    var focusTarget = next ? field(next, "text") : addButton;
    if (focusTarget) focusTarget.focus();
    setStatus("Đã xóa một câu (chưa lưu).", "");
  }

  function setFromVideo(row, name) {
    if (!video) return;
    var input = field(row, name);
    input.value = formatTime(video.currentTime);
    refresh(row);
    input.focus();
  }

  function playRow(row) {
    var cue = readRow(row);
    if (!video || cue.start === null) return;
    video.currentTime = cue.start;
    var started = video.play();
    if (started && started.catch) started.catch(function () {});
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-action]") : null;
    if (!button || button.disabled) return;
    var row = button.closest('[data-role="cue"]');
    if (!row) return;
    var action = button.getAttribute("data-action");
    if (action === "play") playRow(row);
    else if (!editable) return;
    else if (action === "now-start") setFromVideo(row, "start");
    else if (action === "now-end") setFromVideo(row, "end");
    else if (action === "insert") insertAfter(row);
    else if (action === "delete") removeRow(row);
  });

  list.addEventListener("input", function (event) {
    var row = event.target.closest ? event.target.closest('[data-role="cue"]') : null;
    if (!row || !editable) return;
    var name = event.target.getAttribute("data-field");
    if (name === "text") {
      refresh(row);
    } else if (row.classList.contains("cue--invalid")) {
      refresh(row); /* clear the error as soon as the time reads right */
    } else {
      /* Still typing a time: update stats and the dirty flag, report format errors on change. */
      model = rows().map(readRow);
      updateStats(row, model[rows().indexOf(row)]);
      refreshDirty();
      scheduleTrackSync();
    }
  });

  list.addEventListener("change", function (event) {
    var row = event.target.closest ? event.target.closest('[data-role="cue"]') : null;
    if (!row || !editable) return;
    var name = event.target.getAttribute("data-field");
    if (name === "text") row.removeAttribute("data-fresh");
    if (name === "start" || name === "end") {
      var value = parseTime(event.target.value);
      if (value !== null) event.target.value = formatTime(value); /* normalise "65.2" to 1:05.200 */
    }
    refresh(row);
  });

  if (addButton) {
    addButton.addEventListener("click", function () {
      var all = rows();
      insertAfter(all.length ? all[all.length - 1] : null);
    });
  }

  /* ---------- The draft cues on the video ---------- */

  var draftTrack = null;
  var draftCues = [];
  var syncTimer = null;

  function vttText(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function syncTrack() {
    syncTimer = null;
    if (!draftTrack || !window.VTTCue) return;
    draftCues.forEach(function (cue) {
      try {
        draftTrack.removeCue(cue);
      } catch (err) {
        /* already gone */
      }
    });
    draftCues = [];
    model.forEach(function (cue) {
      if (cue.start === null || cue.end === null || cue.end <= cue.start || !cue.text) return;
      var vtt = new window.VTTCue(cue.start, cue.end, vttText(cue.text));
      draftTrack.addCue(vtt);
      draftCues.push(vtt);
    });
  }

  function scheduleTrackSync() {
    if (!draftTrack) return;
    if (syncTimer !== null) window.clearTimeout(syncTimer);
    syncTimer = window.setTimeout(syncTrack, 250);
  }

  /* ---------- Following playback ---------- */

  var activeRow = null;
  var wideLayout = window.matchMedia ? window.matchMedia("(min-width: 1024px)") : null;

  function keepVisible(row) {
    if (!wideLayout || !wideLayout.matches || list.scrollHeight <= list.clientHeight) return;
    if (list.contains(document.activeElement)) return; /* the editor is typing: do not move the list */
    var top = row.offsetTop - list.offsetTop;
    var bottom = top + row.offsetHeight;
    if (top < list.scrollTop || bottom > list.scrollTop + list.clientHeight) {
      list.scrollTop = Math.max(0, top - 8);
    }
  }

  function highlight(quiet) {
    if (!video) return;
    var now = video.currentTime;
    if (clock) clock.textContent = formatTime(now);
    var all = rows();
    var found = null;
    for (var i = 0; i < model.length && i < all.length; i += 1) {
      var cue = model[i];
      if (cue.start !== null && cue.end !== null && now >= cue.start && now < cue.end) {
        found = all[i];
        break;
      }
    }
    if (found === activeRow) return;
    if (activeRow) {
      activeRow.classList.remove("cue--active");
      activeRow.removeAttribute("aria-current");
    }
    activeRow = found;
    if (activeRow) {
      activeRow.classList.add("cue--active");
      activeRow.setAttribute("aria-current", "true");
      if (!quiet && !video.paused) keepVisible(activeRow);
    }
  }

  /* ---------- Player ---------- */

  function showPlayerError(message) {
    hub.player.showError(playerError, message);
  }

  function startPlayer() {
    if (!video || !data.master_url) return;
    if (video.addTextTrack) {
      /* The master playlist lists reviewed subtitles only: show the cues being edited instead. */
      draftTrack = video.addTextTrack("subtitles", "Tiếng Việt (bản đang sửa)", "vi");
      draftTrack.mode = "showing";
    }
    video.addEventListener("timeupdate", function () {
      highlight(false);
    });
    video.addEventListener("seeked", function () {
      highlight(false);
    });

    var failMessage = "Không phát được video. Vui lòng tải lại trang hoặc thử lại sau.";
    var Hls = window.Hls;
    if (Hls && Hls.isSupported()) {
      var hls = new Hls({ capLevelToPlayerSize: true });
      window.hubPlayer = hls;
      var quiet = function () {
        /* The published (reviewed) track would show on top of the draft: keep it off. */
        if (hls.subtitleTrack !== -1) hls.subtitleTrack = -1;
        if (draftTrack && draftTrack.mode !== "showing") draftTrack.mode = "showing";
      };
      hls.on(Hls.Events.MANIFEST_PARSED, function () {
        quiet();
        syncTrack();
      });
      hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, quiet);
      hub.player.recover(Hls, hls, function () {
        showPlayerError(failMessage);
      });
      hls.attachMedia(video);
      hls.loadSource(data.master_url);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.textTracks.addEventListener("addtrack", function (event) {
        if (event.track !== draftTrack && event.track.kind !== "metadata") event.track.mode = "disabled";
      });
      video.src = data.master_url;
      video.addEventListener("error", function () {
        showPlayerError(failMessage);
      });
    } else {
      showPlayerError("Trình duyệt này không hỗ trợ phát video trực tuyến. Vui lòng dùng trình duyệt khác.");
    }
  }

  /* ---------- Upload form ---------- */

  var uploadForm = document.getElementById("subtitle-upload");
  var fileInput = document.getElementById("subtitle-file");
  var fileName = document.getElementById("subtitle-file-name");
  if (fileInput && fileName) {
    fileInput.addEventListener("change", function () {
      var file = fileInput.files && fileInput.files[0];
      fileName.textContent = file ? file.name : "Chưa chọn tệp nào";
    });
  }
  if (uploadForm) {
    uploadForm.addEventListener("submit", function (event) {
      if (dirty && !window.confirm("Bạn có thay đổi chưa lưu. Tải tệp lên sẽ tạo bản mới từ tệp và bỏ các thay đổi này. Tiếp tục?")) {
        event.preventDefault();
        return;
      }
      leaving = true;
    });
  }

  /* ---------- Burn-in ---------- */

  var burnButton = document.getElementById("burn-in-start");
  var burnProgress = document.getElementById("burn-in-progress");
  var burnStatus = document.getElementById("burn-in-status");
  var burnDownload = document.getElementById("burn-in-download");

  function showBurnJob(job) {
    burnActive = hub.isJobActive(job);
    if (burnProgress) {
      burnProgress.hidden = !burnActive;
      var bar = burnProgress.querySelector("progress");
      if (bar) hub.setProgress(bar, null, job.state === "running" ? job.progress : null);
    }
    if (burnStatus) {
      burnStatus.textContent = hub.jobTaskLabel("burn_in") + ": " + hub.jobStateText(job);
      burnStatus.className = job.state === "failed" ? "notice notice--error" : "";
    }
    if (burnDownload) burnDownload.hidden = job.state !== "succeeded";
    updateButtons();
  }

  function watchBurn(job) {
    showBurnJob(job);
    if (!hub.isJobActive(job)) return;
    hub.poll(data.jobs_url + encodeURIComponent(job.id), POLL_MS, function (latest) {
      if (!latest || !latest.state) return true;
      showBurnJob(latest);
      return hub.isJobActive(latest);
    });
  }

  if (burnButton) {
    burnButton.addEventListener("click", function () {
      if (dirty && !window.confirm("Bản gắn phụ đề dùng bản đã lưu (bản " + (track ? track.revision : "") + "); các thay đổi chưa lưu sẽ không có trong video. Tiếp tục?")) {
        return;
      }
      burnButton.disabled = true;
      if (burnDownload) burnDownload.hidden = true; /* the new file replaces the old one */
      if (burnStatus) {
        burnStatus.className = "";
        burnStatus.textContent = "Đang gửi yêu cầu…";
      }
      hub
        .api("POST", data.burn_in_url)
        .then(function (result) {
          if (!result.ok || !result.data) {
            if (burnStatus) {
              burnStatus.className = "notice notice--error";
              burnStatus.textContent = "Không tạo được: " + hub.apiError(result, "Vui lòng thử lại sau.");
            }
            updateButtons();
            return;
          }
          watchBurn(result.data);
        })
        .catch(function () {
          if (burnStatus) {
            burnStatus.className = "notice notice--error";
            burnStatus.textContent = "Không kết nối được máy chủ. Vui lòng thử lại.";
          }
          updateButtons();
        });
    });
  }

  if (data.burn_job && hub.isJobActive(data.burn_job)) watchBurn(data.burn_job);

  /* ---------- Speech recognition still running (no subtitles yet) ---------- */

  var transcribeLine = document.getElementById("transcribe-state");
  if (transcribeLine && !track && data.transcribe_job && hub.isJobActive(data.transcribe_job)) {
    var transcribeState = transcribeLine.querySelector('[data-role="job-state"]');
    hub.poll(data.item_url, POLL_MS, function (response) {
      var item = response && response.item ? response.item : response;
      var job = item && hub.latestJob(item.jobs, "transcribe");
      if (!job) return true;
      if (transcribeState) transcribeState.textContent = hub.jobStateText(job);
      transcribeLine.setAttribute("data-state", job.state);
      if (hub.isJobActive(job)) return true;
      if (job.state === "succeeded" && !track) {
        if (!dirty) {
          leaving = true;
          window.location.reload();
        } else if (transcribeState) {
          transcribeState.textContent = hub.jobStateText(job) + " — tải lại trang để xem phụ đề (các thay đổi chưa lưu sẽ mất).";
        }
      }
      return false;
    });
  }

  /* ---------- Start ---------- */

  rows().forEach(prepareRow);
  renumber();
  model = rows().map(readRow);
  savedSnapshot = track ? snapshotOf(data.cues || []) : snapshotOf([]);
  startPlayer();
  refresh(null);

  window.hubSubtitleEditor = {
    /* The cues as currently typed: [{start, end, text}] (null times when unreadable). */
    cues: function () {
      return model.map(function (cue) {
        return { start: cue.start, end: cue.end, text: cue.text };
      });
    },
    isDirty: function () {
      return dirty;
    },
    track: function () {
      return track;
    },
    save: save,
    formatTime: formatTime,
    parseTime: parseTime,
  };
})();
