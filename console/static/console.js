// Roster's console: copy buttons and the live feed. No library; every
// value is set with textContent, never as HTML.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button.copy").forEach(function (b) {
    b.addEventListener("click", function () {
      navigator.clipboard.writeText(b.dataset.copy).then(function () {
        b.textContent = "Copied";
      });
    });
  });
  liveUsers(document.getElementById("live-users"));
  var feed = document.getElementById("feed");
  if (!feed) return;
  var state = document.getElementById("feed-state");
  var pause = document.getElementById("pause");
  var empty = document.getElementById("feed-empty");
  var paused = false, held = [];
  var names = JSON.parse(feed.dataset.names || "{}");
  function show(ev) {
    var li = document.createElement("li");
    li.className = "event";
    var when = document.createElement("time");
    when.textContent = ev.time;
    var type = document.createElement("strong");
    type.textContent = ev.type;
    li.append(when, " ", type, " ");
    var d = ev.data || {};
    var label = d.userName || d.displayName || (d.member && (d.member.display || d.member.value)) || d.name || "";
    var base = feed.dataset.base + "/directories/" + encodeURIComponent(ev.directory);
    if (ev.type.indexOf("user.") === 0 && d.id) {
      var a = document.createElement("a");
      a.href = base + "/users/" + encodeURIComponent(d.id);
      a.textContent = label;
      li.append(a);
    } else {
      li.append(label);
    }
    var ctx = ev.context || {};
    li.append(" in " + (names[ev.directory] || ev.directory) + " by " + (ctx.source || "") + (ctx.token ? " (" + ctx.token + ")" : ""));
    feed.prepend(li);
    if (empty) empty.hidden = true;
    while (feed.children.length > 500) feed.lastChild.remove();
  }
  pause.addEventListener("click", function () {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? "Resume" : "Pause";
    state.textContent = paused ? "paused (changes are held)" : "live";
    if (!paused) { held.forEach(show); held = []; }
  });
  var es = new EventSource(feed.dataset.stream);
  window.addEventListener("pagehide", function () { es.close(); });
  es.addEventListener("open", function () { if (!paused) state.textContent = "live"; });
  es.addEventListener("error", function () { state.textContent = "reconnecting…"; });
  es.addEventListener("change", function (m) {
    var ev = JSON.parse(m.data);
    if (paused) { held.push(ev); state.textContent = "paused, " + held.length + " held"; return; }
    show(ev);
  });
});

// liveUsers adds to the users page's first page each user created while
// it is open, at the top.
function liveUsers(table) {
  if (!table) return;
  var es = new EventSource(table.dataset.stream);
  // data-live says whether the stream is open (what follows is shown).
  window.addEventListener("pagehide", function () { es.close(); });
  es.addEventListener("open", function () { table.dataset.live = "open"; });
  es.addEventListener("error", function () { table.dataset.live = "reconnecting"; });
  es.addEventListener("change", function (m) {
    var ev = JSON.parse(m.data);
    if (ev.type !== "user.created") return;
    var d = ev.data || {}, n = d.name || {}, email = "";
    (d.emails || []).forEach(function (e) { if (!email || e.primary) email = e.value; });
    var tr = document.createElement("tr");
    tr.className = "user";
    var first = document.createElement("td"), a = document.createElement("a");
    a.href = table.dataset.base + encodeURIComponent(d.id);
    a.textContent = d.userName || d.id;
    first.append(a);
    tr.append(first);
    [n.formatted || [n.givenName, n.familyName].filter(Boolean).join(" ") || d.displayName || "", email, d.externalId || "",
      d.active ? "yes" : "no"].forEach(function (v) {
      var td = document.createElement("td");
      td.textContent = v;
      tr.append(td);
    });
    table.tBodies[0].prepend(tr);
    table.hidden = false;
    var empty = document.getElementById("users-empty");
    if (empty) empty.hidden = true;
  });
}
