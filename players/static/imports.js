/*
 * "Nhập từ URL" page: sends the form to the import API (falls back to the plain form post
 * without JavaScript) and keeps the list of imports up to date while downloads run.
 */
(function () {
  "use strict";

  var hub = window.hub;
  if (!hub) return;

  var POLL_MS = 2000;
  var form = document.getElementById("import-form");
  var list = document.getElementById("imports-list");
  var empty = document.getElementById("imports-empty");
  var errorBox = document.getElementById("import-error");
  var submit = document.getElementById("import-submit");
  var labels = hub.readJson("import-labels", {});
  if (!form || !list) return;

  var apiUrl = list.getAttribute("data-api-url");
  var poller = null;

  function isActive(imp) {
    return imp.state === "queued" || imp.state === "downloading";
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function link(href, text, external) {
    var a = el("a", null, text);
    a.href = href;
    if (external) {
      a.rel = "noopener noreferrer nofollow";
      a.target = "_blank";
    }
    return a;
  }

  function render(imp) {
    var li = el("li", "panel imports__item");
    li.setAttribute("data-id", String(imp.id));
    li.setAttribute("data-state", imp.state);

    var url = el("p", "imports__url");
    url.appendChild(link(imp.url, imp.url, true));
    li.appendChild(url);

    var meta = el("p", "imports__meta");
    meta.appendChild(el("span", "tag tag--" + imp.kind, imp.kind_label || hub.kindLabel(imp.kind)));
    meta.appendChild(document.createTextNode(" "));
    var state = el("span", "imports__state imports__state--" + imp.state, labels[imp.state] || imp.state_label);
    state.setAttribute("data-role", "state");
    meta.appendChild(state);
    li.appendChild(meta);

    if (imp.state === "downloading") {
      var box = el("div", "progress");
      box.setAttribute("data-role", "progress");
      var bar = el("progress");
      bar.max = 100;
      bar.setAttribute("aria-label", "Tiến độ tải về");
      var text = el("span", "progress__text");
      text.setAttribute("data-role", "progress-text");
      hub.setProgress(bar, text, imp.progress);
      box.appendChild(bar);
      box.appendChild(text);
      li.appendChild(box);
    }
    if (imp.state === "failed" && imp.error) {
      var err = el("p", "notice notice--error", imp.error);
      err.setAttribute("data-role", "error");
      li.appendChild(err);
    }
    var result = el("p");
    result.setAttribute("data-role", "result");
    if (imp.item_url) result.appendChild(link(imp.item_url, "Xem video đã nhập", false));
    if (imp.note) result.appendChild(document.createTextNode(imp.note + " "));
    if (imp.duplicate_url) result.appendChild(link(imp.duplicate_url, "Xem video", false));
    li.appendChild(result);
    return li;
  }

  function show(imports) {
    while (list.firstChild) list.removeChild(list.firstChild);
    imports.forEach(function (imp) {
      list.appendChild(render(imp));
    });
    if (empty) empty.hidden = imports.length > 0;
  }

  function watch() {
    if (poller) return;
    poller = hub.poll(apiUrl, POLL_MS, function (data) {
      var imports = (data && data.imports) || [];
      show(imports);
      var busy = imports.some(isActive);
      if (!busy) poller = null;
      return busy;
    });
  }

  form.addEventListener("submit", function (event) {
    if (!window.fetch) return; /* plain form post */
    event.preventDefault();
    errorBox.hidden = true;
    submit.disabled = true;
    var title = form.elements.title.value.trim();
    hub
      .api("POST", apiUrl, {
        url: form.elements.url.value.trim(),
        kind: form.elements.kind.value,
        title: title || null,
      })
      .then(function (result) {
        submit.disabled = false;
        if (!result.ok) {
          var message = hub.apiError(result, "Không gửi được yêu cầu nhập. Vui lòng thử lại.");
          if (result.status === 409 && result.data && result.data.item_id) {
            message += " (mục số " + result.data.item_id + ")";
          }
          errorBox.textContent = message;
          errorBox.hidden = false;
          return;
        }
        form.reset();
        watch();
      })
      .catch(function () {
        submit.disabled = false;
        errorBox.textContent = "Mất kết nối tới máy chủ. Vui lòng thử lại.";
        errorBox.hidden = false;
      });
  });

  var initial = Array.prototype.some.call(list.querySelectorAll("[data-state]"), function (li) {
    var s = li.getAttribute("data-state");
    return s === "queued" || s === "downloading";
  });
  if (initial) watch();
})();
