// The ticks of the fleet rows outlive the rows: htmx replaces the rows every few seconds,
// so the names ticked are kept here and ticked again after each refresh. A ticked
// appliance whose row is not shown at the moment (the filter changed, or its status did)
// stays selected through a hidden field of the bulk backup form.
(function () {
  "use strict";

  var picked = new Set();

  function boxes() {
    return document.querySelectorAll("input.row-pick");
  }

  function keptField(name) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "appliances";
    input.value = name;
    return input;
  }

  function show() {
    var kept = document.getElementById("fleet-pick-kept");
    var count = document.getElementById("fleet-pick-count");
    var button = document.getElementById("pick-selected");
    if (!kept || !count || !button) {
      return;
    }

    var shown = new Set();
    boxes().forEach(function (box) {
      box.checked = picked.has(box.value);
      shown.add(box.value);
    });
    var hidden = [];
    picked.forEach(function (name) {
      if (!shown.has(name)) {
        hidden.push(keptField(name));
      }
    });
    kept.replaceChildren.apply(kept, hidden);

    if (picked.size === 0) {
      count.textContent = "Tick rows to back them up together, or";
    } else {
      var outside = hidden.length > 0 ? " (" + hidden.length + " not shown)" : "";
      count.textContent = picked.size + " selected" + outside;
    }
    button.disabled = picked.size === 0;
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.classList.contains("row-pick")) {
      return;
    }
    if (box.checked) {
      picked.add(box.value);
    } else {
      picked.delete(box.value);
    }
    show();
  });

  // New rows arrive unticked: tick them again from memory.
  document.addEventListener("htmx:afterSettle", show);
  document.addEventListener("htmx:afterSwap", show);

  function start() {
    // A browser that restores form state on Back may have ticked some boxes already.
    boxes().forEach(function (box) {
      if (box.checked) {
        picked.add(box.value);
      }
    });
    show();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
