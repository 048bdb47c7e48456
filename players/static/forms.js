/* Staff pages: Vietnamese validation messages, confirmations, the reject-needs-a-comment rule, copy buttons. */
(function () {
  "use strict";

  /* Native validation bubbles follow the browser's language; give them Vietnamese text. */
  function validityMessage(field) {
    var v = field.validity;
    if (v.valueMissing) {
      if (field.getAttribute("data-required-message")) return field.getAttribute("data-required-message");
      if (field.tagName === "SELECT") return "Vui lòng chọn một mục.";
      return "Vui lòng điền vào ô này.";
    }
    if (v.tooShort) return "Cần ít nhất " + field.getAttribute("minlength") + " ký tự (hiện có " + field.value.length + ").";
    if (v.tooLong) return "Tối đa " + field.getAttribute("maxlength") + " ký tự.";
    if (v.badInput || v.typeMismatch || v.patternMismatch) return "Giá trị chưa đúng định dạng.";
    return "";
  }

  Array.prototype.forEach.call(document.querySelectorAll("form input, form select, form textarea"), function (field) {
    field.addEventListener("invalid", function () {
      field.setCustomValidity("");
      if (!field.validity.valid) field.setCustomValidity(validityMessage(field));
    });
    field.addEventListener(field.tagName === "SELECT" || field.type === "checkbox" ? "change" : "input", function () {
      field.setCustomValidity("");
    });
  });

  /* Ask before destructive actions: data-confirm on a form (any submit) or on one submit button. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-confirm]") : null;
    if (button && !button.disabled && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  /* Workflow form: a button with data-requires-comment (reject) needs a non-blank comment; others do not. */
  var workflow = document.getElementById("workflow-form");
  var comment = workflow && workflow.elements.comment;
  if (workflow && comment) {
    Array.prototype.forEach.call(workflow.querySelectorAll('button[type="submit"]'), function (button) {
      /* Runs before the browser validates the form, so `required` applies to this very submission. */
      button.addEventListener("click", function () {
        var message = button.getAttribute("data-requires-comment");
        comment.required = Boolean(message);
        if (message) {
          if (!comment.value.trim()) comment.value = "";
          comment.setAttribute("data-required-message", message);
        } else {
          comment.removeAttribute("data-required-message");
        }
        comment.setCustomValidity("");
      });
    });
  }

  /* Copy buttons: data-copy names the id of the input whose value is copied. */
  function copied(id, ok) {
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (status) status.textContent = ok ? "Đã sao chép vào bộ nhớ tạm." : "Không sao chép được, hãy chọn và sao chép thủ công (Ctrl+C).";
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    var id = button.getAttribute("data-copy");
    var input = document.getElementById(id);
    if (!input) return;
    input.addEventListener("focus", function () {
      input.select();
    });
    button.addEventListener("click", function () {
      input.focus();
      input.select();
      /* The async clipboard API needs a secure context (HTTPS); fall back to execCommand on plain HTTP. */
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(
          function () {
            copied(id, true);
          },
          function () {
            copied(id, document.execCommand && document.execCommand("copy"));
          }
        );
      } else {
        var ok = false;
        try {
          ok = document.execCommand("copy");
        } catch (err) {
          ok = false;
        }
        copied(id, ok);
      }
    });
  });
})();
