/* Suggestions while typing: turns each search field into an ARIA combobox fed by
   /api/v1/suggest. Words complete the search; an article's title (marked « Article ») opens
   the article. Progressive enhancement only: without this file the form works the same. */
(function () {
  "use strict";
  var DELAY = 150;
  var MAX = 8;

  function enhance(input, n) {
    var form = input.form;
    var list = document.createElement("ul");
    var status = document.createElement("div");
    var timer = null;
    var active = -1;
    var asked = "";
    var controller = null;

    list.id = "suggestions-" + n;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    form.appendChild(list);
    form.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");

    function options() { return list.querySelectorAll("[role=option]"); }

    function close() {
      list.hidden = true;
      list.textContent = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var items = options();
      if (!items.length) { return; }
      active = (index + items.length) % items.length;
      for (var i = 0; i < items.length; i++) {
        items[i].setAttribute("aria-selected", i === active ? "true" : "false");
      }
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function choose(item) {
      var address = item.getAttribute("data-href");
      close();
      if (address) { window.location.href = address; return; }
      input.value = item.getAttribute("data-text");
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }

    function path(address) {
      var link = document.createElement("a");
      link.href = address;
      return link.pathname + link.search; // stay on this site, whatever its public name
    }

    function show(data) {
      var words = data[1] || [];
      var addresses = data[3] || [];
      var kinds = (data[4] && data[4]["furet:kinds"]) || [];
      close();
      if (!words.length) { status.textContent = ""; return; }
      words.slice(0, MAX).forEach(function (word, i) {
        var item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.setAttribute("data-text", word);
        if (kinds[i] === "article" && addresses[i]) {
          var kind = document.createElement("span");
          kind.className = "suggestion-kind";
          kind.textContent = "Article";
          item.appendChild(kind);
          item.appendChild(document.createTextNode(" " + word));
          item.className = "suggestion-article";
          item.setAttribute("data-href", path(addresses[i]));
          item.setAttribute("aria-label", "Article : " + word);
        } else {
          item.textContent = word;
        }
        item.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the field
          choose(item);
        });
        list.appendChild(item);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      var count = Math.min(words.length, MAX);
      status.textContent = count + (count > 1 ? " suggestions" : " suggestion") +
        " ; flèches haut et bas pour choisir.";
    }

    function ask() {
      var text = input.value;
      if (text.trim().length < 2 || text === asked) {
        if (text.trim().length < 2) { asked = ""; close(); }
        return;
      }
      asked = text;
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      fetch(input.getAttribute("data-suggest") + "?q=" + encodeURIComponent(text), {
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (data) {
        if (data && data[0] === input.value && document.activeElement === input) {
          show(data);
        }
      }).catch(function () { /* no suggestions: the form still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "Down") {
        if (open) { highlight(active + 1); event.preventDefault(); }
      } else if (event.key === "ArrowUp" || event.key === "Up") {
        if (open) { highlight(active - 1); event.preventDefault(); }
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();
          choose(options()[active]);
        } else {
          close();
        }
      } else if (event.key === "Escape" || event.key === "Esc") {
        if (open) { close(); event.preventDefault(); }
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  var fields = document.querySelectorAll("input[data-suggest]");
  if (!window.fetch) { return; }
  for (var i = 0; i < fields.length; i++) { enhance(fields[i], i); }
})();
