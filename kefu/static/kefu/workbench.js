// The agents' workbench: conversation list, chat, customer panel, supervisor
// queues. Real time over /ws/agent/ (docs/PROTOCOL.md); HTTP API for the rest.
//
// Customer text is hostile: every text from the network is rendered with
// textContent (see h() in common.js); nothing here parses HTML.

import {
  ReconnectingSocket,
  api,
  formatClock,
  formatDuration,
  gettext,
  h,
  interpolate,
  ngettext,
  parseTime,
  setText,
  toggleClass,
  uuid,
  wsUrl,
} from "./common.js";
import { initAssist } from "./assist.js";
import { initGuard } from "./guard.js";
import { initOrders } from "./orders.js";

const root = document.getElementById("workbench");
const $ = (id) => document.getElementById(id);
const myId = Number(root.dataset.userId);

const TIER_LABELS = { vip: gettext("VIP"), regular: gettext("Regular"), new: gettext("New") };
const STATUS_LABELS = {
  online: gettext("Online"),
  busy: gettext("Busy"),
  away: gettext("Away"),
  offline: gettext("Offline"),
};
const CONVERSATION_STATUS = {
  bot: gettext("With the bot"),
  queued: gettext("Waiting in queue"),
  open: gettext("Open"),
  closed: gettext("Closed"),
};
const CHANNELS = {
  widget: gettext("Web chat"),
  marketplace: gettext("Marketplace"),
  email: gettext("Email"),
  phone: gettext("Phone"),
  api: gettext("API"),
};
const IDENTITY_KINDS = {
  marketplace: gettext("Marketplace account"),
  visitor: gettext("Web visitor"),
  email: gettext("Email"),
  phone: gettext("Phone"),
};
const DEFAULT_SHOP = {
  name: "",
  first_reply_target_seconds: 30,
  reply_alert_seconds: 100,
  holding_text: "",
  max_message_chars: 5000,
};
const AGENT_MAX_CHARS = 5000; // what the agent socket accepts (consumers.AgentConsumer)
const SYNC_PAGE = 200; // the server's page size for `sync`
const LEAVE_DELAY_MS = 4000; // closed / transferred rows stay greyed this long
const HOLD_WARN_MS = 30000;

const state = {
  me: null,
  shops: new Map(), // id → shop settings from /agents/me
  supervisor: false,
  status: root.dataset.status || "offline",
  convs: new Map(), // id → conversation (see makeConv)
  outbox: new Map(), // client_id → pending outgoing message
  selectedId: null,
  watched: new Set(), // conversations a supervisor follows with `watch`
  customers: new Map(), // id → profile (cache for the side panel)
  queues: new Map(), // shop id → [{code, name, waiting, oldest_waiting_since}]
  waiting: [],
  agents: [],
  clockOffset: 0, // server clock − local clock, ms
  listLoadedAt: 0,
  statusChanges: 0, // counts setStatus() calls (to drop stale answers)
  ready: false,
};
const serverNow = () => Date.now() + state.clockOffset;

// --- Socket ----------------------------------------------------------------------

const socket = new ReconnectingSocket(() => wsUrl("/ws/agent/"), {
  onOpen: () => onSocketOpen(),
  onFrame: (frame) => onFrame(frame),
  onState: (s) => onSocketState(s),
  onClose: (code) => {
    if (code === 4401 || code === 4403) {
      showSessionEnded(code);
      return false;
    }
    return true;
  },
});

// For tests and for debugging from the console.
window.kefuWorkbench = {
  get socket() {
    return socket.ws;
  },
  connection: socket,
  state,
  pauseReconnect: () => socket.pause(),
  resumeReconnect: () => socket.resume(),
};

function send(frame) {
  return socket.send(frame);
}

let everOpened = false;

function onSocketState(s) {
  root.dataset.connection = s;
  const banner = $("conn-banner");
  const indicator = $("conn-indicator");
  if (s === "open") {
    banner.hidden = true;
    setText(indicator, gettext("Connected"));
  } else if (s === "stopped") {
    setText(indicator, "");
  } else {
    setText(indicator, everOpened ? "" : gettext("Connecting…"));
    if (everOpened) {
      setText($("conn-banner-text"), gettext("Connection lost. Reconnecting…"));
      banner.hidden = false;
    }
  }
}

function showSessionEnded(code) {
  const banner = $("conn-banner");
  const text = $("conn-banner-text");
  text.replaceChildren(
    code === 4403
      ? gettext("This account has no agent profile.")
      : gettext("Your session has ended."),
    " ",
    h("a", { href: `/accounts/login/?next=${encodeURIComponent(location.pathname)}`, text: gettext("Log in again") }),
  );
  banner.hidden = false;
  root.dataset.connection = "stopped";
}

async function onSocketOpen() {
  everOpened = true;
  for (const id of state.watched) send({ type: "watch", conversation_id: id });
  for (const conv of state.convs.values()) conv.syncing = false;
  resendOutbox(); // same client_id: the server stores each message once
  // The presence sweeper may have set us offline while the socket was down
  // (a `status` frame that arrives meanwhile is newer than this answer).
  const statusSeen = state.statusChanges;
  api("/api/v1/agents/me")
    .then((me) => {
      if (state.statusChanges === statusSeen) setStatus(me.status);
    })
    .catch(() => {});
  // Assignments, transfers and closes may have happened while we were not
  // subscribed (also between the first HTTP load and this socket): reload.
  try {
    await loadMyConversations();
  } catch (error) {
    toast(error.message, "error");
  }
  for (const conv of state.convs.values()) {
    if (conv.mine || state.watched.has(conv.id)) requestSync(conv);
  }
  if (state.supervisor) refreshQueues();
}

function onFrame(frame) {
  switch (frame.type) {
    case "message":
      onMessageFrame(frame.message);
      break;
    case "messages":
      onMessagesFrame(frame);
      break;
    case "ack":
      onAck(frame);
      break;
    case "error":
      onErrorFrame(frame);
      break;
    case "conversation":
      onConversationFrame(frame.conversation);
      break;
    case "status":
      setStatus(frame.status);
      break;
    case "queue":
      onQueueFrame(frame);
      break;
    case "agent":
      onAgentFrame(frame.agent);
      break;
    case "findings":
      guard.onFindings(frame);
      break;
    case "override":
      onOverrideFrame(frame.override);
      break;
    default:
      break; // pong and future frame types
  }
}

// --- Conversations: state ------------------------------------------------------------

function makeConv(summary, mine) {
  const conv = {
    id: summary.id,
    s: summary,
    mine,
    messages: new Map(), // seq → message
    ids: new Set(), // message ids seen (dedupe)
    haveSeq: 0, // highest seq held with no gap below it
    summarySeq: -1, // the seq the counters below are valid for
    unread: 0,
    waitingSince: null,
    holdUntil: null,
    preview: "",
    lastAt: null,
    draft: "",
    syncing: false,
    resync: false,
    leaving: null, // "closed" | "transferred" while greyed out
    leaveTimer: null,
    row: null,
    lastReadSent: -1,
    touchedAt: Date.now(), // last assignment news (frame or list) applied
  };
  applySummary(conv, summary);
  return conv;
}

