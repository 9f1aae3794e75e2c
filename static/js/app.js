// Page behaviour beyond htmx: tells the reader when a refresh or a page change failed, and
// takes the note away once requests succeed again. The pages work without this file.
(function () {
  "use strict";

  function showNote(text) {
    var box = document.getElementById("flash");
    if (!box) {
      return;
    }
    var note = document.createElement("div");
    note.className = "alert alert-error";
    note.setAttribute("role", "alert");
    note.textContent = text;
    box.replaceChildren(note);
  }

  function clearNote() {
    var box = document.getElementById("flash");
    if (box) {
      box.replaceChildren();
    }
  }

  // The server sends a small alert fragment with each error; only its text is used, so
  // nothing in the answer can add markup to the page.
  document.addEventListener("htmx:responseError", function (event) {
    var text = "";
    try {
      var doc = new DOMParser().parseFromString(event.detail.xhr.responseText, "text/html");
      text = (doc.body.textContent || "").trim();
    } catch (ignored) {
      text = "";
    }
    showNote(text || "The server could not answer; the page shows the last data it had.");
  });

  document.addEventListener("htmx:sendError", function () {
    showNote("The vbdash server is not answering; the page shows the last data it had.");
  });

  // Every htmx request carries the page's CSRF token; the server refuses state changes
  // without it.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      event.detail.headers["X-CSRF-Token"] = meta.content;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) {
      clearNote();
    }
  });
})();
