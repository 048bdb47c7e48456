/*
 * Channel schedule page: end-time hint and overlap warning for the "add programme" form,
 * at least one weekday for a rotation, past/on-air rows of the day's programmes.
 * Every time is Vietnam time (Asia/Ho_Chi_Minh, UTC+7, no daylight saving time).
 */
(function () {
  "use strict";

  var hub = window.hub;
  var data = hub ? hub.readJson("schedule-data", null) : null;
  if (!data) return;

  var VN_OFFSET_MS = 7 * 3600 * 1000;
  /* "Past" and "on air" by the hub's clock, not this computer's (which may be off). */
  var skewMs = Date.parse(data.now) - Date.now();
  if (!isFinite(skewMs)) skewMs = 0;
  function serverNow() {
    return Date.now() + skewMs;
  }
  var programmes = (data.programmes || []).map(function (p) {
    var start = Date.parse(p.start);
    return { id: p.id, title: p.title, start: start, end: start + Math.round(Number(p.duration) * 1000) };
  });

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /* "HH:MM", or "HH:MM:SS" when the seconds are not zero. */
  function vnClock(ms) {
    var d = new Date(ms + VN_OFFSET_MS);
    var text = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
    return d.getUTCSeconds() ? text + ":" + pad(d.getUTCSeconds()) : text;
  }

  function vnDate(ms) {
    var d = new Date(ms + VN_OFFSET_MS);
    return pad(d.getUTCDate()) + "/" + pad(d.getUTCMonth() + 1) + "/" + d.getUTCFullYear();
  }

  /* "2026-11-30" + "20:15" or "20:15:30" (Vietnam time) → epoch ms, or NaN. */
  function vnMoment(day, time) {
    var dm = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day || "");
    var tm = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(time || "");
    if (!dm || !tm) return NaN;
    return Date.UTC(+dm[1], +dm[2] - 1, +dm[3], +tm[1], +tm[2], +(tm[3] || 0)) - VN_OFFSET_MS;
  }

  /* ---------- Add a programme: end time and overlaps ---------- */

  var form = document.getElementById("add-form");
  if (form) {
    var itemSelect = document.getElementById("add-item");
    var dateInput = document.getElementById("add-date");
    var timeInput = document.getElementById("add-time");
    var endHint = document.getElementById("add-end");
    var overlapBox = document.getElementById("add-overlap");

    var update = function () {
      var option = itemSelect.options[itemSelect.selectedIndex];
      var duration = option ? parseFloat(option.getAttribute("data-duration")) : NaN;
      var start = vnMoment(dateInput.value, timeInput.value);
      if (!isFinite(start) || !isFinite(duration) || !option || !option.value) {
        endHint.hidden = true;
        overlapBox.hidden = true;
        return;
      }
      var end = start + Math.round(duration * 1000);
      var endText = "Kết thúc lúc " + vnClock(end);
      if (vnDate(end) !== vnDate(start)) endText += " ngày " + vnDate(end);
      endText += " (giờ Việt Nam).";
      if (dateInput.value !== data.date) {
        endText += " Trang này chỉ kiểm tra trùng giờ với lịch ngày " + data.date.split("-").reverse().join("/") + ".";
      }
      endHint.textContent = endText;
      endHint.hidden = false;

      var warnings = [];
      if (start <= serverNow()) {
        warnings.push("Thời điểm này đã qua; chỉ xếp được lịch cho thời điểm sau hiện tại.");
      }
      programmes.forEach(function (p) {
        /* Back to back (one ends exactly when the other starts) is not an overlap. */
        if (start < p.end && p.start < end) {
          warnings.push("Trùng giờ với “" + p.title + "” (" + vnClock(p.start) + "–" + vnClock(p.end) + ").");
        }
      });
      overlapBox.textContent = warnings.join(" ");
      overlapBox.hidden = warnings.length === 0;
    };

    [itemSelect, dateInput, timeInput].forEach(function (field) {
      field.addEventListener("input", update);
      field.addEventListener("change", update);
    });
    update();
  }

  /* ---------- Add a rotation: at least one weekday ---------- */

  var rotationForm = document.getElementById("rotation-form");
  if (rotationForm) {
    var boxes = Array.prototype.slice.call(rotationForm.querySelectorAll('input[name="weekdays"]'));
    /* The first box is `required` while none is ticked, so the browser (and forms.js, with
     * data-required-message) asks for a day before the form is sent. */
    var checkWeekdays = function () {
      var any = boxes.some(function (box) {
        return box.checked;
      });
      if (boxes.length) {
        boxes[0].required = !any;
        boxes[0].setCustomValidity("");
      }
      return any;
    };
    if (boxes.length) boxes[0].setAttribute("data-required-message", "Chọn ít nhất một ngày trong tuần.");
    boxes.forEach(function (box) {
      box.addEventListener("change", checkWeekdays);
    });
    checkWeekdays();
  }

  /* ---------- The day's programmes: ended ones muted, the one on air marked ---------- */

  function markRows() {
    var now = serverNow();
    programmes.forEach(function (p) {
      var row = document.getElementById("programme-" + p.id);
      if (!row) return;
      row.classList.toggle("is-muted", p.end <= now);
      row.classList.toggle("is-current", p.start <= now && now < p.end);
    });
  }

  markRows();
  window.setInterval(markRows, 15000);
})();