function applySummary(conv, s) {
  conv.s = { ...conv.s, ...s };
  if (typeof s.last_seq === "number" && s.last_seq >= conv.summarySeq) {
    conv.summarySeq = s.last_seq;
    conv.unread = s.unread_count || 0;
    conv.waitingSince = parseTime(s.waiting_since);
    conv.holdUntil = parseTime(s.hold_until);
    conv.preview = s.last_message_preview || "";
    conv.lastAt = parseTime(s.last_message_at) || parseTime(s.created_at);
  }
}

function shopOf(conv) {
  return { ...DEFAULT_SHOP, ...(state.shops.get(conv.s.shop_id) || {}) };
}

/** Store one message; false if it was already there. Keeps counters in step. */
function addMessage(conv, msg) {
  if (conv.ids.has(msg.id)) return false;
  conv.ids.add(msg.id);
  conv.messages.set(msg.seq, msg);
  while (conv.messages.has(conv.haveSeq + 1)) conv.haveSeq += 1;
  const pending = state.outbox.get(msg.client_id);
  if (pending && msg.sender_type === "agent" && pending.conversationId === conv.id) {
    state.outbox.delete(msg.client_id);
    pending.el?.remove();
  }
  if (msg.seq > conv.summarySeq) {
    conv.summarySeq = msg.seq;
    conv.preview = msg.text.slice(0, 60);
    conv.lastAt = parseTime(msg.created_at);
    if (msg.sender_type === "customer") {
      conv.unread += 1;
      if (conv.waitingSince === null) conv.waitingSince = parseTime(msg.created_at);
    } else if (msg.sender_type === "agent" || msg.sender_type === "bot") {
      conv.waitingSince = null;
      conv.unread = 0;
      conv.holdUntil = msg.hold_seconds ? parseTime(msg.created_at) + msg.hold_seconds * 1000 : null;
    }
  }
  if (conv.id === state.selectedId) placeMessage(conv, msg);
  return true;
}

function requestSync(conv) {
  if (conv.syncing) {
    conv.resync = true;
    return;
  }
  conv.syncing = true;
  conv.resync = false;
  if (send({ type: "sync", conversation_id: conv.id, after_seq: conv.haveSeq })) return;
  // No socket: the same over HTTP.
  api(`/api/v1/conversations/${conv.id}/messages?after_seq=${conv.haveSeq}&limit=${SYNC_PAGE}`)
    .then((data) => onMessagesFrame({ conversation_id: conv.id, messages: data.messages }))
    .catch(() => {
      conv.syncing = false;
    });
}

function onMessageFrame(msg) {
  if (!msg) return;
  const conv = state.convs.get(msg.conversation_id);
  if (!conv) {
    ensureConversation(msg.conversation_id);
    return;
  }
  const gap = msg.seq > conv.haveSeq + 1;
  const added = addMessage(conv, msg);
  if (gap) requestSync(conv);
  if (!added) return;
  afterNewMessages(conv, [msg], true);
}

function onMessagesFrame(frame) {
  const conv = state.convs.get(frame.conversation_id);
  if (!conv) return;
  conv.syncing = false;
  const list = [...(frame.messages || [])].sort((a, b) => a.seq - b.seq);
  const added = list.filter((m) => addMessage(conv, m));
  if (list.length >= SYNC_PAGE || conv.resync) requestSync(conv);
  if (added.length) afterNewMessages(conv, added, false);
}

function afterNewMessages(conv, added, live) {
  const fromCustomer = added.some((m) => m.sender_type === "customer");
  if (conv.id === state.selectedId && fromCustomer) markRead(conv);
  if (fromCustomer) assist.customerMessage(conv.id);
  if (conv.row) {
    updateRow(conv);
    if (live) moveRowToTop(conv);
  }
  if (conv.id === state.selectedId) updateChatHeader(conv);
  updateTitle();
}

const ensuring = new Set();

/** A message for a conversation we do not know yet: fetch its summary. */
async function ensureConversation(id) {
  if (ensuring.has(id)) return;
  ensuring.add(id);
  try {
    const summary = await api(`/api/v1/conversations/${id}`);
    onConversationFrame(summary);
  } catch {
    // Not visible to us: ignore.
  } finally {
    ensuring.delete(id);
  }
}

function onConversationFrame(s) {
  if (!s || typeof s.id !== "number") return;
  const conv = state.convs.get(s.id);
  if (!("agent_id" in s)) {
    // The customer-side summary ({id, status, agent_name}) of a watched conversation.
    if (conv) {
      conv.s = { ...conv.s, status: s.status, agent_name: s.agent_name };
      if (conv.id === state.selectedId) updateChatHeader(conv);
    }
    return;
  }
  const mineNow = s.agent_id === myId && s.status !== "closed";
  if (conv) conv.touchedAt = Date.now();
  if (mineNow) {
    if (!conv) {
      const fresh = makeConv(s, true);
      state.convs.set(s.id, fresh);
      insertRow(fresh);
      requestSync(fresh);
      if (state.ready) {
        toast(interpolate(gettext("New conversation: %s"), [s.customer?.name || ""]), "info");
      }
    } else {
      const wasMine = conv.mine && !conv.leaving;
      applySummary(conv, s);
      cancelLeave(conv);
      conv.mine = true;
      if (!conv.row) insertRow(conv);
      if (!wasMine) requestSync(conv);
      updateRow(conv);
    }
  } else if (conv) {
    applySummary(conv, s);
    if (conv.mine && !conv.leaving) leave(conv, s.status === "closed" ? "closed" : "transferred");
  }
  if (mineNow && s.transfer && state.ready) {
    const note = s.transfer.note
      ? interpolate(gettext("Transferred to you by %(by)s: %(note)s"), { by: s.transfer.by_name, note: s.transfer.note }, true)
      : interpolate(gettext("Transferred to you by %s."), [s.transfer.by_name]);
    toast(note, "note");
  }
  const current = state.convs.get(s.id);
  if (current && current.id === state.selectedId) {
    updateChatHeader(current);
    updateComposerState();
  }
  updateCounts();
}

function leave(conv, reason) {
  conv.leaving = reason;
  if (conv.row) updateRow(conv);
  clearTimeout(conv.leaveTimer);
  conv.leaveTimer = setTimeout(() => {
    conv.mine = false;
    conv.leaving = reason;
    conv.row?.remove();
    conv.row = null;
    if (conv.id !== state.selectedId && !state.watched.has(conv.id)) state.convs.delete(conv.id);
    updateCounts();
  }, LEAVE_DELAY_MS);
  updateCounts();
}

function cancelLeave(conv) {
  clearTimeout(conv.leaveTimer);
  conv.leaveTimer = null;
  conv.leaving = null;
}

