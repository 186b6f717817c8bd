// Kefu's embeddable chat widget.
//
//   <script type="module" src="https://kefu.example/static/kefu/widget.js" data-shop="SLUG"></script>
//
// Adds a floating "contact customer service" button and a chat panel. Real time
// over /ws/widget/ (docs/PROTOCOL.md); when the socket cannot connect it falls
// back to the HTTP endpoints (/api/v1/widget/messages). All text from the
// network is rendered with textContent only.

import {
  HttpError,
  ReconnectingSocket,
  api,
  formatClock,
  gettext,
  h,
  interpolate,
  setText,
  toggleClass,
  uuid,
  wsUrl,
} from "./common.js";

const script =
  document.querySelector('script[data-shop][src*="widget.js"]') || document.querySelector("script[data-shop]");
const slug = script?.dataset.shop;
const origin = new URL(import.meta.url).origin;
const TOKEN_KEY = `kefu.widget.${slug}.token`;
const POLL_MS = 3000;
const HTTP_AFTER_FAILURES = 3; // failed socket connects before the HTTP fallback
const SYNC_PAGE = 200;

const W = {
  token: null,
  shopName: "",
  greeting: "",
  maxChars: 5000,
  conversationId: null,
  status: null, // bot | queued | open | closed
  agentName: "",
  messages: new Map(), // id → message
  seqs: new Map(), // conversation id → Set of seqs held
  haveSeq: new Map(), // conversation id → highest seq with no gap below
  outbox: new Map(), // client_id → {clientId, text, state, error, el}
  open: false,
  mode: "ws", // "ws" | "http"
  unseen: 0,
  syncing: false,
  started: null, // promise of the first session
  rated: new Set(), // bot answers (seq) the customer rated in this page
};

function storage(action, value) {
  try {
    if (action === "get") return localStorage.getItem(TOKEN_KEY);
    if (action === "set") localStorage.setItem(TOKEN_KEY, value);
    if (action === "clear") localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled (private mode): the session lasts as long as the page.
  }
  return null;
}

// --- Stylesheet on pages that do not have Kefu's -------------------------------------

if (!document.querySelector('link[href*="kefu/kefu.css"]')) {
  document.head.append(h("link", { rel: "stylesheet", href: new URL("kefu.css", import.meta.url).href }));
}

// --- DOM ---------------------------------------------------------------------------

const badge = h("span", { class: "kw-badge", hidden: true, "aria-hidden": "true" });
const launcher = h(
  "button",
  { type: "button", class: "kw-launcher", "aria-expanded": "false", "aria-controls": "kw-panel" },
  h("span", { class: "kw-launcher-icon", "aria-hidden": "true" }),
  h("span", { text: gettext("Contact customer service") }),
  badge,
);
const shopNameEl = h("strong", { class: "kw-shop" });
const subtitleEl = h("span", { class: "kw-sub", text: gettext("Online customer service") });
const closeBtn = h("button", { type: "button", class: "kw-close", "aria-label": gettext("Close chat"), text: "×" });
const banner = h("div", { class: "kw-banner", role: "status", hidden: true });
const list = h("ol", { class: "kw-messages", role: "log", "aria-live": "polite", "aria-label": gettext("Messages") });
const textarea = h("textarea", {
  class: "kw-input",
  rows: "2",
  "aria-label": gettext("Your message"),
  placeholder: gettext("Type your question… Enter to send"),
});
const counter = h("span", { class: "kw-counter", "aria-live": "polite" });
const composerError = h("div", { class: "kw-composer-error", role: "alert", hidden: true });
const sendBtn = h("button", { type: "submit", class: "kw-send", text: gettext("Send") });
const form = h(
  "form",
  { class: "kw-composer", autocomplete: "off" },
  textarea,
  composerError,
  h("div", { class: "kw-foot" }, counter, h("span", { class: "kw-spacer" }), sendBtn),
);
const panel = h(
  "section",
  { class: "kw-panel", id: "kw-panel", role: "dialog", "aria-label": gettext("Chat with customer service"), hidden: true },
  h(
    "header",
    { class: "kw-head" },
    h("span", { class: "kw-avatar", "aria-hidden": "true", text: "客" }),
    h("div", { class: "kw-titles" }, shopNameEl, subtitleEl),
    closeBtn,
  ),
  banner,
  list,
  form,
);
const rootEl = h("div", { class: "kw", "data-conn": "idle" }, panel, launcher);
document.body.append(rootEl);

