/* Watch page sharing: "Sao chép liên kết", the embed code, and the system share sheet on phones. */
(function () {
  "use strict";

  var box = document.getElementById("share");
  if (!box) return;
  var status = box.querySelector(".share__status");

  function say(text) {
    if (status) status.textContent = text;
  }

  function copy(text, done) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () {
        say(done);
      }, function () {
        say("Không sao chép được; hãy chọn và sao chép thủ công.");
      });
      return;
    }
    var area = document.createElement("textarea"); /* http:// pages have no async clipboard */
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try {
      say(document.execCommand("copy") ? done : "Không sao chép được; hãy chọn và sao chép thủ công.");
    } catch (err) {
      say("Không sao chép được; hãy chọn và sao chép thủ công.");
    }
    document.body.removeChild(area);
  }

  Array.prototype.forEach.call(box.querySelectorAll("[data-copy]"), function (button) {
    button.addEventListener("click", function () {
      copy(button.getAttribute("data-copy"), "Đã sao chép liên kết.");
    });
  });
  Array.prototype.forEach.call(box.querySelectorAll("[data-copy-from]"), function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy-from"));
      if (source) copy(source.value, "Đã sao chép mã nhúng.");
    });
  });

  var native = document.getElementById("share-native");
  if (native && navigator.share) {
    native.hidden = false; /* phones: the system sheet lists Zalo, Messenger… */
    native.addEventListener("click", function () {
      navigator.share({ title: box.getAttribute("data-title"), url: box.getAttribute("data-url") }).catch(function () {});
    });
  }
})();
