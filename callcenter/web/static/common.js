/* Shared helpers of the panels: strings, Persian digits, Jalali dates, fetch, websocket. */
"use strict";
const CC = (() => {
  const boot = JSON.parse(document.getElementById("boot").textContent);
  const fa = boot.lang === "fa";
  const locale = fa ? "fa-IR-u-ca-persian-nu-arabext" : "en-GB";
  const tz = boot.timezone || "Asia/Tehran";
  const t = (key) => boot.strings[key] || key;
  const num = (v) => {
    const s = v === null || v === undefined ? "" : String(v);
    return fa ? s.replace(/[0-9]/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]) : s;
  };
  const dateFmt = new Intl.DateTimeFormat(locale, {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false });
  const timeFmt = new Intl.DateTimeFormat(locale, {
    timeZone: tz, hour: "2-digit", minute: "2-digit", hour12: false });
  const when = (iso, timeOnly) => {
    if (!iso) return "";
    const d = typeof iso === "number" ? new Date(iso * 1000) : new Date(iso);
    return num((timeOnly ? timeFmt : dateFmt).format(d));
  };
  const dur = (secs) => {
    if (secs === null || secs === undefined) return "—";
    const s = Math.max(0, Math.round(secs));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return num((h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0"));
  };
  const pct = (v) => (v === null || v === undefined) ? "—" : num(Math.round(v * 100)) + (fa ? "٪" : "%");
  /* "menu:1>category:3" steps -> "منو ۱ › موضوع ۳" */
  const ivrPath = (steps) => steps.map((step) => {
    const [name, value] = step.split(":");
    const label = t("ivr_" + name);
    return (label === "ivr_" + name ? name : label) + (value !== undefined ? " " + num(value) : "");
  }).join(" › ");
  const named = (obj) => obj ? (fa ? obj.fa : obj.en) : "";
  /* Build an element safely: text only, never innerHTML with data. */
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
    return node;
  };
  const row = (...cells) => el("tr", {}, ...cells.map((c) => c instanceof Node && c.tagName === "TD" ? c : el("td", {}, c)));
  const fill = (tbody, rows, emptyText) => {
    tbody.replaceChildren(...rows);
    if (!rows.length && emptyText) {
      const cols = tbody.closest("table").querySelectorAll("th").length;
      tbody.append(el("tr", {}, el("td", { colspan: cols, class: "muted" }, emptyText)));
    }
  };
  const flash = (text, bad) => {
    const p = document.getElementById("flash");
    p.textContent = text; p.hidden = false; p.classList.toggle("bad", !!bad);
    clearTimeout(flash.timer); flash.timer = setTimeout(() => { p.hidden = true; }, 6000);
  };
  const post = async (url, body) => {
    const res = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": boot.csrf },
      body: JSON.stringify(body || {}) });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const msg = data && (data.message || data.detail) ? (data.message || JSON.stringify(data.detail)) : res.status;
      throw new Error(String(msg));
    }
    return data;
  };
  const socket = (path, onMessage) => {
    const conn = document.getElementById("conn");
    let delay = 500;
    // Several instances: the last event id seen goes back on a reconnect (?since=), and
    // the server sends again what this page missed meanwhile.
    let lastEvent = 0;
    const open = () => {
      const resume = lastEvent ? (path.includes("?") ? "&" : "?") + "since=" + lastEvent : "";
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path + resume);
      ws.onopen = () => { delay = 500; conn.dataset.live = "1"; conn.textContent = t("connected"); };
      ws.onmessage = (e) => {
        const msg = JSON.parse(e.data);
        if (msg && Number.isInteger(msg.event_id) && msg.event_id > lastEvent) lastEvent = msg.event_id;
        onMessage(msg);
      };
      ws.onclose = (e) => {
        conn.dataset.live = "0"; conn.textContent = t("disconnected");
        if (e.code === 4401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); return; }
        setTimeout(open, delay); delay = Math.min(delay * 2, 10000);
      };
    };
    open();
  };
  document.querySelectorAll(".jdate[data-iso]").forEach((n) => { n.textContent = when(n.dataset.iso); });
  return { boot, fa, t, num, when, dur, pct, named, ivrPath, el, row, fill, flash, post, socket };
})();