// --- Socket --------------------------------------------------------------------------

const socket = new ReconnectingSocket(() => `${wsUrl("/ws/widget/", origin)}?token=${encodeURIComponent(W.token || "")}`, {
  onOpen: () => onSocketOpen(),
  onFrame: (frame) => onFrame(frame),
  onState: (s) => onSocketState(s),
  onClose: (code) => {
    if (code === 4401) {
      renewSession();
      return false;
    }
    return true;
  },
});

window.kefuWidget = {
  get socket() {
    return socket.ws;
  },
  connection: socket,
  state: W,
  pauseReconnect: () => socket.pause(),
  resumeReconnect: () => socket.resume(),
  open: () => openPanel(),
};

let pollTimer = null;

function onSocketState(s) {
  if (s === "open") {
    setMode("ws");
  } else if (s !== "stopped" && socket.failuresWithoutOpen >= HTTP_AFTER_FAILURES && W.mode !== "http") {
    setMode("http");
  }
  rootEl.dataset.conn = W.mode === "http" ? "http" : s;
  updateBanner();
}

function setMode(mode) {
  if (W.mode === mode) return;
  W.mode = mode;
  clearInterval(pollTimer);
  pollTimer = null;
  if (mode === "http") {
    pollTimer = setInterval(() => httpPoll(), POLL_MS);
    httpPoll();
    for (const entry of W.outbox.values()) if (entry.state === "pending") transmit(entry);
  }
}

function updateBanner() {
  const s = socket.state;
  let text = "";
  if (W.mode === "http") text = "";
  else if (s === "waiting" || (s === "connecting" && socket.failuresWithoutOpen > 0)) text = gettext("Reconnecting…");
  setText(banner, text);
  banner.hidden = !text;
}

function onSocketOpen() {
  W.syncing = false;
  requestSync();
  for (const entry of W.outbox.values()) if (entry.state === "pending") transmit(entry);
}

function onFrame(frame) {
  switch (frame.type) {
    case "message":
      onMessage(frame.message, true);
      break;
    case "messages":
      onMessages(frame);
      break;
    case "ack":
      onAck(frame.client_id, frame.message);
      break;
    case "conversation":
      onConversation(frame.conversation);
      break;
    case "error":
      onError(frame.code, frame.message, frame.client_id);
      break;
    default:
      break;
  }
}

// --- Session -------------------------------------------------------------------------

async function startSession(oldToken) {
  const data = await api(`${origin}/widget/${encodeURIComponent(slug)}/session`, {
    method: "POST",
    body: { token: oldToken || null },
    credentials: "omit",
  });
  W.token = data.token;
  storage("set", data.token);
  W.shopName = data.shop?.name || "";
  W.greeting = data.shop?.greeting || "";
  W.maxChars = data.limits?.max_message_chars || W.maxChars;
  if (data.conversation_id && data.conversation_id !== W.conversationId) switchConversation(data.conversation_id);
  if (data.conversation) {
    // Who serves this conversation, already after a reload.
    W.agentName = data.conversation.agent_name || W.agentName;
    setStatus(data.conversation.status);
  }
  setText(shopNameEl, W.shopName);
  renderGreeting();
  updateCounter();
  return data;
}

function ensureStarted() {
  if (!W.started) {
    W.started = startSession(storage("get"))
      .then(() => {
        if (typeof WebSocket === "undefined") setMode("http");
        else socket.start();
      })
      .catch((error) => {
        W.started = null;
        setText(banner, error.message || gettext("Customer service is unavailable right now."));
        banner.hidden = false;
        throw error;
      });
  }
  return W.started;
}

let renewing = null;

/** The token expired or was refused: get a new one and reconnect. */
function renewSession() {
  if (!renewing) {
    storage("clear");
    renewing = startSession(null)
      .then(() => {
        if (W.mode === "ws") socket.start();
      })
      .finally(() => {
        renewing = null;
      });
  }
  return renewing;
}

// --- Messages ------------------------------------------------------------------------

function switchConversation(id) {
  W.conversationId = id;
  if (!W.seqs.has(id)) {
    W.seqs.set(id, new Set());
    W.haveSeq.set(id, 0);
  }
  removeEndedNote();
}

function haveSeq(id = W.conversationId) {
  return W.haveSeq.get(id) || 0;
}

function requestSync() {
  if (W.mode === "http") {
    httpPoll();
    return;
  }
  if (W.syncing) return;
  if (socket.send({ type: "sync", after_seq: haveSeq() })) W.syncing = true;
}

