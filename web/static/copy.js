// Copy-link buttons: plain anchor links that, with JavaScript, also copy the full URL.
(function () {
  "use strict";
  var status = document.getElementById("live-status");

  function announce(message) {
    if (status) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = message; }, 50);
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("[data-copy-link]") : null;
    if (!link || !navigator.clipboard || !window.isSecureContext) {
      return;
    }
    var url = new URL(link.getAttribute("href"), window.location.href).href;
    navigator.clipboard.writeText(url).then(function () {
      var text = link.querySelector(".copy-link-text");
      link.classList.add("is-copied");
      if (text) { text.textContent = "Copied"; }
      announce("Link copied: " + url);
      window.setTimeout(function () {
        link.classList.remove("is-copied");
        if (text) { text.textContent = "Link"; }
      }, 2000);
    }, function () { /* the link still navigates to the anchor */ });
  });
})();
