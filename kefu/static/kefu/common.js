// Shared helpers of Kefu's workbench and chat widget (ES module, no dependencies).
//
// Rule for everything that touches the DOM: text from the network (customer
// messages, names, previews, notes) goes through textContent / createTextNode
// only. There is no innerHTML, insertAdjacentHTML or document.write anywhere.

// --- Translations ----------------------------------------------------------------
// Django's /jsi18n/ script defines the globals gettext() and interpolate(). If it
// failed to load (or on a third-party page that embeds the widget), fall back to
// the English source strings.

export function gettext(text) {
  return typeof globalThis.gettext === "function" ? globalThis.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  if (typeof globalThis.ngettext === "function") return globalThis.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

/** interpolate("%(n)s waiting", {n: 3}, true) or interpolate("%s", ["x"]). */
export function interpolate(format, values, named = false) {
  if (typeof globalThis.interpolate === "function") return globalThis.interpolate(format, values, named);
  if (named) return format.replace(/%\(\w+\)s/g, (m) => String(values[m.slice(2, -2)]));
  let i = 0;
  return format.replace(/%s/g, () => String(values[i++]));
}

// --- DOM -------------------------------------------------------------------------

/**
 * h("div", {class: "x", text: "plain text", "aria-label": "…", onclick: fn}, child…)
 * `text` sets textContent; string children become text nodes; never parses HTML.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") el.textContent = String(value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Set textContent only when it changed (keeps the 1 s timer loop cheap). */
export function setText(el, text) {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}

export function toggleClass(el, name, on) {
  if (el.classList.contains(name) !== Boolean(on)) el.classList.toggle(name, Boolean(on));
}

// --- Ids, time -----------------------------------------------------------------------

export function uuid() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // Insecure contexts (plain http on a host name) have no randomUUID.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Milliseconds of an ISO timestamp (microseconds are trimmed), or null. */
export function parseTime(iso) {
  if (!iso) return null;
  const ms = Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));
  return Number.isNaN(ms) ? null : ms;
}

/** 0:42, 12:05, 1:02:09 */
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const hrs = Math.floor(total / 3600);
  const ss = String(s).padStart(2, "0");
  return hrs ? `${hrs}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** 08:01 today, 11-23 08:01 on other days, 2025-11-23 in other years. */
export function formatClock(iso) {
  const ms = parseTime(iso);
  if (ms === null) return "";
  const d = new Date(ms);
  const now = new Date();
  const hm = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  const md = `${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  if (d.getFullYear() !== now.getFullYear()) return `${d.getFullYear()}-${md}`;
  if (d.toDateString() === now.toDateString()) return hm;
  return `${md} ${hm}`;
}

// --- HTTP ------------------------------------------------------------------------

export function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

export class HttpError extends Error {
  constructor(status, code, detail, data = null) {
    super(typeof detail === "string" ? detail : code || `HTTP ${status}`);
    this.status = status;
    this.code = code || `http_${status}`;
    this.detail = detail;
    this.data = data; // the whole error body (e.g. the identity rule's standard answer)
  }
}

/** fetch() JSON with the session cookie and, on unsafe methods, the CSRF header. */
export async function api(url, { method = "GET", body, headers = {}, credentials = "same-origin" } = {}) {
  const init = { method, credentials, headers: { Accept: "application/json", ...headers } };
  if (method !== "GET" && method !== "HEAD") {
    const token = cookie("csrftoken");
    if (token && credentials !== "omit") init.headers["X-CSRFToken"] = token;
  }
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new HttpError(0, "network", gettext("The network is unavailable."));
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    let detail = data && data.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
    throw new HttpError(response.status, data && data.code, detail || response.statusText, data);
  }
  api.lastDate = response.headers.get("Date");
  return data;
}

// --- WebSocket with reconnect ------------------------------------------------------

/**
 * A WebSocket that reconnects with exponential backoff (0.5 s doubling to 5 s,
 * ±20 % jitter), pings every 25 s and drops a connection that went silent.
 *
 * callbacks: onOpen(), onFrame(obj), onState(state), onClose(code) → return
 * false to stop reconnecting (e.g. 4401: not authenticated).
 * `state` is "connecting" | "open" | "waiting" (to retry) | "stopped".
 */
export class ReconnectingSocket {
  constructor(url, { onOpen, onFrame, onState, onClose, minDelay = 500, maxDelay = 5000, pingMs = 25000 } = {}) {
    this.url = url; // string or () => string
    this.onOpen = onOpen || (() => {});
    this.onFrame = onFrame || (() => {});
    this.onState = onState || (() => {});
    this.onClose = onClose || (() => true);
    this.minDelay = minDelay;
    this.maxDelay = maxDelay;
    this.pingMs = pingMs;
    this.ws = null;
    this.state = "stopped";
    this.attempt = 0; // failed attempts since the last open
    this.failuresWithoutOpen = 0;
    this.paused = false; // test hook: hold reconnection
    this.timer = null;
    this.pinger = null;
    this.lastSeen = 0;
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  start() {
    this.stopped = false;
    this._connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.ws) this.ws.close(1000);
    this._setState("stopped");
  }

  /** Send an object as JSON; false when not connected (the caller keeps it). */
  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Close the current socket and reconnect soon (as after a network drop). */
  reconnectNow() {
    this.attempt = 0;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(4000);
    else this._schedule(0);
  }

  pause() {
    this.paused = true;
  }

  resume() {
    this.paused = false;
    if (!this.stopped && (!this.ws || this.ws.readyState >= WebSocket.CLOSING)) this._schedule(0);
  }

  _setState(state) {
    if (this.state !== state) {
      this.state = state;
      this.onState(state);
    }
  }

  _connect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    if (this.paused) {
      this._setState("waiting");
      return;
    }
    const url = typeof this.url === "function" ? this.url() : this.url;
    this._setState("connecting");
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (error) {
      this._failed(1006);
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      opened = true;
      this.attempt = 0;
      this.failuresWithoutOpen = 0;
      this.lastSeen = Date.now();
      this._setState("open");
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this._ping(), this.pingMs);
      this.onOpen();
    });
    ws.addEventListener("message", (event) => {
      if (this.ws !== ws) return;
      this.lastSeen = Date.now();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame && typeof frame === "object") this.onFrame(frame);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      clearInterval(this.pinger);
      this.ws = null;
      if (!opened) this.failuresWithoutOpen += 1;
      if (this.stopped) return;
      if (this.onClose(event.code, opened) === false) {
        this.stopped = true;
        this._setState("stopped");
        return;
      }
      this._failed(event.code);
    });
  }

  _failed() {
    this.attempt += 1;
    const base = Math.min(this.maxDelay, this.minDelay * 2 ** (this.attempt - 1));
    this._schedule(base * (0.8 + Math.random() * 0.4));
  }

  _schedule(delay) {
    clearTimeout(this.timer);
    this._setState("waiting");
    this.timer = setTimeout(() => this._connect(), delay);
  }

  _ping() {
    if (!this.isOpen) return;
    // No frame (not even a pong) for two ping periods: the connection is dead
    // even though the browser has not noticed yet.
    if (Date.now() - this.lastSeen > this.pingMs * 2 + 5000) {
      this.ws.close(4000);
      return;
    }
    this.send({ type: "ping" });
  }
}

/** ws(s)://same-host/path for a page served over http(s). */
export function wsUrl(path, base = location.href) {
  const url = new URL(path, base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}