async function loadMyConversations() {
  const started = Date.now();
  const rows = await api("/api/v1/conversations?mine=true&limit=200");
  state.listLoadedAt = Date.now();
  const seen = new Set();
  // A `conversation` frame that arrived while this request ran is newer than
  // the list: such conversations keep what the frame said.
  const fresher = (conv) => conv.touchedAt >= started;
  rows.sort((a, b) => (parseTime(a.last_message_at) || 0) - (parseTime(b.last_message_at) || 0));
  for (const s of rows) {
    if (s.agent_id !== myId || s.status === "closed") continue;
    seen.add(s.id);
    const conv = state.convs.get(s.id);
    if (conv && fresher(conv)) continue;
    if (!conv) {
      const fresh = makeConv(s, true);
      state.convs.set(s.id, fresh);
      insertRow(fresh);
    } else {
      applySummary(conv, s);
      cancelLeave(conv);
      conv.mine = true;
      if (!conv.row) insertRow(conv);
      else updateRow(conv);
    }
  }
  for (const conv of state.convs.values()) {
    if (conv.mine && !conv.leaving && !seen.has(conv.id) && !fresher(conv)) leave(conv, "transferred");
  }
  updateCounts();
}

// --- Conversation list (left column) ---------------------------------------------------

const listEl = $("conv-list");

function insertRow(conv) {
  const name = h("span", { class: "conv-name" });
  const tier = h("span", { class: "tier" });
  const timer = h("span", { class: "timer timer-sm" });
  const preview = h("span", { class: "conv-preview" });
  const unread = h("span", { class: "badge badge-unread", "aria-label": "" });
  const flag = h("span", { class: "conv-flag" });
  const button = h(
    "button",
    { type: "button", class: "conv-btn", onclick: () => selectConversation(conv.id) },
    h("span", { class: "conv-line" }, name, tier, h("span", { class: "spacer" }), timer),
    h("span", { class: "conv-line" }, preview, flag, unread),
  );
  const li = h("li", { class: "conv", dataset: { id: conv.id } }, button);
  conv.row = { li, button, name, tier, timer, preview, unread, flag };
  // Keep the list ordered by latest activity.
  let before = null;
  for (const el of listEl.children) {
    const other = state.convs.get(Number(el.dataset.id));
    if (other && (other.lastAt || 0) <= (conv.lastAt || 0)) {
      before = el;
      break;
    }
  }
  listEl.insertBefore(li, before);
  updateRow(conv);
}

function moveRowToTop(conv) {
  if (conv.row && listEl.firstElementChild !== conv.row.li) listEl.prepend(conv.row.li);
}

function updateRow(conv) {
  const r = conv.row;
  if (!r) return;
  const c = conv.s.customer || {};
  setText(r.name, c.name || "");
  r.name.title = c.name || "";
  setTier(r.tier, c.tier);
  setText(r.preview, conv.preview);
  setText(r.unread, conv.unread > 99 ? "99+" : conv.unread);
  r.unread.hidden = conv.unread === 0;
  r.unread.setAttribute("aria-label", interpolate(ngettext("%s unread message", "%s unread messages", conv.unread), [conv.unread]));
  setText(r.flag, conv.leaving === "closed" ? gettext("Closed") : conv.leaving ? gettext("Transferred") : "");
  r.flag.hidden = !conv.leaving;
  toggleClass(r.li, "is-selected", conv.id === state.selectedId);
  toggleClass(r.li, "is-leaving", Boolean(conv.leaving));
  toggleClass(r.li, "is-vip", c.tier === "vip");
  toggleClass(r.li, "is-unread", conv.unread > 0);
  if (conv.id === state.selectedId) r.button.setAttribute("aria-current", "true");
  else r.button.removeAttribute("aria-current");
  updateRowTimer(conv);
}

function setTier(el, tier) {
  setText(el, TIER_LABELS[tier] || "");
  el.hidden = !tier || tier === "new";
  el.className = `tier tier-${tier || "none"}`;
}

// --- Timers (updated once per second, in place) ---------------------------------------

const TITLE_WAIT = gettext("Time since the customer's oldest unanswered message");
const TITLE_HOLD = gettext("Time left of the promised answer time");

/** {text, level} of the unanswered-wait timer, or null. */
function waitTimer(conv, t) {
  if (conv.waitingSince === null || conv.leaving) return null;
  const shop = shopOf(conv);
  const elapsed = t - conv.waitingSince;
  let level = "ok";
  if (elapsed >= shop.reply_alert_seconds * 1000) level = "alert";
  else if (elapsed >= shop.first_reply_target_seconds * 1000) level = "warn";
  return { text: formatDuration(elapsed), level, elapsed };
}

/** {text, level} of the promised-time countdown, or null. */
function holdTimer(conv, t) {
  if (conv.holdUntil === null || conv.leaving) return null;
  const left = conv.holdUntil - t;
  if (left <= 0) return { text: gettext("Promised time is up"), level: "alert", left };
  return { text: formatDuration(left), level: left <= HOLD_WARN_MS ? "warn" : "ok", left };
}

function applyTimer(el, timer, kind) {
  if (!timer) {
    if (!el.hidden) el.hidden = true;
    return;
  }
  if (el.hidden) el.hidden = false;
  setText(el, timer.text);
  const cls = `timer timer-${kind} timer-${timer.level}${el.classList.contains("timer-sm") ? " timer-sm" : ""}`;
  if (el.className !== cls) el.className = cls;
}

function updateRowTimer(conv, t = serverNow()) {
  const r = conv.row;
  if (!r) return;
  const wait = waitTimer(conv, t);
  const hold = wait ? null : holdTimer(conv, t);
  let title = "";
  if (wait) {
    applyTimer(r.timer, wait, "wait");
    title = TITLE_WAIT;
  } else if (hold) {
    applyTimer(r.timer, hold, "hold");
    title = TITLE_HOLD;
  } else {
    // Nothing to answer: the time of the last message.
    if (r.timer.hidden) r.timer.hidden = false;
    if (r.timer.className !== "timer timer-sm timer-idle") r.timer.className = "timer timer-sm timer-idle";
    setText(r.timer, conv.lastAt ? formatClock(new Date(conv.lastAt).toISOString()) : "");
  }
  if (r.timer.title !== title) r.timer.title = title;
  toggleClass(r.li, "is-alert", Boolean(wait && wait.level === "alert") || Boolean(hold && hold.level === "alert"));
}

