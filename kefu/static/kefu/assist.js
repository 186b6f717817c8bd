// Agent assist in the workbench: suggestions for the customer's latest
// message (FAQ answers and quick replies, Alt+1…Alt+6), intent and sentiment
// badges in the chat header, the "/" quick-reply picker in the composer, the
// knowledge-base tab of the right panel and the model-drafted reply.
//
// Nothing here ever sends a message: every suggestion is inserted into the
// composer for the agent to read and edit. Text from the network (the
// customer's message, FAQs, quick replies) is rendered with textContent only
// (h() in common.js); nothing here parses HTML.
//
// The workbench calls:
//   const assist = initAssist({textarea, getConversation, defaultShopId});
//   assist.conversationChanged();        // after selecting a conversation
//   assist.customerMessage(convId);      // a customer message arrived
// getConversation() → {id, shopId} of the selected conversation, or null.

import { HttpError, api, gettext, h, interpolate, setText, toggleClass } from "./common.js";

const DEBOUNCE_MS = 300; // refresh of the suggestions
const PICKER_DEBOUNCE_MS = 120; // "/" picker, typing
const SEARCH_DEBOUNCE_MS = 250; // knowledge tab, typing
const SLOTS = 3; // FAQ answers Alt+1…3, quick replies Alt+4…6
const PICKER_LIMIT = 8;
const SEARCH_LIMIT = 10;
const NOTE_MS = 6000;
// The search returns its k best even when they hardly match; below this they
// are noise an agent should not have to read.
const MIN_CONFIDENCE = 0.05;
const COLLAPSED_KEY = "kefu.assist.collapsed";
// "/" starts the picker; a Chinese IME in Chinese-punctuation mode types "、"
// for the same key, and full-width input "／".
const TRIGGERS = new Set(["/", "／", "、"]);

const SENTIMENT = {
  negative: gettext("Negative"),
  neutral: gettext("Neutral"),
  positive: gettext("Positive"),
};

const $ = (id) => document.getElementById(id);
const percent = (x) => `${Math.round(Math.max(0, Math.min(1, Number(x) || 0)) * 100)}%`;

/** The list inside an API answer: a bare array or {items|results: […]}. */
function listOf(data) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.items)) return data.items;
  if (data && Array.isArray(data.results)) return data.results;
  return [];
}

function storedCollapsed() {
  try {
    return localStorage.getItem(COLLAPSED_KEY) === "1";
  } catch {
    return false;
  }
}

function storeCollapsed(on) {
  try {
    localStorage.setItem(COLLAPSED_KEY, on ? "1" : "0");
  } catch {
    // private mode: remember for this page only
  }
}