/** Store and show a message; false when it was already there. */
function addMessage(msg) {
  if (W.messages.has(msg.id)) return false;
  W.messages.set(msg.id, msg);
  if (!W.seqs.has(msg.conversation_id)) {
    W.seqs.set(msg.conversation_id, new Set());
    W.haveSeq.set(msg.conversation_id, 0);
  }
  const seqs = W.seqs.get(msg.conversation_id);
  seqs.add(msg.seq);
  let have = W.haveSeq.get(msg.conversation_id);
  while (seqs.has(have + 1)) have += 1;
  W.haveSeq.set(msg.conversation_id, have);
  const pending = msg.sender_type === "customer" ? W.outbox.get(msg.client_id) : null;
  if (pending) {
    W.outbox.delete(msg.client_id);
    pending.el?.remove();
  }
  if (msg.sender_type === "agent" && msg.sender_name) W.agentName = msg.sender_name;
  placeMessage(msg);
  renderGreeting();
  return true;
}

function onMessage(msg, live) {
  if (!msg) return;
  if (msg.conversation_id !== W.conversationId && msg.conversation_id > (W.conversationId || 0)) {
    switchConversation(msg.conversation_id);
  }
  const gap = msg.seq > haveSeq(msg.conversation_id) + 1;
  const added = addMessage(msg);
  if (gap && msg.conversation_id === W.conversationId) requestSync();
  if (added && live && (msg.sender_type === "agent" || msg.sender_type === "bot") && !W.open) {
    W.unseen += 1;
    updateBadge();
  }
  updateSubtitle();
}

function onMessages(frame) {
  W.syncing = false;
  if (frame.conversation_id && frame.conversation_id !== W.conversationId) switchConversation(frame.conversation_id);
  const messages = [...(frame.messages || [])].sort((a, b) => a.seq - b.seq);
  for (const msg of messages) addMessage(msg);
  if (frame.status) setStatus(frame.status);
  if (messages.length >= SYNC_PAGE) requestSync();
  updateSubtitle();
}

function onConversation(c) {
  if (!c) return;
  if (c.id !== W.conversationId) {
    switchConversation(c.id);
    W.syncing = false;
    requestSync(); // the greeting (seq 1) and anything else we missed
  }
  if ("agent_name" in c) W.agentName = c.agent_name || W.agentName;
  setStatus(c.status);
  updateSubtitle();
}

function setStatus(status) {
  W.status = status;
  rootEl.dataset.status = status || "";
  if (status === "closed") showEndedNote();
  else removeEndedNote();
}

function showEndedNote() {
  if (list.querySelector(".kw-ended")) return;
  list.append(
    h("li", { class: "kw-msg kw-system kw-ended" }, h("div", { class: "kw-bubble", text: gettext("This conversation has ended. Send a message to start a new one.") })),
  );
}

function removeEndedNote() {
  list.querySelector(".kw-ended")?.remove();
}

function updateSubtitle() {
  let text = gettext("Online customer service");
  if (W.status === "closed") text = gettext("Conversation ended");
  else if (W.agentName && W.status !== "queued") text = interpolate(gettext("%s is serving you"), [W.agentName]);
  else if (W.status === "queued") text = gettext("Waiting for an agent…");
  else if (W.status === "bot") text = gettext("Smart assistant · type “agent” for a person");
  setText(subtitleEl, text);
}

const KIND = { customer: "kw-me", agent: "kw-agent", bot: "kw-agent kw-bot", system: "kw-system" };

function messageEl(msg) {
  // The stored greeting (seq 1) looks like the shop speaking, as before it was stored.
  const greeting = msg.sender_type === "system" && msg.client_id === "greeting";
  const kind = greeting ? "kw-agent kw-greeting" : KIND[msg.sender_type] || "kw-system";
  const children = [];
  if (msg.sender_type === "agent" || msg.sender_type === "bot" || greeting) {
    children.push(h("div", { class: "kw-name", text: msg.sender_name || W.shopName || gettext("Customer service") }));
  }
  children.push(h("div", { class: "kw-bubble", text: msg.text }));
  if (msg.sender_type !== "system") children.push(h("time", { class: "kw-time", datetime: msg.created_at, text: formatClock(msg.created_at) }));
  if (msg.sender_type === "bot" && String(msg.client_id).startsWith("bot-")) children.push(feedbackEl(msg));
  return h(
    "li",
    { class: `kw-msg ${kind}`, dataset: { id: msg.id, conv: msg.conversation_id, seq: msg.seq, state: "sent" } },
    ...children,
  );
}