function tick() {
  const t = serverNow();
  let alerts = 0;
  let alertSeconds = DEFAULT_SHOP.reply_alert_seconds;
  for (const conv of state.convs.values()) {
    if (!conv.row) continue;
    updateRowTimer(conv, t);
    const wait = waitTimer(conv, t);
    if (wait && wait.level === "alert") {
      alerts += 1;
      alertSeconds = shopOf(conv).reply_alert_seconds;
    }
  }
  const pill = $("alert-summary");
  if (alerts) {
    setText(
      pill,
      interpolate(
        ngettext(
          "%(count)s customer waiting over %(seconds)s s",
          "%(count)s customers waiting over %(seconds)s s",
          alerts,
        ),
        { count: alerts, seconds: alertSeconds },
        true,
      ),
    );
  }
  if (pill.hidden !== (alerts === 0)) pill.hidden = alerts === 0;
  const selected = state.convs.get(state.selectedId);
  if (selected) updateChatTimers(selected, t);
  if (!$("view-queues").hidden) updateQueueTimers(t);
}

// --- Chat (center) ------------------------------------------------------------------

const messagesEl = $("messages");
const textarea = $("composer-text");
// Suggestions, "/" quick replies, knowledge tab, AI draft (assist.js).
const assist = initAssist({
  textarea,
  getConversation: () => {
    const conv = state.convs.get(state.selectedId);
    return conv ? { id: conv.id, shopId: conv.s.shop_id } : null;
  },
  defaultShopId: () => (state.shops.size ? state.shops.keys().next().value : null),
});
// The customer's orders, the right panel's "Orders" tab (orders.js).
const orders = initOrders({
  getConversation: () => {
    const conv = state.convs.get(state.selectedId);
    return conv ? { id: conv.id, shopId: conv.s.shop_id } : null;
  },
  insertText: (text) => assist.insert(text),
});
// Compliance findings as the agent types; a blocked text cannot be sent.
const guard = initGuard({
  textarea,
  send,
  getConversation: () => state.convs.get(state.selectedId) || null,
  onChange: () => updateCounter(),
});

function onOverrideFrame(override) {
  toast(
    interpolate(gettext("%(agent)s asks you to allow a blocked message. Decide on the compliance page."), override, true),
    "note",
  );
}

function selectConversation(id) {
  const conv = state.convs.get(id);
  if (!conv) return;
  const previous = state.convs.get(state.selectedId);
  state.selectedId = id;
  if (previous && previous !== conv) {
    previous.draft = textarea.value;
    if (!previous.mine && !previous.row && !state.watched.has(previous.id)) state.convs.delete(previous.id);
    else if (previous.row) updateRow(previous);
  }
  if (conv.row) updateRow(conv);
  renderChat(conv);
  textarea.value = conv.draft;
  updateCounter();
  updateComposerState();
  if (conv.haveSeq < conv.summarySeq) requestSync(conv);
  markRead(conv);
  loadCustomer(conv);
  assist.conversationChanged();
  orders.conversationChanged();
  guard.check();
  if (!textarea.disabled) textarea.focus();
}

function renderChat(conv) {
  $("chat-empty").hidden = true;
  $("chat").hidden = false;
  updateChatHeader(conv);
  messagesEl.replaceChildren();
  for (const seq of [...conv.messages.keys()].sort((a, b) => a - b)) {
    const el = messageEl(conv.messages.get(seq));
    messagesEl.append(el);
    regroup(el);
  }
  for (const entry of state.outbox.values()) {
    if (entry.conversationId === conv.id) {
      entry.el = pendingEl(entry);
      messagesEl.append(entry.el);
    }
  }
  scrollToBottom();
}

function updateChatHeader(conv) {
  const c = conv.s.customer || {};
  setText($("chat-name"), c.name || "");
  setTier($("chat-tier"), c.tier);
  const meta = [conv.s.group_name, CHANNELS[conv.s.channel]].filter(Boolean);
  if (!conv.mine) meta.push(conv.s.agent_name ? interpolate(gettext("with %s"), [conv.s.agent_name]) : CONVERSATION_STATUS[conv.s.status]);
  setText($("chat-meta"), meta.join(" · "));
  const notice = $("chat-notice");
  let text = "";
  if (conv.leaving === "closed" || conv.s.status === "closed") text = gettext("This conversation is closed.");
  else if (conv.leaving === "transferred") {
    text = conv.s.agent_name
      ? interpolate(gettext("This conversation was transferred to %s."), [conv.s.agent_name])
      : gettext("This conversation was transferred.");
  } else if (!conv.mine) text = gettext("You are viewing a conversation that is not assigned to you.");
  setText(notice, text);
  notice.hidden = !text;
  updateChatTimers(conv);
}

function updateChatTimers(conv, t = serverNow()) {
  const wait = waitTimer(conv, t);
  const hold = holdTimer(conv, t);
  const waitEl = $("chat-wait");
  const holdEl = $("chat-hold");
  applyTimer(waitEl, wait && { ...wait, text: interpolate(gettext("Waiting %s"), [wait.text]) }, "wait");
  applyTimer(
    holdEl,
    hold && { ...hold, text: hold.left > 0 ? interpolate(gettext("Promised: %s left"), [hold.text]) : hold.text },
    "hold",
  );
  const alert = $("chat-alert");
  const shop = shopOf(conv);
  if (wait && wait.level === "alert") {
    setText(
      alert,
      interpolate(gettext("The customer has waited over %(seconds)s seconds for an answer!"), { seconds: shop.reply_alert_seconds }, true),
    );
    alert.hidden = false;
  } else if (hold && hold.level === "alert") {
    setText(alert, gettext("Promised time is up: answer the customer now."));
    alert.hidden = false;
  } else if (!alert.hidden) {
    alert.hidden = true;
  }
}

const SENDER_CLASS = { customer: "msg-customer", agent: "msg-agent", bot: "msg-bot", system: "msg-system" };

function messageEl(msg) {
  const kind = SENDER_CLASS[msg.sender_type] || "msg-system";
  const meta = h(
    "div",
    { class: "msg-meta" },
    h("span", { class: "msg-sender", text: msg.sender_name || (msg.sender_type === "bot" ? gettext("Bot") : "") }),
    msg.sender_type === "bot" ? h("span", { class: "msg-tag", text: gettext("Bot") }) : null,
    h("time", { datetime: msg.created_at, text: formatClock(msg.created_at) }),
  );
  const bubble = h("div", { class: "msg-bubble", text: msg.text, title: formatClock(msg.created_at) });
  const children = [meta, bubble];
  if (msg.masked) children.push(revealButton(bubble, { conversation_id: msg.conversation_id, seq: msg.seq }));
  if (msg.hold_seconds) {
    children.push(
      h("div", {
        class: "msg-hold",
        text: interpolate(gettext("Holding message · promised within %s"), [formatDuration(msg.hold_seconds * 1000)]),
      }),
    );
  }
  return h(
    "li",
    {
      class: `msg ${kind}`,
      dataset: { seq: msg.seq, id: msg.id, sender: `${msg.sender_type}:${msg.sender_name}`, at: parseTime(msg.created_at) || 0 },
    },
    ...children,
  );
}

