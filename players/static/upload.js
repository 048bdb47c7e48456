/* Upload page: multipart upload with a real progress bar, then go to the watch page. */
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  if (!form) return;

  var titleInput = document.getElementById("upload-title");
  var fileInput = document.getElementById("upload-file");
  var fileName = document.getElementById("upload-file-name");
  var noFileText = fileName.textContent;
  var submitButton = document.getElementById("upload-submit");
  var cancelButton = document.getElementById("upload-cancel");
  var progressBox = document.getElementById("upload-progress");
  var progressBar = document.getElementById("upload-progress-bar");
  var progressText = document.getElementById("upload-progress-text");
  var errorBox = document.getElementById("upload-error");

  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
  var maxLabel = form.getAttribute("data-max-label") || "";
  var uploadUrl = form.getAttribute("action") || "/api/v1/media";
  var MB = 1024 * 1024;
  var numberFormat = new Intl.NumberFormat("vi-VN", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

  var currentXhr = null;
  var hub = window.hub;

  function csrfToken() {
    if (hub) return hub.csrfToken();
    var meta = document.querySelector('meta[name="csrf-token"]');
    return (meta && meta.getAttribute("content")) || "";
  }

  function mb(bytes) {
    return numberFormat.format(bytes / MB);
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  /* The session ended (401): say so and offer the login page, which brings the user back here. */
  function showLoginNeeded() {
    errorBox.textContent = "Phiên đăng nhập đã hết, hãy đăng nhập lại. ";
    var link = document.createElement("a");
    link.href = hub ? hub.loginUrl() : "/login?next=%2Fupload";
    link.textContent = "Đăng nhập";
    errorBox.appendChild(link);
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.textContent = "";
    errorBox.hidden = true;
  }

  function fileTooBig(file) {
    return maxBytes > 0 && file.size > maxBytes;
  }

  function tooBigMessage(file) {
    return "Tệp quá lớn (" + mb(file.size) + " MB). Dung lượng tối đa: " + maxLabel + ".";
  }

  function setBusy(busy) {
    submitButton.disabled = busy;
    submitButton.setAttribute("aria-busy", busy ? "true" : "false");
    cancelButton.hidden = !busy;
    cancelButton.disabled = !busy;
  }

  function warnBeforeLeaving(event) {
    event.preventDefault();
    event.returnValue = "";
  }

  function finish() {
    currentXhr = null;
    window.removeEventListener("beforeunload", warnBeforeLeaving);
    setBusy(false);
  }

  function fail(message) {
    finish();
    progressBox.hidden = true;
    showError(message);
  }

  /* Pull the server's Vietnamese `detail` message out of an error response, if any. */
  function errorMessage(xhr) {
    var data = null;
    try {
      data = JSON.parse(xhr.responseText);
    } catch (err) {
      data = null;
    }
    var detail = data && data.detail;
    if (typeof detail === "string" && detail.trim()) return detail;
    if (Array.isArray(detail) && detail.length) {
      return "Thông tin gửi lên chưa hợp lệ. Vui lòng kiểm tra lại các trường và thử lại.";
    }
    if (xhr.status === 413) return "Tệp quá lớn";
    if (xhr.status === 403) return "Bạn không có quyền tải lên.";
    return "Tải lên không thành công (mã lỗi " + xhr.status + "). Vui lòng thử lại.";
  }

  /* Native validation bubbles follow the browser's language; give them Vietnamese text. */
  function vietnameseValidity(input, message) {
    input.addEventListener("invalid", function () {
      input.setCustomValidity(input.validity.valueMissing ? message : "");
    });
    input.addEventListener(input.type === "file" ? "change" : "input", function () {
      input.setCustomValidity("");
    });
  }
  vietnameseValidity(titleInput, "Vui lòng nhập tiêu đề.");
  vietnameseValidity(fileInput, "Vui lòng chọn tệp video hoặc âm thanh.");

  fileInput.addEventListener("change", function () {
    clearError();
    var file = fileInput.files && fileInput.files[0];
    if (!file) {
      fileName.textContent = noFileText;
      return;
    }
    fileName.textContent = file.name + " (" + mb(file.size) + " MB)";
    if (fileTooBig(file)) showError(tooBigMessage(file));
  });

  cancelButton.addEventListener("click", function () {
    if (currentXhr) currentXhr.abort();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (currentXhr) return;
    clearError();

    var file = fileInput.files && fileInput.files[0];
    if (!titleInput.value.trim()) {
      showError("Vui lòng nhập tiêu đề.");
      titleInput.focus();
      return;
    }
    if (!file) {
      showError("Vui lòng chọn tệp video hoặc âm thanh.");
      fileInput.focus();
      return;
    }
    if (fileTooBig(file)) {
      showError(tooBigMessage(file));
      fileInput.focus();
      return;
    }

    var body = new FormData();
    body.append("file", file, file.name);
    body.append("title", titleInput.value.trim());
    body.append("kind", form.elements.kind.value);
    body.append("description", form.elements.description.value);

    var xhr = new XMLHttpRequest();
    currentXhr = xhr;
    xhr.open("POST", uploadUrl);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());

    xhr.upload.onprogress = function (e) {
      var total = e.lengthComputable ? e.total : file.size;
      var pct = total ? Math.min(100, Math.floor((e.loaded / total) * 100)) : 0;
      progressBar.value = pct;
      if (pct >= 100) {
        progressText.textContent = "Đã gửi xong " + mb(total) + " MB, đang chờ máy chủ xác nhận…";
      } else {
        progressText.textContent = "Đang tải lên: " + mb(e.loaded) + " / " + mb(total) + " MB (" + pct + "%)";
      }
    };

    xhr.onload = function () {
      if (xhr.status >= 200 && xhr.status < 300) {
        var data = null;
        try {
          data = JSON.parse(xhr.responseText);
        } catch (err) {
          data = null;
        }
        finish();
        setBusy(true); /* keep the form locked while navigating away */
        cancelButton.hidden = true;
        progressBar.value = 100;
        progressText.textContent = "Tải lên thành công. Đang chuyển đến trang xem…";
        window.location.assign((data && data.watch_url) || "/");
        return;
      }
      if (xhr.status === 401) {
        finish();
        progressBox.hidden = true;
        showLoginNeeded();
        return;
      }
      fail(errorMessage(xhr)); /* 403 and others: the server's `detail` */
    };

    xhr.onerror = function () {
      fail("Mất kết nối tới máy chủ. Vui lòng kiểm tra mạng và thử lại.");
    };

    xhr.onabort = function () {
      fail("Đã hủy tải lên.");
    };

    progressBar.value = 0;
    progressText.textContent = "Đang tải lên: 0 / " + mb(file.size) + " MB (0%)";
    progressBox.hidden = false;
    setBusy(true);
    window.addEventListener("beforeunload", warnBeforeLeaving);
    xhr.send(body);
  });
})();
