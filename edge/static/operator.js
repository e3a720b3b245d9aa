// Operator status: fetched with the operator token (Authorization: Bearer), kept for this tab only.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const KEY = "coldstart-operator-token";
  $("token").value = sessionStorage.getItem(KEY) || "";

  function when(ts) {
    if (!ts) return "never";
    const ago = Math.round(Date.now() / 1000 - ts);
    return new Date(ts * 1000).toLocaleString() + " (" + ago + " s ago)";
  }

  function rows(body) {
    const k = body.kiosk || {}, sync = k.sync || {}, outbox = k.outbox || {};
    return [
      ["ready", body.ready ? "yes" : "NO: " + ((body.error && body.error.message) || "?"), !body.ready],
      ["release (serving)", sync.current || "none", !sync.current],
      ["previous release", sync.previous || "none"],
      ["backend", sync.backend + (body.model_version ? " · " + body.model_version : "")],
      ["teacher", body.teacher ? body.teacher + (body.demo_model ? " (DEMO model)" : "") : "-"],
      ["last sync", when(sync.last_sync)],
      ["last sync error", sync.last_error || "none", !!sync.last_error],
      ["outbox backlog", (outbox.pending ?? "?") + " pending, " + (outbox.uploaded ?? "?") + " uploaded", outbox.pending > 0],
      ["last upload", when(outbox.last_upload)],
      ["last upload error", outbox.last_upload_error || "none", !!outbox.last_upload_error],
      ["outbox error", outbox.last_error || "none", !!outbox.last_error],
      ["disk full", k.disk_full || "no", !!k.disk_full],
      ["avatar OCR", k.ocr ? "available" : "not available on this runtime"],
      ["release source", k.release_uri || "-"],
      ["kiosk id", k.id || "-"],
    ];
  }

  function render(body) {
    const tbody = $("status").querySelector("tbody");
    tbody.textContent = "";
    for (const [name, value, bad] of rows(body)) {
      const tr = document.createElement("tr");
      const th = document.createElement("th"); th.textContent = name;
      const td = document.createElement("td"); td.textContent = value; if (bad) td.className = "bad";
      tr.append(th, td);
      tbody.append(tr);
    }
    $("status").hidden = false;
    $("raw").textContent = JSON.stringify(body, null, 2);
  }

  async function call(method, path) {
    const token = $("token").value.trim();
    sessionStorage.setItem(KEY, token);
    $("problem").hidden = true;
    const res = await fetch(path, {method, headers: {"Authorization": "Bearer " + token}, cache: "no-store"});
    const body = await res.json();
    if (res.status === 401) {
      $("problem").textContent = "Refused: wrong or missing operator token.";
      $("problem").hidden = false;
      $("status").hidden = true;
      return null;
    }
    return body;
  }

  async function load() {
    try {
      const body = await call("GET", "/api/status");
      if (body) render(body);
    } catch (e) {
      $("problem").textContent = "The kiosk does not answer.";
      $("problem").hidden = false;
    }
  }

  $("login").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  $("sync").addEventListener("click", async () => { try { await call("POST", "/api/sync"); } catch (e) {} load(); });
  if ($("token").value) load();
  setInterval(() => { if ($("token").value) load(); }, 15000);
})();