export function initAssist({ textarea, getConversation, defaultShopId = () => null }) {
  const current = () => getConversation() || null;

  // --- Inserting into the composer ----------------------------------------------------------

  // Usage counts feed the knowledge editors' report; an agent's pick is a use,
  // not a customer's "solved", so FAQs are counted without `accepted`.
  function count(url) {
    api(url, { method: "POST", body: {} }).catch(() => {});
  }
  const faqUse = (id) => () => count(`/api/v1/knowledge/faqs/${id}/feedback`);
  const replyUse = (id) => () => count(`/api/v1/knowledge/quick-replies/${id}/use`);

  function useSlot(slot) {
    if (slot && insert(slot.text)) slot.use();
  }

  /**
   * Put text into the composer for editing (never sends). Replaces [from, to)
   * when given, else the selection; the caret ends after the text. Goes
   * through execCommand where it works so that Ctrl+Z undoes the insertion.
   */
  function insert(text, from = null, to = null) {
    if (!text || textarea.disabled) return false;
    if (from === null) {
      if (document.activeElement !== textarea) {
        // Not focused: the caret is wherever it was last; append instead.
        from = textarea.value.length;
        to = from;
      } else {
        from = textarea.selectionStart;
        to = textarea.selectionEnd;
      }
    }
    textarea.focus();
    textarea.setSelectionRange(from, to);
    let done = false;
    try {
      done = document.execCommand("insertText", false, text);
    } catch {
      done = false;
    }
    if (!done || textarea.value.slice(from, from + text.length) !== text) {
      textarea.setRangeText(text, from, to, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    return true;
  }

  // --- Suggestions strip and header badges ---------------------------------------------------

  const strip = $("assist");
  const body = $("assist-body");
  const toggle = $("assist-toggle");
  const countEl = $("assist-count");
  const forEl = $("assist-for");
  const noteEl = $("assist-note");
  const faqRow = $("assist-faqs");
  const replyRow = $("assist-replies");
  const emptyEl = $("assist-empty");
  const draftButton = $("assist-draft");
  const badges = $("assist-badges");

  const cache = new Map(); // conversation id → last assist answer
  let shown = null; // {convId, data} on screen
  let serial = 0; // requests started; an answer for an older one is dropped
  let timer = null;
  let slots = []; // index → {text, use} for Alt+1…6 (null: empty slot)

  function setCollapsed(on) {
    toggleClass(strip, "is-collapsed", on);
    toggle.setAttribute("aria-expanded", String(!on));
    body.hidden = on;
  }

  setCollapsed(storedCollapsed());
  toggle.addEventListener("click", () => {
    const on = !strip.classList.contains("is-collapsed");
    setCollapsed(on);
    storeCollapsed(on);
  });

  let noteTimer = null;

  function note(text, kind = "info") {
    clearTimeout(noteTimer);
    setText(noteEl, text);
    noteEl.dataset.kind = kind;
    noteEl.hidden = !text;
    if (text) noteTimer = setTimeout(() => (noteEl.hidden = true), NOTE_MS);
  }

  function item(kind, index, title, preview, extra) {
    const key = `Alt+${index + 1}`;
    const slot = slots[index];
    return h(
      "button",
      {
        type: "button",
        class: `assist-item assist-${kind}`,
        "aria-keyshortcuts": key,
        title: `${title}\n\n${preview}`,
        dataset: { slot: index + 1 },
        onmousedown: (event) => event.preventDefault(), // keep the composer's caret
        onclick: () => useSlot(slot),
      },
      h("span", { class: "assist-item-top" }, h("kbd", { class: "assist-key", text: key }), h("span", { class: "assist-title", text: title }), extra),
      h("span", { class: "assist-preview", text: preview }),
    );
  }

  function render(convId, data) {
    shown = { convId, data };
    const faqs = (data?.faqs || []).filter((faq) => faq.confidence >= MIN_CONFIDENCE).slice(0, SLOTS);
    const replies = (data?.quick_replies || []).slice(0, SLOTS);
    slots = [
      ...Array.from({ length: SLOTS }, (_, i) => (faqs[i] ? { text: faqs[i].answer, use: faqUse(faqs[i].id) } : null)),
      ...Array.from({ length: SLOTS }, (_, i) => (replies[i] ? { text: replies[i].text, use: replyUse(replies[i].id) } : null)),
    ];
    faqRow.replaceChildren(
      ...faqs.map((faq, i) =>
        item("faq", i, faq.question, faq.answer, h("span", {
          class: "assist-conf",
          text: percent(faq.confidence),
          title: gettext("Match confidence"),
        })),
      ),
    );
    replyRow.replaceChildren(...replies.map((reply, i) => item("reply", SLOTS + i, reply.title, reply.text, null)));
    faqRow.closest(".assist-group").hidden = faqs.length === 0;
    replyRow.closest(".assist-group").hidden = replies.length === 0;
    const total = faqs.length + replies.length;
    setText(countEl, total || "");
    emptyEl.hidden = total > 0;
    setText(
      emptyEl,
      !data
        ? gettext("Loading suggestions…")
        : data.seq === null
          ? gettext("Suggestions appear here when the customer writes.")
          : gettext("No matching suggestions. Type / for quick replies, or search the knowledge base on the right."),
    );
    const quoted = data?.text ? data.text.replace(/\s+/g, " ").trim() : "";
    setText(forEl, quoted ? interpolate(gettext("For “%s”"), [quoted]) : "");
    forEl.title = data?.text || "";
    draftButton.hidden = !data?.can_draft;
    strip.dataset.state = data ? "ready" : "loading";
    renderBadges(data);
  }

  function badge(label, value, cls) {
    return h("span", { class: `assist-badge ${cls}` }, h("span", { class: "assist-badge-label", text: label }), value);
  }

  function renderBadges(data) {
    const parts = [];
    if (data?.intent) {
      parts.push(badge(gettext("Intent:"), data.intent.name || data.intent.code, "is-intent"));
    }
    const s = data?.sentiment;
    if (s && (s.angry || SENTIMENT[s.label])) {
      const value = s.angry ? gettext("Angry") : SENTIMENT[s.label];
      const cls = s.angry ? "is-angry" : s.label === "negative" ? "is-negative" : `is-${s.label}`;
      parts.push(badge(gettext("Sentiment:"), value, cls));
    }
    badges.replaceChildren(...parts);
    badges.hidden = parts.length === 0;
    badges.title = data?.intent ? interpolate(gettext("Intent confidence %s"), [percent(data.intent.confidence)]) : "";
  }

  async function load(convId) {
    const mine = ++serial;
    strip.setAttribute("aria-busy", "true");
    try {
      const data = await api(`/api/v1/bot/assist/${convId}`);
      cache.set(convId, data);
      if (mine !== serial || current()?.id !== convId) return; // stale
      render(convId, data);
    } catch (error) {
      if (mine !== serial || current()?.id !== convId) return;
      if (!cache.has(convId)) render(convId, { seq: null, text: "", intent: null, sentiment: null, faqs: [], quick_replies: [], can_draft: false });
      note(
        error instanceof HttpError && error.status === 0 ? error.message : gettext("Suggestions are not available right now."),
        "error",
      );
    } finally {
      if (mine === serial) strip.removeAttribute("aria-busy");
    }
  }

  function schedule(convId, delay = DEBOUNCE_MS) {
    clearTimeout(timer);
    timer = setTimeout(() => load(convId), delay);
  }

  function conversationChanged() {
    const conv = current();
    closePicker();
    note("");
    if (!conv) {
      strip.hidden = true;
      badges.hidden = true;
      return;
    }
    strip.hidden = false;
    if (shown?.convId !== conv.id) {
      serial += 1; // an answer still on its way is for another conversation
      const cached = cache.get(conv.id);
      render(conv.id, cached || null);
    }
    // Quickly switching with Alt+↓ asks once for the one the agent stops on.
    schedule(conv.id, cache.has(conv.id) ? DEBOUNCE_MS : 80);
    if (!kbPanel.hidden) kbSearchSoon(0);
  }

  function customerMessage(convId) {
    if (current()?.id === convId) schedule(convId);
    else cache.delete(convId); // out of date; asked again when opened
  }

  // --- Drafted reply ---------------------------------------------------------------------------

  draftButton.addEventListener("click", async () => {
    const conv = current();
    if (!conv || draftButton.disabled) return;
    draftButton.disabled = true;
    draftButton.setAttribute("aria-busy", "true");
    note("");
    try {
      const data = await api(`/api/v1/bot/draft/${conv.id}`, { method: "POST", body: {} });
      if (current()?.id !== conv.id) return;
      if (data && data.text) {
        insert(data.text);
        note(gettext("Draft inserted: check it before sending."));
      } else note(gettext("No draft this time: the knowledge base has nothing close enough."));
    } catch (error) {
      if (current()?.id === conv.id) note(error.status === 0 ? error.message : gettext("The draft could not be made right now."), "error");
    } finally {
      draftButton.disabled = false;
      draftButton.removeAttribute("aria-busy");
    }
  });

  // --- "/" quick-reply picker ---------------------------------------------------------------------

  const picker = $("qr-picker");
  const pickerList = $("qr-picker-list");
  const pickerStatus = $("qr-picker-status");
  let pick = { open: false, from: 0, to: 0, query: null, items: [], active: 0, serial: 0, timer: null };

  /** The "/…" token the caret is in: {from, to, query}, or null. */
  function slashToken() {
    if (textarea.selectionStart !== textarea.selectionEnd) return null;
    const value = textarea.value;
    const caret = textarea.selectionStart;
    const lineStart = value.lastIndexOf("\n", caret - 1) + 1;
    if (!TRIGGERS.has(value[lineStart])) return null;
    const typed = value.slice(lineStart + 1, caret);
    if (/\s/.test(typed)) return null;
    let end = caret;
    while (end < value.length && !/\s/.test(value[end])) end += 1;
    return { from: lineStart, to: end, query: typed };
  }

  function openPicker() {
    if (pick.open) return;
    pick.open = true;
    picker.hidden = false;
    textarea.setAttribute("aria-expanded", "true");
  }

  function closePicker() {
    clearTimeout(pick.timer);
    pick.serial += 1;
    pick.open = false;
    pick.query = null;
    pick.items = [];
    picker.hidden = true;
    delete picker.dataset.query;
    textarea.setAttribute("aria-expanded", "false");
    textarea.removeAttribute("aria-activedescendant");
  }

  function updatePicker() {
    const token = textarea.disabled ? null : slashToken();
    const conv = current();
    if (!token || !conv) {
      if (pick.open) closePicker();
      return;
    }
    pick.from = token.from;
    pick.to = token.to;
    if (!pick.open) {
      openPicker();
      pickerList.replaceChildren();
      setText(pickerStatus, gettext("Loading…"));
      pickerStatus.hidden = false;
    }
    if (token.query === pick.query && pick.convId === conv.id) return;
    pick.query = token.query;
    pick.convId = conv.id;
    clearTimeout(pick.timer);
    const mine = ++pick.serial;
    pick.timer = setTimeout(async () => {
      try {
        const rows = await fetchQuickReplies(conv.id, token.query);
        if (mine !== pick.serial || !pick.open) return;
        showPickerItems(rows.slice(0, PICKER_LIMIT));
      } catch (error) {
        if (mine !== pick.serial || !pick.open) return;
        showPickerItems([]);
        setText(pickerStatus, error.status === 0 ? error.message : gettext("Quick replies are not available right now."));
      }
    }, pick.items.length || pick.query ? PICKER_DEBOUNCE_MS : 0);
  }

  /**
   * Quick replies for what follows the slash: shortcut prefix matches first
   * (shortcuts are stored with their "/"), then title/text matches. The API
   * matches `q` whole against both, so it is asked with and without the slash.
   */
  async function fetchQuickReplies(convId, typed) {
    const ask = (q) => api(`/api/v1/knowledge/quick-replies?${new URLSearchParams({ q, conversation_id: convId })}`).then(listOf);
    if (!typed) return ask("");
    const [byShortcut, byText] = await Promise.all([ask(`/${typed}`), ask(typed)]);
    const seen = new Set();
    return [...byShortcut, ...byText].filter((row) => !seen.has(row.id) && seen.add(row.id));
  }

  function showPickerItems(rows) {
    // Keep the highlighted reply when it is still in the list (typing on).
    const activeId = pick.items[pick.active]?.id;
    const keep = rows.findIndex((row) => row.id === activeId);
    pick.items = rows;
    pick.active = 0;
    picker.dataset.query = pick.query ?? "";
    pickerList.replaceChildren(
      ...rows.map((row, i) =>
        h(
          "li",
          {
            id: `qr-option-${i}`,
            role: "option",
            class: "qr-option",
            "aria-selected": "false",
            onmousedown: (event) => event.preventDefault(),
            onclick: () => choose(i),
            onmousemove: () => setActive(i),
          },
          h("span", { class: "qr-shortcut", text: TRIGGERS.has((row.shortcut || "")[0]) ? row.shortcut : `/${row.shortcut || ""}` }),
          h("span", { class: "qr-title", text: row.title || "" }),
          h("span", { class: "qr-text", text: row.text || "" }),
        ),
      ),
    );
    setText(
      pickerStatus,
      rows.length ? "" : pick.query ? interpolate(gettext("No quick reply matches “%s”."), [pick.query]) : gettext("No quick replies yet."),
    );
    pickerStatus.hidden = rows.length > 0;
    setActive(keep > 0 ? keep : 0);
  }

  function setActive(index) {
    if (!pick.items.length) return;
    pick.active = (index + pick.items.length) % pick.items.length;
    pickerList.querySelectorAll(".qr-option").forEach((el, i) => {
      const on = i === pick.active;
      el.setAttribute("aria-selected", String(on));
      toggleClass(el, "is-active", on);
      if (on) {
        el.scrollIntoView({ block: "nearest" });
        textarea.setAttribute("aria-activedescendant", el.id);
      }
    });
  }

  function choose(index) {
    const row = pick.items[index];
    if (!row) return;
    const { from, to } = pick;
    closePicker();
    if (insert(row.text || "", from, to) && row.id) replyUse(row.id)();
  }

  picker.addEventListener("mousedown", (event) => event.preventDefault()); // the caret stays put
  textarea.setAttribute("aria-haspopup", "listbox");
  textarea.setAttribute("aria-controls", "qr-picker-list");
  textarea.setAttribute("aria-expanded", "false");
  textarea.addEventListener("input", (event) => {
    if (!event.isComposing) updatePicker();
  });
  textarea.addEventListener("compositionend", updatePicker);
  textarea.addEventListener("click", updatePicker);
  textarea.addEventListener("blur", () => closePicker());

  // Capture phase on the form: runs before the workbench's Enter-sends handler
  // on the textarea itself, and stops it while the picker is open.
  textarea.form.addEventListener(
    "keydown",
    (event) => {
      if (event.target !== textarea || !pick.open || event.isComposing || event.keyCode === 229) return;
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      const key = event.key;
      let handled = true;
      if (key === "ArrowDown") setActive(pick.active + 1);
      else if (key === "ArrowUp") setActive(pick.active - 1);
      else if ((key === "Enter" && !event.shiftKey) || key === "Tab") {
        if (pick.items.length) choose(pick.active);
        else if (key === "Tab") closePicker();
        // Enter with nothing to choose: swallowed, never sends "/xyz".
      } else if (key === "Escape") closePicker();
      else handled = false;
      if (handled) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true,
  );
  textarea.addEventListener("keyup", (event) => {
    if (event.key === "ArrowLeft" || event.key === "ArrowRight" || event.key === "Home" || event.key === "End") updatePicker();
  });

  // --- Knowledge tab (right panel) ------------------------------------------------------------------

  // Every tab of the right panel (Customer, Orders, Knowledge base); each
  // panel follows its tab's aria-controls.
  const tabs = [...document.querySelectorAll(".wb-right [role=tab]")];
  const kbPanel = $("panel-knowledge");
  const kbInput = $("kb-query");
  const kbStatus = $("kb-status");
  const kbResults = $("kb-results");
  let kb = { serial: 0, timer: null, key: null };

  function showTab(tab, focus = false) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (tab.id === "tab-knowledge") {
      kbSearchSoon(0);
      if (focus) {
        kbInput.focus();
        kbInput.select();
      }
    }
  }

  for (const tab of tabs) {
    tab.addEventListener("click", () => showTab(tab, true));
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      event.preventDefault();
      const next = tabs[(tabs.indexOf(tab) + 1) % tabs.length];
      next.focus();
      showTab(next);
    });
  }

  function kbShopId() {
    return current()?.shopId ?? defaultShopId();
  }

  function kbSearchSoon(delay = SEARCH_DEBOUNCE_MS) {
    clearTimeout(kb.timer);
    kb.timer = setTimeout(kbSearch, delay);
  }

  async function kbSearch() {
    const q = kbInput.value.trim();
    const shopId = kbShopId();
    const key = `${shopId}\n${q}`;
    if (key === kb.key) return;
    kb.key = key;
    const mine = ++kb.serial;
    if (!q || shopId === null || shopId === undefined) {
      kbResults.replaceChildren();
      setText(kbStatus, gettext("Search this shop’s FAQs, in Chinese or English."));
      return;
    }
    kbPanel.setAttribute("aria-busy", "true");
    try {
      const params = new URLSearchParams({ q, shop_id: shopId, k: SEARCH_LIMIT });
      const rows = listOf(await api(`/api/v1/knowledge/faqs/search?${params}`)).filter(
        (row) => typeof row.confidence !== "number" || row.confidence >= MIN_CONFIDENCE,
      );
      if (mine !== kb.serial) return;
      kbResults.replaceChildren(...rows.map(kbItem));
      setText(kbStatus, rows.length ? "" : interpolate(gettext("Nothing found for “%s”."), [q]));
    } catch (error) {
      if (mine !== kb.serial) return;
      kb.key = null; // try again on the next keystroke
      kbResults.replaceChildren();
      setText(kbStatus, error.status === 0 ? error.message : gettext("The knowledge base is not available right now."));
    } finally {
      if (mine === kb.serial) kbPanel.removeAttribute("aria-busy");
    }
  }

  function kbItem(row) {
    const faq = row.faq || row; // {faq: {…}, confidence} or a flat row
    const answer = faq.answer || "";
    const confidence = row.confidence ?? faq.confidence;
    return h(
      "li",
      { class: "kb-item", dataset: { id: faq.id } },
      h("div", { class: "kb-question", text: faq.question || "" }),
      h("div", { class: "kb-answer", text: answer }),
      h(
        "div",
        { class: "kb-foot" },
        faq.category ? h("span", { class: "kb-category", text: faq.category }) : null,
        typeof confidence === "number" ? h("span", { class: "assist-conf", text: percent(confidence), title: gettext("Match confidence") }) : null,
        h("span", { class: "spacer" }),
        h("button", {
          type: "button",
          class: "btn btn-sm kb-insert",
          text: gettext("Insert"),
          title: gettext("Insert the answer into the reply box"),
          onclick: () => {
            if (!insert(answer)) note(gettext("Open a conversation you can answer first."));
            else faqUse(faq.id)();
          },
        }),
      ),
    );
  }

  kbInput.addEventListener("input", () => kbSearchSoon());
  kbInput.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      if (kbInput.value) {
        kbInput.value = "";
        kbSearchSoon(0);
      } else textarea.focus();
    } else if (event.key === "Enter") {
      event.preventDefault();
      kbResults.querySelector(".kb-insert")?.focus(); // then Enter/Space inserts
    }
  });

  // --- Keyboard: Alt+1…6 inserts a suggestion, Alt+K opens the knowledge tab ------------------------

  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (document.querySelector("dialog[open]")) return;
    const digit = /^Digit([1-6])$/.exec(event.code);
    if (digit) {
      event.preventDefault();
      const slot = current() && shown?.convId === current().id ? slots[Number(digit[1]) - 1] : null;
      useSlot(slot);
      return;
    }
    if (event.code === "KeyK") {
      event.preventDefault();
      showTab($("tab-knowledge"), true);
    }
  });

  strip.hidden = true;
  showTab(tabs[0]);
  return { conversationChanged, customerMessage, insert };
}