/** A buyer's phone, address or ID is masked; showing it needs a reason (audited). */
function revealButton(target, body) {
  const button = h("button", { type: "button", class: "msg-reveal", text: gettext("Show") });
  button.addEventListener("click", async () => {
    const reason = window.prompt(gettext("Why do you need the buyer's personal data? (recorded in the audit log)"));
    if (reason === null) return;
    try {
      const data = await api("/api/v1/compliance/reveal", { method: "POST", body: { ...body, reason } });
      setText(target, data.value);
      button.remove();
    } catch (error) {
      toast(error.message, "error");
    }
  });
  return button;
}

function identityEl(identity) {
  const value = h("span", { class: "mono", text: identity.value });
  return h(
    "li",
    {},
    h("span", { class: "muted", text: `${IDENTITY_KINDS[identity.kind] || identity.kind}: ` }),
    value,
    identity.masked ? revealButton(value, { identity_id: identity.id }) : null,
  );
}

/** Consecutive messages of one sender within 2 minutes share one name/time line. */
function regroup(el) {
  if (!el || !el.dataset.sender) return;
  const prev = el.previousElementSibling;
  const follows =
    prev &&
    prev.dataset.sender === el.dataset.sender &&
    !el.dataset.sender.startsWith("system:") &&
    Number(el.dataset.at) - Number(prev.dataset.at) < 120000;
  toggleClass(el, "msg-cont", Boolean(follows));
}

function pendingEl(entry) {
  const status =
    entry.state === "error"
      ? h(
          "div",
          { class: "msg-error", role: "alert" },
          h("span", { text: entry.error || gettext("Not sent.") }),
          h("button", { type: "button", class: "link-btn", text: gettext("Retry"), onclick: () => retry(entry) }),
          h("button", { type: "button", class: "link-btn", text: gettext("Discard"), onclick: () => discard(entry) }),
        )
      : h("div", { class: "msg-status", text: gettext("Sending…") });
  const children = [
    h("div", { class: "msg-meta" }, h("span", { class: "msg-sender", text: state.me?.name || "" })),
    h("div", { class: "msg-bubble", text: entry.text }),
  ];
  if (entry.holdSeconds) {
    children.push(
      h("div", {
        class: "msg-hold",
        text: interpolate(gettext("Holding message · promised within %s"), [formatDuration(entry.holdSeconds * 1000)]),
      }),
    );
  }
  children.push(status);
  return h(
    "li",
    { class: `msg msg-agent ${entry.state === "error" ? "is-error" : "is-pending"}`, dataset: { pending: entry.clientId } },
    ...children,
  );
}

/** Insert a message element of the open conversation at its place by seq. */
function placeMessage(conv, msg) {
  const stick = nearBottom();
  const el = messageEl(msg);
  let before = null;
  for (let node = messagesEl.lastElementChild; node; node = node.previousElementSibling) {
    if (node.dataset.pending || Number(node.dataset.seq) > msg.seq) before = node;
    else break;
  }
  messagesEl.insertBefore(el, before);
  regroup(el);
  regroup(el.nextElementSibling);
  if (stick || msg.sender_type === "agent") scrollToBottom();
  else $("new-below").hidden = false;
}

function nearBottom() {
  return messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 80;
}

function scrollToBottom() {
  messagesEl.scrollTop = messagesEl.scrollHeight;
  $("new-below").hidden = true;
}

messagesEl.addEventListener("scroll", () => {
  if (nearBottom()) $("new-below").hidden = true;
});
$("new-below").addEventListener("click", scrollToBottom);

function markRead(conv) {
  if (!conv.mine || conv.leaving || document.visibilityState !== "visible") return;
  const seq = Math.max(conv.summarySeq, conv.haveSeq);
  if (conv.unread === 0 && conv.lastReadSent >= seq) return;
  conv.unread = 0;
  conv.lastReadSent = seq;
  if (!send({ type: "read", conversation_id: conv.id, seq })) {
    api(`/api/v1/conversations/${conv.id}/read`, { method: "POST", body: { seq } }).catch(() => {});
  }
  updateRow(conv);
  updateTitle();
}

document.addEventListener("visibilitychange", () => {
  const conv = state.convs.get(state.selectedId);
  if (conv && document.visibilityState === "visible") markRead(conv);
});

// --- Sending ---------------------------------------------------------------------------

function queueSend(conv, text, holdSeconds = null) {
  const entry = {
    clientId: uuid(),
    conversationId: conv.id,
    text,
    holdSeconds,
    state: "pending",
    error: "",
    el: null,
  };
  state.outbox.set(entry.clientId, entry);
  if (conv.id === state.selectedId) {
    entry.el = pendingEl(entry);
    messagesEl.append(entry.el);
    scrollToBottom();
  }
  transmit(entry);
}

function transmit(entry) {
  const frame = { type: "send", conversation_id: entry.conversationId, client_id: entry.clientId, text: entry.text };
  if (entry.holdSeconds) frame.hold_seconds = entry.holdSeconds;
  send(frame); // if the socket is down, resendOutbox() sends it after reconnecting
}

/** After a reconnect: send every unacknowledged message again, same client_id. */
function resendOutbox() {
  for (const entry of state.outbox.values()) {
    if (entry.state === "pending") transmit(entry);
  }
}

function redrawPending(entry) {
  if (entry.el) {
    const fresh = pendingEl(entry);
    entry.el.replaceWith(fresh);
    entry.el = fresh;
  }
}

function retry(entry) {
  entry.state = "pending";
  entry.error = "";
  redrawPending(entry);
  transmit(entry);
}

function discard(entry) {
  state.outbox.delete(entry.clientId);
  entry.el?.remove();
}

function onAck(frame) {
  const entry = state.outbox.get(frame.client_id);
  const msg = frame.message;
  if (!msg) return;
  const conv = state.convs.get(msg.conversation_id);
  if (entry) {
    state.outbox.delete(frame.client_id);
    entry.el?.remove();
  }
  if (conv) {
    const gap = msg.seq > conv.haveSeq + 1;
    if (addMessage(conv, msg)) afterNewMessages(conv, [msg], true);
    if (gap) requestSync(conv);
  }
}

const ERROR_TEXT = {
  closed: gettext("This conversation is closed."),
  not_found: gettext("This conversation is no longer yours."),
  text_too_long: gettext("The message is too long."),
  empty_text: gettext("The message is empty."),
  rate_limited: gettext("Too many messages; wait a moment and retry."),
};

function onErrorFrame(frame) {
  const entry = frame.client_id ? state.outbox.get(frame.client_id) : null;
  if (entry && frame.code === "blocked") {
    // Refused by the compliance guard: back to the composer with the reasons.
    state.outbox.delete(frame.client_id);
    entry.el?.remove();
    if (entry.conversationId === state.selectedId) guard.showRefused(entry.text, frame.findings, frame.client_id);
    toast(frame.message, "error");
    return;
  }
  const message = frame.message || ERROR_TEXT[frame.code] || gettext("Something went wrong.");
  if (entry) {
    entry.state = "error";
    entry.error = message;
    redrawPending(entry);
    return;
  }
  toast(message, "error");
}

