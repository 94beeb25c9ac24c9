// The portal's own script (the CSP allows no other): toasts for side effects announced through
// HX-Trigger, and readable messages when a request fails.
(function () {
  "use strict";

  function toast(message, kind) {
    var box = document.getElementById("toast");
    if (!box || !message) { return; }
    var item = document.createElement("p");
    item.className = "flash " + (kind || "success");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 4000);
  }

  document.addEventListener("jixiao:saved", function (event) {
    toast(event.detail && event.detail.value, "success");
  });

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var lang = document.documentElement.lang;
    var text = lang === "en" ? "The request failed (" + status + "). Reload the page and try again."
                             : "请求失败(" + status + "),请刷新页面后重试。";
    toast(text, "error");
  });

  document.addEventListener("htmx:sendError", function () {
    var lang = document.documentElement.lang;
    toast(lang === "en" ? "No connection to the server. Your last change was not saved."
                        : "无法连接服务器,最后的修改未保存。", "error");
  });
})();