// "Solved / not solved" under each bot answer; shown only while the bot holds the chat.
function feedbackEl(msg) {
  const box = h("div", { class: "kw-feedback", role: "group", "aria-label": gettext("Did this answer help?") });
  const done = (text) => box.replaceChildren(h("span", { class: "kw-feedback-done", text }));
  if (W.rated.has(msg.seq)) {
    done(gettext("Thanks for your feedback."));
    return box;
  }
  const rate = async (accepted) => {
    box.querySelectorAll("button").forEach((b) => (b.disabled = true));
    try {
      await api(`${origin}/api/v1/widget/bot/feedback`, {
        method: "POST",
        body: { seq: msg.seq, accepted },
        headers: visitorHeaders(),
        credentials: "omit",
      });
      W.rated.add(msg.seq);
      done(gettext("Thanks for your feedback."));
    } catch (error) {
      if (error instanceof HttpError && error.code === "already_rated") return done(gettext("Thanks for your feedback."));
      box.querySelectorAll("button").forEach((b) => (b.disabled = false));
      showComposerError(error.message || gettext("Could not send. Please try again."));
    }
  };
  box.append(
    h("button", { type: "button", class: "kw-fb kw-fb-yes", text: gettext("Solved"), onclick: () => rate(true) }),
    h("button", { type: "button", class: "kw-fb kw-fb-no", text: gettext("Not solved"), onclick: () => rate(false) }),
  );
  return box;
}

function placeMessage(msg) {
  const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  const el = messageEl(msg);
  let before = null;
  for (let node = list.lastElementChild; node; node = node.previousElementSibling) {
    const conv = Number(node.dataset.conv);
    const seq = Number(node.dataset.seq);
    const later =
      node.dataset.state === "pending" ||
      node.dataset.state === "error" ||
      node.classList.contains("kw-ended") ||
      conv > msg.conversation_id ||
      (conv === msg.conversation_id && seq > msg.seq);
    if (later) before = node;
    else break;
  }
  list.insertBefore(el, before);
  if (stick || msg.sender_type === "customer") list.scrollTop = list.scrollHeight;
}

function renderGreeting() {
  const existing = list.querySelector(".kw-greeting-placeholder");
  if (W.messages.size === 0 && W.greeting && !existing) {
    list.prepend(
      h(
        "li",
        { class: "kw-msg kw-agent kw-greeting kw-greeting-placeholder" },
        h("div", { class: "kw-name", text: W.shopName }),
        h("div", { class: "kw-bubble", text: W.greeting }),
      ),
    );
  } else if (W.messages.size > 0 && existing) {
    existing.remove();
  }
}

// --- Sending --------------------------------------------------------------------------

const ERRORS = {
  rate_limited: gettext("You are sending messages too fast. Please wait a moment."),
  text_too_long: gettext("The message is too long."),
  empty_text: gettext("The message is empty."),
  closed: gettext("This conversation has ended."),
  not_found: gettext("The conversation was not found."),
  invalid_token: gettext("Your chat session expired. Please retry."),
};

function pendingEl(entry) {
  const children = [h("div", { class: "kw-bubble", text: entry.text })];
  if (entry.state === "error") {
    children.push(
      h(
        "div",
        { class: "kw-error", role: "alert" },
        h("span", { text: entry.error }),
        " ",
        h("button", { type: "button", class: "kw-link", text: gettext("Retry"), onclick: () => retry(entry) }),
        h("button", { type: "button", class: "kw-link", text: gettext("Delete"), onclick: () => discard(entry) }),
      ),
    );
  } else {
    children.push(h("div", { class: "kw-status", text: gettext("Sending…") }));
  }
  return h("li", { class: `kw-msg kw-me is-${entry.state}`, dataset: { state: entry.state, clientId: entry.clientId } }, ...children);
}

function redraw(entry) {
  const fresh = pendingEl(entry);
  if (entry.el) entry.el.replaceWith(fresh);
  else list.append(fresh);
  entry.el = fresh;
}

function sendText(text) {
  const entry = { clientId: uuid(), text, state: "pending", error: "", el: null, httpTried: false };
  W.outbox.set(entry.clientId, entry);
  removeEndedNote();
  redraw(entry);
  list.scrollTop = list.scrollHeight;
  transmit(entry);
}