// --- Composer ----------------------------------------------------------------------------

function maxChars(conv) {
  return Math.min(AGENT_MAX_CHARS, conv ? shopOf(conv).max_message_chars : AGENT_MAX_CHARS);
}

function updateCounter() {
  const conv = state.convs.get(state.selectedId);
  const max = maxChars(conv);
  const length = textarea.value.length;
  const counter = $("composer-counter");
  setText(counter, length ? `${length}/${max}` : "");
  toggleClass(counter, "is-over", length > max);
  $("send-button").disabled = textarea.disabled || length > max || guard.blocked;
}

function updateComposerState() {
  const conv = state.convs.get(state.selectedId);
  const closed = !conv || conv.leaving || conv.s.status === "closed";
  const allowed = conv && (conv.mine || state.supervisor);
  const disabled = Boolean(closed || !allowed);
  textarea.disabled = disabled;
  $("hold-button").disabled = disabled;
  $("hold-seconds").disabled = disabled;
  $("transfer-button").disabled = disabled;
  $("close-button").disabled = disabled;
  updateCounter();
}

function submitComposer() {
  const conv = state.convs.get(state.selectedId);
  if (!conv || textarea.disabled) return;
  const text = textarea.value;
  if (!text.trim()) return;
  if (text.length > maxChars(conv)) {
    toast(interpolate(gettext("The message is too long: at most %s characters."), [maxChars(conv)]), "error");
    return;
  }
  if (guard.blocked) {
    toast(gettext("This message breaks a compliance rule; change it or ask a supervisor."), "error");
    return;
  }
  queueSend(conv, text);
  textarea.value = "";
  conv.draft = "";
  updateCounter();
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  submitComposer();
});

textarea.addEventListener("keydown", (event) => {
  // Enter sends; Shift+Enter is a new line; never while an IME is composing
  // (Chinese input confirms candidates with Enter).
  if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.isComposing && event.keyCode !== 229) {
    event.preventDefault();
    submitComposer();
  }
});
textarea.addEventListener("input", updateCounter);

$("hold-button").addEventListener("click", () => {
  const conv = state.convs.get(state.selectedId);
  if (!conv) return;
  const text = shopOf(conv).holding_text || gettext("Thank you for waiting. I am checking this for you, one moment please.");
  queueSend(conv, text, Number($("hold-seconds").value));
  textarea.focus();
});

// --- Close and transfer ------------------------------------------------------------------

$("close-button").addEventListener("click", async () => {
  const conv = state.convs.get(state.selectedId);
  if (!conv) return;
  $("close-button").disabled = true;
  try {
    const summary = await api(`/api/v1/conversations/${conv.id}/close`, { method: "POST", body: {} });
    onConversationFrame(summary);
    toast(gettext("Conversation closed."), "info");
  } catch (error) {
    toast(error.message, "error");
  } finally {
    updateComposerState();
  }
});

const dialog = $("transfer-dialog");

function transferTarget() {
  return dialog.querySelector('input[name="target"]:checked').value;
}

function updateTransferFields() {
  const target = transferTarget();
  $("transfer-agent-field").hidden = target !== "agent";
  $("transfer-group-field").hidden = target !== "group";
}

for (const radio of dialog.querySelectorAll('input[name="target"]')) {
  radio.addEventListener("change", updateTransferFields);
}

$("transfer-button").addEventListener("click", async () => {
  const conv = state.convs.get(state.selectedId);
  if (!conv) return;
  $("transfer-error").hidden = true;
  $("transfer-note").value = "";
  const agentSelect = $("transfer-agent");
  const groupSelect = $("transfer-group");
  agentSelect.replaceChildren(h("option", { value: "", text: gettext("Loading…") }));
  groupSelect.replaceChildren(h("option", { value: "", text: gettext("Loading…") }));
  updateTransferFields();
  dialog.showModal();
  try {
    const [agents, queues] = await Promise.all([api("/api/v1/agents"), api("/api/v1/queues")]);
    const order = { online: 0, busy: 1, away: 2, offline: 3 };
    const candidates = agents
      .filter((a) => a.user_id !== conv.s.agent_id && a.user_id !== myId)
      .sort((x, y) => (order[x.status] ?? 9) - (order[y.status] ?? 9) || x.name.localeCompare(y.name, "zh-Hans-CN"));
    const available = candidates.filter((a) => a.status !== "offline");
    agentSelect.replaceChildren(
      h("option", {
        value: "",
        disabled: true,
        selected: true,
        text: available.length ? gettext("Choose an agent…") : gettext("No other agent is available"),
      }),
      ...candidates.map((a) =>
        h("option", {
          value: a.user_id,
          disabled: a.status === "offline",
          text: `${a.name} · ${STATUS_LABELS[a.status] || a.status} · ${a.active_count}/${a.max_concurrent}`,
        }),
      ),
    );
    if (available.length) agentSelect.value = String(available[0].user_id);
    // Transfer targets: every group of the shop when /agents/me lists them
    // (shops[].groups), else the groups /queues shows us.
    const waiting = new Map(queues.filter((g) => g.shop_id === conv.s.shop_id).map((g) => [g.code, g.waiting]));
    const shopGroups = state.shops.get(conv.s.shop_id)?.groups;
    const groups = Array.isArray(shopGroups) && shopGroups.length ? shopGroups : queues.filter((g) => g.shop_id === conv.s.shop_id);
    groupSelect.replaceChildren(
      ...groups.map((g) => {
        const count = waiting.get(g.code) || 0;
        return h("option", {
          value: g.code,
          selected: g.code === conv.s.group,
          text: count ? `${g.name} · ${interpolate(ngettext("%s waiting", "%s waiting", count), [count])}` : g.name,
        });
      }),
    );
  } catch (error) {
    showTransferError(error.message);
  }
});

function showTransferError(message) {
  const el = $("transfer-error");
  setText(el, message);
  el.hidden = false;
}

$("transfer-cancel").addEventListener("click", () => dialog.close());

$("transfer-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const conv = state.convs.get(state.selectedId);
  if (!conv) return;
  const body = { note: $("transfer-note").value };
  if (transferTarget() === "agent") {
    const value = Number($("transfer-agent").value);
    if (!value) return showTransferError(gettext("Choose an agent."));
    body.agent_id = value;
  } else {
    const value = $("transfer-group").value;
    if (!value) return showTransferError(gettext("Choose a group."));
    body.group = value;
  }
  $("transfer-submit").disabled = true;
  try {
    const summary = await api(`/api/v1/conversations/${conv.id}/transfer`, { method: "POST", body });
    dialog.close();
    onConversationFrame(summary);
    toast(
      summary.agent_name
        ? interpolate(gettext("Transferred to %s."), [summary.agent_name])
        : gettext("Transferred to the group's queue."),
      "info",
    );
  } catch (error) {
    showTransferError(error.message);
  } finally {
    $("transfer-submit").disabled = false;
  }
});

