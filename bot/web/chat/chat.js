// intake web chat: progressive enhancement of the plain forms. Without this file the chat
// works the same, one page per answer. With it: forms are sent with fetch and new bubbles
// appear in place, counsellor messages arrive live (server-sent events), the quick exit
// also answers to Esc, and the receipt can be copied. It stores nothing in the browser
// (no localStorage, sessionStorage, IndexedDB or cookies of its own) and talks only to
// its own origin.
(function () {
  "use strict";
  var doc = document;
  doc.documentElement.classList.add("js");

  // --- quick exit: hide at once, forget the session, replace this history entry ---------
  var exit = doc.getElementById("exit");
  function quickExit(ev) {
    if (ev) { ev.preventDefault(); }
    var to = exit.getAttribute("data-exit");
    doc.body.hidden = true;
    doc.title = "";
    try {
      fetch("/chat/exit", { method: "POST", credentials: "same-origin", keepalive: true });
    } catch (e) { /* leaving matters more than the cookie */ }
    window.location.replace(to);
  }
  exit.addEventListener("click", quickExit);
  doc.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" || ev.key === "Esc") { quickExit(ev); }
  });

  var log = doc.getElementById("log");
  if (!log) { return; } // the privacy page and notices have no conversation
  var body = doc.body;
  var typing = doc.getElementById("typing");
  var text = doc.getElementById("text");
  var busy = false;

  function setTokens(once, csrf) {
    var inputs = doc.querySelectorAll("input[name=once]");
    for (var i = 0; i < inputs.length; i++) { if (once) { inputs[i].value = once; } }
    if (csrf) {
      inputs = doc.querySelectorAll("input[name=csrf]");
      for (i = 0; i < inputs.length; i++) { inputs[i].value = csrf; }
    }
  }
  function currentOnce() {
    var first = doc.querySelector("#compose input[name=once]");
    return first ? first.value : "";
  }

  // parse turns server HTML (from the page's own templates) into nodes.
  function parse(html) {
    var tpl = doc.createElement("template");
    tpl.innerHTML = html;
    return tpl.content;
  }

  function bubble(cls, words) {
    var div = doc.createElement("div");
    div.className = "bubble " + cls;
    if (cls === "me") {
      var who = doc.createElement("span");
      who.className = "visually-hidden";
      who.textContent = body.getAttribute("data-you") + " ";
      div.appendChild(who);
    }
    var p = doc.createElement("p");
    p.className = "text";
    p.textContent = words;
    div.appendChild(p);
    log.appendChild(div);
    return div;
  }

  // append adds server-rendered bubbles; the first new one gets focus when asked, so
  // keyboard and screen reader users continue where the answer starts.
  function append(html, focus) {
    var old = doc.getElementById("now");
    if (old) { old.removeAttribute("id"); }
    var frag = parse(html);
    var first = frag.firstElementChild;
    log.appendChild(frag);
    setTokens(currentOnce());
    if (first && focus) {
      first.setAttribute("tabindex", "-1");
      first.focus({ preventScroll: true });
      first.scrollIntoView({ block: "start" }); // at once: nothing on the page moves by itself
    }
    return first;
  }

  // Buttons of earlier questions are stale once answered; counsellor messages (slot
  // choices) stay usable.
  function retireChoices() {
    var forms = log.querySelectorAll(".bubble:not(.team) .choices");
    for (var i = 0; i < forms.length; i++) { forms[i].remove(); }
  }

  function setReceipt(html) {
    var slot = doc.getElementById("receipt-slot");
    if (!slot || !html) { return; }
    slot.replaceChildren(parse(html));
    wireReceipt();
  }

  function send(form, submitter) {
    if (busy) { return; }
    var data = new URLSearchParams(new FormData(form));
    var label = "";
    if (submitter && submitter.name) {
      data.append(submitter.name, submitter.value);
      label = submitter.textContent.trim();
    } else if (form.id === "compose") {
      label = text.value.trim();
      if (!label) { text.focus(); return; }
    } else if (form.getAttribute("action") === "/chat/receipt") {
      label = "";
    }
    busy = true;
    body.setAttribute("aria-busy", "true");
    var mine = label ? bubble("me", label) : null;
    typing.hidden = false;
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (resp) {
      return resp.json().then(function (j) { return { ok: resp.ok, j: j }; });
    }).then(function (res) {
      var j = res.j;
      if (j.reload || (j.lang && j.lang !== doc.documentElement.lang) || j.again) {
        window.location.replace("/"); // a new conversation or language: the whole page changes
        return;
      }
      if (!res.ok || j.error) {
        if (mine) { mine.remove(); }
        var note = bubble("note", j.error || body.getAttribute("data-offline"));
        note.setAttribute("tabindex", "-1");
        note.focus();
        return;
      }
      retireChoices();
      setTokens(j.once, j.csrf);
      if (form.id === "compose") { text.value = ""; }
      if (form.getAttribute("action") === "/chat/receipt") { form.reset(); }
      append(j.html, true);
      setReceipt(j.receipt);
      if (j.case) {
        var have = doc.getElementById("have-receipt");
        if (have) { have.remove(); }
        body.setAttribute("data-events", "1");
        listen();
      }
    }).catch(function () {
      if (mine) { mine.remove(); }
      bubble("note", body.getAttribute("data-offline"));
    }).finally(function () {
      busy = false;
      typing.hidden = true;
      body.removeAttribute("aria-busy");
    });
  }

  doc.addEventListener("submit", function (ev) {
    var form = ev.target;
    var action = form.getAttribute("action");
    if (action !== "/chat/say" && action !== "/chat/receipt") { return; }
    if (!window.fetch || !window.URLSearchParams) { return; } // plain form post
    ev.preventDefault();
    send(form, ev.submitter);
  });

  // Enter sends, Shift+Enter starts a new line (as in chat apps).
  if (text) {
    text.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        if (text.form.requestSubmit) { text.form.requestSubmit(); } else { send(text.form, null); }
      }
    });
  }

  // --- live counsellor messages ----------------------------------------------------------
  var source = null;
  var backoff = 5000;
  function listen() {
    if (source || !window.EventSource || body.getAttribute("data-events") !== "1") { return; }
    source = new EventSource("/chat/events");
    source.addEventListener("turn", function (ev) {
      backoff = 5000;
      try { append(JSON.parse(ev.data).html, false); } catch (e) { /* a broken event shows nothing */ }
    });
    source.addEventListener("end", function () { source.close(); source = null; });
    source.onerror = function () {
      if (source && source.readyState === EventSource.CLOSED) {
        // 204 (no case), 429 or 503: try again later, more slowly each time.
        source = null;
        setTimeout(listen, backoff);
        backoff = Math.min(backoff * 2, 300000);
      }
    };
  }
  listen();

  // --- the receipt ------------------------------------------------------------------------
  function wireReceipt() {
    var btn = doc.getElementById("receipt-copy");
    if (!btn || !navigator.clipboard) { return; }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var status = doc.getElementById("copy-status");
      navigator.clipboard.writeText(btn.getAttribute("data-text")).then(function () {
        status.textContent = btn.getAttribute("data-done");
      }, function () {
        status.textContent = btn.getAttribute("data-failed");
      });
    });
  }
  wireReceipt();
})();
