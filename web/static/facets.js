// Facet search boxes: narrow a long facet list in place as you type (without JavaScript the
// box opens /facets/<name> with the matching values instead).
(function () {
  "use strict";

  function filterList(form) {
    var section = form.closest(".facet");
    if (!section) { return; }
    var input = form.querySelector("input[name=fq]");
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    section.querySelectorAll(".facet-options > li").forEach(function (item) {
      var value = item.querySelector(".facet-value");
      var text = value ? value.textContent.replace(/\u200b/g, "").toLowerCase() : "";
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      item.hidden = !match;
      if (match) { shown += 1; }
    });
    var more = section.querySelector(".facet-more");
    if (more) {
      if (words.length) {
        more.open = true;
        more.classList.add("is-searching");
      } else {
        more.classList.remove("is-searching");
      }
    }
    var status = form.querySelector(".facet-search-status");
    if (status) {
      var found = shown + (shown === 1 ? " value" : " values") + " match";
      if (section.hasAttribute("data-facet-truncated")) {
        found += " among those listed; Enter searches them all";
      }
      status.textContent = words.length ? found : "";
    }
  }

  document.querySelectorAll("form[data-facet-search]").forEach(function (form) {
    var input = form.querySelector("input[name=fq]");
    if (!input) { return; }
    input.addEventListener("input", function () { filterList(form); });
    form.addEventListener("submit", function (event) {
      // Enter keeps the narrowed list on this page when something matches, unless the page
      // lists only the most frequent values: then /facets/<name> searches every one.
      filterList(form);
      var section = form.closest(".facet");
      var visible = section.querySelector(".facet-options > li:not([hidden]) a");
      if (visible && !section.hasAttribute("data-facet-truncated")) {
        event.preventDefault();
        visible.focus();
      }
    });
  });
})();
