// notion-gate console: the few behaviours plain HTML lacks. No inline script anywhere (the
// Content-Security-Policy forbids it); everything else works without this file.
(function () {
  "use strict";
  function copy(button) {
    var text = button.getAttribute("data-copy") || "";
    var done = function () {
      var old = button.textContent;
      button.textContent = "Copied";
      button.classList.add("copied");
      setTimeout(function () { button.textContent = old; button.classList.remove("copied"); }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { select(button); });
    } else {
      select(button);
    }
  }
  // Without the clipboard API (plain http on another host), select the text to copy by hand.
  function select(button) {
    var target = button.parentElement && button.parentElement.querySelector("code, input, textarea");
    if (!target) { return; }
    if (target.select) { target.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(target);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-copy]");
    if (b) { e.preventDefault(); copy(b); }
  });
  // Confirm before actions that cannot be undone (buttons with data-confirm).
  document.addEventListener("submit", function (e) {
    var b = e.submitter;
    var msg = b && b.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);
})();
