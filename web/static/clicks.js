/* Which results readers open: a click on a result's title sends the query, the article and
   its position to /api/v1/clicks with navigator.sendBeacon (nothing about the reader).
   Progressive enhancement only: the links stay plain links, and without this file, or
   without sendBeacon, nothing changes. */
(function () {
  "use strict";
  var list = document.querySelector("ol.hits[data-clicks]");
  if (!list || !navigator.sendBeacon) { return; }

  function send(event) {
    var link = event.target.closest ? event.target.closest("a[data-position]") : null;
    if (!link || (event.type === "auxclick" && event.button !== 1)) { return; }
    var body = JSON.stringify({
      q: list.getAttribute("data-query") || "",
      id: link.getAttribute("data-id") || "",
      position: parseInt(link.getAttribute("data-position"), 10)
    });
    try {
      navigator.sendBeacon(list.getAttribute("data-clicks"),
                           new Blob([body], {type: "text/plain;charset=UTF-8"}));
    } catch (ignored) { /* a lost click is only a missing statistic */ }
  }

  list.addEventListener("click", send);
  list.addEventListener("auxclick", send);
})();