// --- Customer panel (right) ------------------------------------------------------------------

async function loadCustomer(conv) {
  const customerId = conv.s.customer?.id;
  if (!customerId) return;
  const cached = state.customers.get(customerId);
  renderCustomer(conv, cached || { ...conv.s.customer, tags: [], notes: "", identities: [], conversations: [] });
  $("customer").dataset.loaded = "0";
  try {
    const profile = await api(`/api/v1/customers/${customerId}`);
    state.customers.set(customerId, profile);
    if (state.selectedId === conv.id) {
      renderCustomer(conv, profile);
      $("customer").dataset.loaded = "1";
    }
  } catch (error) {
    if (state.selectedId === conv.id) toast(error.message, "error");
  }
}

function renderCustomer(conv, p) {
  $("customer-empty").hidden = true;
  $("customer").hidden = false;
  setText($("customer-avatar"), (p.name || "?").slice(0, 1));
  setText($("customer-name"), p.name || "");
  setTier($("customer-tier"), p.tier);
  const fact = (label, value) => (value ? [h("dt", { text: label }), h("dd", { text: value })] : []);
  $("conversation-facts").replaceChildren(
    ...fact(gettext("Tier"), TIER_LABELS[p.tier] || p.tier),
    ...fact(gettext("Group"), conv.s.group_name),
    ...fact(gettext("Channel"), CHANNELS[conv.s.channel] || conv.s.channel),
    ...fact(gettext("Status"), CONVERSATION_STATUS[conv.s.status] || conv.s.status),
    ...fact(gettext("Started"), formatClock(conv.s.created_at)),
    ...fact(gettext("Customer since"), formatClock(p.created_at)),
  );
  const tags = Array.isArray(p.tags) ? p.tags : [];
  $("customer-tags").replaceChildren(
    ...(tags.length ? tags.map((t) => h("li", { class: "chip", text: String(t) })) : [h("li", { class: "muted", text: gettext("None") })]),
  );
  const notes = $("customer-notes");
  setText(notes, p.notes || gettext("None"));
  toggleClass(notes, "muted", !p.notes);
  const identities = p.identities || [];
  $("customer-identities").replaceChildren(
    ...(identities.length
      ? identities.map((i) =>
          identityEl(i),
        )
      : [h("li", { class: "muted", text: gettext("None") })]),
  );
  const history = (p.conversations || []).filter((c) => c.id !== conv.id);
  $("customer-history").replaceChildren(
    ...(history.length
      ? history.map((c) =>
          h(
            "li",
            { class: "history-item" },
            h(
              "div",
              { class: "history-meta" },
              h("span", { text: formatClock(c.created_at) }),
              h("span", { class: `pill pill-${c.status}`, text: CONVERSATION_STATUS[c.status] || c.status }),
              c.agent_name ? h("span", { class: "muted", text: c.agent_name }) : null,
            ),
            h("div", { class: "history-preview", text: c.last_message_preview || "" }),
          ),
        )
      : [h("li", { class: "muted", text: gettext("No earlier conversations.") })]),
  );
}

// --- Supervisor: queues and agent board ---------------------------------------------------

let queueRefreshTimer = null;

function onQueueFrame(frame) {
  state.queues.set(frame.shop_id, frame.groups || []);
  renderQueueGroups();
  clearTimeout(queueRefreshTimer);
  queueRefreshTimer = setTimeout(() => {
    loadWaiting();
    loadAgents();
  }, 400);
}

async function refreshQueues() {
  try {
    const rows = await api("/api/v1/queues");
    state.queues.clear();
    for (const row of rows) {
      if (!state.queues.has(row.shop_id)) state.queues.set(row.shop_id, []);
      state.queues.get(row.shop_id).push(row);
    }
    renderQueueGroups();
  } catch {
    // keep the last known numbers
  }
  loadWaiting();
  loadAgents();
}

function groupName(shopId, code) {
  const group = (state.queues.get(shopId) || []).find((g) => g.code === code);
  return group ? group.name : code;
}

function renderQueueGroups() {
  let total = 0;
  const items = [];
  const multiShop = state.queues.size > 1;
  for (const [shopId, groups] of state.queues) {
    for (const g of groups) {
      total += g.waiting;
      items.push(
        h(
          "li",
          { class: `queue-group${g.waiting ? " has-waiting" : ""}` },
          h("span", { class: "queue-name", text: multiShop ? `${state.shops.get(shopId)?.name || shopId} · ${g.name}` : g.name }),
          h("span", { class: "queue-count", text: g.waiting }),
          h("span", {
            class: "timer timer-sm timer-idle",
            dataset: g.oldest_waiting_since ? { since: g.oldest_waiting_since, shop: shopId } : {},
          }),
        ),
      );
    }
  }
  $("queue-groups").replaceChildren(...items);
  setText($("queue-count"), total);
  toggleClass($("queue-count"), "is-hot", total > 0);
  updateQueueTimers(serverNow());
}

async function loadWaiting() {
  if (!state.supervisor) return;
  try {
    state.waiting = await api("/api/v1/queues/waiting");
  } catch {
    return;
  }
  $("waiting-list").replaceChildren(
    ...state.waiting.map((w) =>
      h(
        "li",
        {},
        h(
          "button",
          { type: "button", class: "waiting-btn", onclick: () => openForeign(w.conversation_id) },
          h(
            "span",
            { class: "conv-line" },
            h("span", { class: "conv-name", text: w.customer_name }),
            w.vip ? h("span", { class: "tier tier-vip", text: TIER_LABELS.vip }) : null,
            h("span", { class: "muted", text: groupName(w.shop_id, w.group) }),
            h("span", { class: "spacer" }),
            h("span", { class: "timer timer-sm timer-idle", dataset: { since: w.enqueued_at, shop: w.shop_id } }),
          ),
          h("span", { class: "conv-preview", text: w.preview }),
        ),
      ),
    ),
  );
  $("waiting-empty").hidden = state.waiting.length > 0;
  updateQueueTimers(serverNow());
}

async function loadAgents() {
  if (!state.supervisor) return;
  try {
    const order = { online: 0, busy: 1, away: 2, offline: 3 };
    state.agents = (await api("/api/v1/agents")).sort(
      (x, y) => (order[x.status] ?? 9) - (order[y.status] ?? 9) || x.name.localeCompare(y.name, "zh-Hans-CN"),
    );
  } catch {
    return;
  }
  renderAgents();
}

// A live `agent` frame: one agent's status or load changed.
function onAgentFrame(agent) {
  if (!state.supervisor || !agent) return;
  const row = state.agents.find((a) => a.user_id === agent.user_id);
  if (!row) return; // a new agent: the next full load shows them
  Object.assign(row, agent);
  renderAgents();
}

