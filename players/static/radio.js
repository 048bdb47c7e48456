/* Radio page: bundle download in the order items were checked (running order), report dates. */
(function () {
  "use strict";

  /* Seconds as m:ss or h:mm:ss, like the `duration` template filter. */
  function formatDuration(seconds) {
    var total = Math.max(0, Math.round(seconds || 0));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = total % 60;
    var mm = hours ? (minutes < 10 ? "0" : "") + minutes : String(minutes);
    return (hours ? hours + ":" : "") + mm + ":" + (secs < 10 ? "0" : "") + secs;
  }

  var form = document.getElementById("radio-bundle-form");
  if (form) {
    var max = parseInt(form.getAttribute("data-max"), 10) || 50;
    var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][name="ids"]'));
    var download = document.getElementById("radio-bundle-download");
    var clear = document.getElementById("radio-bundle-clear");
    var status = document.getElementById("radio-bundle-status");
    var idleText = status ? status.textContent : "";
    /* Item ids (strings) in the order they were checked: the broadcast running order. */
    var order = [];

    /* Boxes the browser restored as checked (back/forward): keep their page order. */
    boxes.forEach(function (box) {
      if (box.checked) order.push(box.value);
    });

    var byId = {};
    boxes.forEach(function (box) {
      byId[box.value] = box;
    });

    function bundleUrl() {
      var query = order
        .map(function (id) {
          return "ids=" + encodeURIComponent(id);
        })
        .join("&");
      return form.getAttribute("action") + (query ? "?" + query : "");
    }

    function update() {
      var total = 0;
      boxes.forEach(function (box) {
        var position = order.indexOf(box.value);
        var item = box.closest(".radio-item");
        var badge = item && item.querySelector('[data-role="order"]');
        if (badge) {
          badge.hidden = position < 0;
          badge.textContent = position < 0 ? "" : "#" + (position + 1);
          badge.title = position < 0 ? "" : "Thứ tự phát sóng: " + (position + 1);
        }
        if (item) item.classList.toggle("is-picked", position >= 0);
        if (position >= 0) total += parseFloat(box.getAttribute("data-duration")) || 0;
      });
      var count = order.length;
      if (status) {
        status.classList.toggle("radio-bundle__status--error", count > max);
        if (!count) {
          status.textContent = idleText;
        } else if (count > max) {
          status.textContent = "Đã chọn " + count + " mục: chỉ tải được tối đa " + max + " mục mỗi lần, hãy bỏ bớt.";
        } else {
          status.textContent = "Đã chọn " + count + " mục · tổng thời lượng " + formatDuration(total) + ".";
        }
      }
      if (download) {
        download.disabled = !count || count > max;
        download.setAttribute("data-url", count ? bundleUrl() : "");
      }
      if (clear) clear.hidden = !count;
    }

    form.addEventListener("change", function (event) {
      var box = event.target;
      if (!box || box.name !== "ids" || !byId[box.value]) return;
      var position = order.indexOf(box.value);
      if (box.checked && position < 0) order.push(box.value);
      if (!box.checked && position >= 0) order.splice(position, 1);
      update();
    });

    if (clear) {
      clear.addEventListener("click", function () {
        boxes.forEach(function (box) {
          box.checked = false;
        });
        order = [];
        update();
        if (boxes.length) boxes[0].focus();
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!order.length || order.length > max) return;
      /* The ZIP is sent as an attachment: the page stays where it is. */
      window.location.assign(bundleUrl());
    });

    update();
  }

  /* Report: the end date cannot be before the start date (ISO dates compare as strings). */
  var report = document.getElementById("radio-report-form");
  var reportError = document.getElementById("radio-report-error");
  if (report && reportError) {
    report.addEventListener("submit", function (event) {
      var since = report.elements.since.value;
      var until = report.elements.until.value;
      var wrong = Boolean(since && until && until < since);
      reportError.hidden = !wrong;
      reportError.textContent = wrong ? "“Đến ngày” không được trước “Từ ngày”." : "";
      if (wrong) {
        event.preventDefault();
        report.elements.until.focus();
      }
    });
  }
})();