function transmit(entry) {
  if (W.mode === "http") {
    httpSend(entry);
    return;
  }
  // Not connected: resent with the same client_id when the socket opens.
  socket.send({ type: "send", client_id: entry.clientId, text: entry.text });
}

function retry(entry) {
  entry.state = "pending";
  entry.error = "";
  redraw(entry);
  transmit(entry);
}

function discard(entry) {
  W.outbox.delete(entry.clientId);
  entry.el?.remove();
}

function onAck(clientId, msg) {
  const entry = W.outbox.get(clientId);
  if (entry) {
    W.outbox.delete(clientId);
    entry.el?.remove();
  }
  if (msg) onMessage(msg, false);
  hideComposerError();
}

function onError(code, message, clientId) {
  const text = message || ERRORS[code] || gettext("Something went wrong. Please retry.");
  const entry = clientId ? W.outbox.get(clientId) : null;
  if (entry && code !== "invalid_token") {
    entry.state = "error";
    entry.error = text;
    redraw(entry);
  }
  if (code === "invalid_token") return; // the socket closes with 4401 and we renew
  if (!entry || code === "rate_limited") showComposerError(text);
}

function showComposerError(text, kind = "server") {
  setText(composerError, text);
  composerError.dataset.kind = kind;
  composerError.hidden = false;
}

function hideComposerError() {
  composerError.hidden = true;
}

// --- HTTP fallback ----------------------------------------------------------------------

function visitorHeaders() {
  return { Authorization: `Visitor ${W.token}` };
}

async function httpSend(entry) {
  if (entry.inflight) return;
  entry.inflight = true;
  try {
    const data = await api(`${origin}/api/v1/widget/messages`, {
      method: "POST",
      body: { client_id: entry.clientId, text: entry.text },
      headers: visitorHeaders(),
      credentials: "omit",
    });
    onAck(entry.clientId, data.message);
  } catch (error) {
    entry.inflight = false;
    if (error instanceof HttpError && error.status === 401 && !entry.httpTried) {
      entry.httpTried = true;
      await renewSession().catch(() => {});
      return await httpSend(entry);
    }
    if (error instanceof HttpError && error.status === 0) return; // offline: stays pending, retried by the poller
    onError(error.code, error.message, entry.clientId);
  } finally {
    entry.inflight = false;
  }
}

let polling = false;

async function httpPoll() {
  if (polling || !W.token) return;
  polling = true;
  try {
    const data = await api(`${origin}/api/v1/widget/messages?after_seq=${haveSeq()}`, {
      headers: visitorHeaders(),
      credentials: "omit",
    });
    onMessages(data);
    for (const entry of W.outbox.values()) if (entry.state === "pending") httpSend(entry);
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) renewSession().catch(() => {});
  } finally {
    polling = false;
  }
}

// --- Composer, panel -----------------------------------------------------------------------

function updateCounter() {
  const length = textarea.value.length;
  const over = length > W.maxChars;
  setText(counter, `${length}/${W.maxChars}`);
  toggleClass(counter, "is-over", over);
  sendBtn.disabled = over || !textarea.value.trim();
  if (over) showComposerError(interpolate(gettext("The message is too long: at most %s characters."), [W.maxChars]), "limit");
  else if (composerError.dataset.kind === "limit") hideComposerError();
}

function submit() {
  const text = textarea.value;
  if (!text.trim() || text.length > W.maxChars) return;
  ensureStarted()
    .then(() => {
      sendText(text);
      textarea.value = "";
      updateCounter();
    })
    .catch(() => {});
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});

textarea.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    submit();
  }
});
textarea.addEventListener("input", updateCounter);

function updateBadge() {
  setText(badge, W.unseen > 9 ? "9+" : W.unseen);
  badge.hidden = W.unseen === 0;
}

function openPanel() {
  W.open = true;
  panel.hidden = false;
  launcher.setAttribute("aria-expanded", "true");
  rootEl.classList.add("is-open");
  W.unseen = 0;
  updateBadge();
  ensureStarted().catch(() => {});
  list.scrollTop = list.scrollHeight;
  textarea.focus();
}

function closePanel() {
  W.open = false;
  panel.hidden = true;
  launcher.setAttribute("aria-expanded", "false");
  rootEl.classList.remove("is-open");
  launcher.focus();
}

launcher.addEventListener("click", () => (W.open ? closePanel() : openPanel()));
closeBtn.addEventListener("click", closePanel);
panel.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closePanel();
});

updateCounter();
// A returning visitor: resume the session now, so replies show up on the button.
if (storage("get")) ensureStarted().catch(() => {});