function renderAgents() {
  $("agent-board").replaceChildren(
    ...state.agents.map((a) => {
      const ratio = a.max_concurrent ? Math.min(1, a.active_count / a.max_concurrent) : 0;
      return h(
        "tr",
        { class: `agent-${a.status}` },
        h("td", { text: a.name }),
        h("td", {}, h("span", { class: "status-dot", "data-status": a.status, "aria-hidden": "true" }), ` ${STATUS_LABELS[a.status] || a.status}`),
        h(
          "td",
          {},
          h(
            "div",
            { class: "load-cell" },
            h("span", { class: "load-text", text: `${a.active_count}/${a.max_concurrent}` }),
            h(
              "span",
              { class: "load-bar", "aria-hidden": "true" },
              h("span", { class: `load-fill${ratio >= 1 ? " is-full" : ""}`, style: `width:${Math.round(ratio * 100)}%` }),
            ),
          ),
        ),
      );
    }),
  );
}

function updateQueueTimers(t) {
  for (const el of $("view-queues").querySelectorAll("[data-since]")) {
    const since = parseTime(el.dataset.since);
    if (since === null) continue;
    const elapsed = t - since;
    const shop = { ...DEFAULT_SHOP, ...(state.shops.get(Number(el.dataset.shop)) || {}) };
    setText(el, formatDuration(elapsed));
    const level = elapsed >= shop.reply_alert_seconds * 1000 ? "alert" : elapsed >= shop.first_reply_target_seconds * 1000 ? "warn" : "ok";
    const cls = `timer timer-sm timer-wait timer-${level}`;
    if (el.className !== cls) el.className = cls;
  }
}

/** Supervisors: open a conversation that is not theirs (watch it). */
async function openForeign(id) {
  let conv = state.convs.get(id);
  if (!conv) {
    try {
      const summary = await api(`/api/v1/conversations/${id}`);
      conv = state.convs.get(id) || makeConv(summary, summary.agent_id === myId && summary.status !== "closed");
      state.convs.set(id, conv);
    } catch (error) {
      toast(error.message, "error");
      return;
    }
  }
  if (!conv.mine && !state.watched.has(id)) {
    state.watched.add(id);
    send({ type: "watch", conversation_id: id });
  }
  selectConversation(id);
  requestSync(conv);
}

function setView(view) {
  const mine = view === "mine";
  $("view-mine").hidden = !mine;
  $("view-queues").hidden = mine;
  $("tab-mine").setAttribute("aria-selected", String(mine));
  $("tab-queues").setAttribute("aria-selected", String(!mine));
  if (!mine) refreshQueues();
}

$("tab-mine").addEventListener("click", () => setView("mine"));
$("tab-queues").addEventListener("click", () => setView("queues"));

setInterval(() => {
  if (state.supervisor && !$("view-queues").hidden && socket.isOpen) {
    loadWaiting();
    loadAgents();
  }
}, 15000);

// --- Status, counts, title, toasts ------------------------------------------------------

const statusSelect = $("status-select");

function setStatus(status) {
  if (!STATUS_LABELS[status]) return;
  clearTimeout(statusRevert);
  state.statusChanges += 1;
  state.status = status;
  statusSelect.value = status;
  root.dataset.status = status;
  $("offline-hint").hidden = status === "online";
}

let statusRevert = null;

statusSelect.addEventListener("change", async () => {
  const status = statusSelect.value;
  clearTimeout(statusRevert);
  state.statusChanges += 1;
  if (send({ type: "status", status })) {
    // The server echoes a `status` frame; without one, show the real status again.
    statusRevert = setTimeout(() => setStatus(state.status), 5000);
    return;
  }
  try {
    const row = await api("/api/v1/agents/me/status", { method: "POST", body: { status } });
    setStatus(row.status);
  } catch (error) {
    setStatus(state.status);
    toast(error.message, "error");
  }
});

function updateCounts() {
  const mine = [...state.convs.values()].filter((c) => c.row);
  const active = mine.filter((c) => !c.leaving).length;
  setText($("mine-count"), active);
  $("conv-empty").hidden = mine.length > 0;
  if (state.me) setText($("me-load"), `${active}/${state.me.max_concurrent}`);
  updateTitle();
}

const baseTitle = document.title;

function updateTitle() {
  let unread = 0;
  for (const conv of state.convs.values()) if (conv.row && !conv.leaving) unread += conv.unread;
  const title = unread ? `(${unread}) ${baseTitle}` : baseTitle;
  if (document.title !== title) document.title = title;
}

function toast(message, kind = "info") {
  const el = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status", text: message });
  $("toasts").append(el);
  setTimeout(() => el.remove(), { error: 8000, note: 15000 }[kind] || 4000);
}

// --- Keyboard ------------------------------------------------------------------------

function listOrder() {
  return [...listEl.children].map((li) => Number(li.dataset.id)).filter((id) => state.convs.has(id));
}

function moveSelection(step) {
  const ids = listOrder();
  if (!ids.length) return;
  const index = ids.indexOf(state.selectedId);
  const next = index === -1 ? (step > 0 ? 0 : ids.length - 1) : (index + step + ids.length) % ids.length;
  selectConversation(ids[next]);
  state.convs.get(ids[next])?.row?.li.scrollIntoView({ block: "nearest" });
}

/** Ctrl/⌘+K: the customer who has waited longest, else the next conversation. */
function jumpToMostUrgent() {
  let best = null;
  for (const conv of state.convs.values()) {
    if (!conv.row || conv.leaving || conv.waitingSince === null || conv.id === state.selectedId) continue;
    if (!best || conv.waitingSince < best.waitingSince) best = conv;
  }
  if (best) {
    selectConversation(best.id);
    best.row.li.scrollIntoView({ block: "nearest" });
  } else moveSelection(1);
}

document.addEventListener("keydown", (event) => {
  if (dialog.open) return; // Esc is handled by the dialog itself
  if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "k") {
    event.preventDefault();
    jumpToMostUrgent();
  } else if (event.altKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    moveSelection(event.key === "ArrowDown" ? 1 : -1);
  }
});

// --- Start -------------------------------------------------------------------------------

async function init() {
  let me;
  try {
    me = await api("/api/v1/agents/me");
  } catch (error) {
    if (error.status === 401 || error.status === 403) showSessionEnded(error.status === 403 ? 4403 : 4401);
    else toast(error.message, "error");
    return;
  }
  if (api.lastDate) {
    const offset = Date.parse(api.lastDate) + 500 - Date.now();
    if (Math.abs(offset) > 3000) state.clockOffset = offset;
  }
  state.me = me;
  for (const shop of me.shops || []) state.shops.set(shop.id, shop);
  state.supervisor = (me.supervised_shop_ids || []).length > 0;
  setText($("me-name"), me.name);
  setStatus(me.status);
  $("tab-queues").hidden = !state.supervisor;
  try {
    await loadMyConversations();
  } catch (error) {
    toast(error.message, "error");
  }
  state.ready = true;
  root.dataset.ready = "1";
  socket.start();
  setInterval(tick, 1000);
  tick();
  if (state.supervisor) refreshQueues();
}

updateComposerState();
init();
