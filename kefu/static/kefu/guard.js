// The compliance guard in the composer: as the agent types, the text is
// screened over the socket ({type:"check"} → {type:"findings"}); findings are
// listed under the composer with the offending words and, where the rule has
// one, a one-click replacement. A `block` finding disables sending; the agent
// may ask a supervisor to allow that exact message (with a reason).
//
// The server screens every send again (it is the only enforcement); this is
// the early warning. Text is rendered with textContent only (h()).
//
//   const guard = initGuard({textarea, send, getConversation, onChange});
//   guard.check();               // text or conversation changed
//   guard.blocked                // true while the current text is blocked
//   guard.onFindings(frame);     // a {type:"findings"} frame
//   guard.showRefused(text, findings, clientId)  // a send the server refused

import { api, gettext, h, interpolate, uuid } from "./common.js";

const DEBOUNCE_MS = 250;
const $ = (id) => document.getElementById(id);

const SEVERITY = {
  block: gettext("Blocked"),
  warn: gettext("Warning"),
  log: gettext("Noted"),
};

export function initGuard({ textarea, send, getConversation, onChange }) {
  const panel = $("guard-findings");
  let timer = null;
  let ref = 0;
  let current = { text: "", findings: [] };

  function check() {
    clearTimeout(timer);
    const conv = getConversation();
    const text = textarea.value;
    if (!conv || !text.trim()) {
      render({ text, findings: [] });
      return;
    }
    timer = setTimeout(() => {
      ref += 1;
      send({ type: "check", conversation_id: conv.id, text, ref });
    }, DEBOUNCE_MS);
  }

  function onFindings(frame) {
    if (frame.ref !== ref || frame.text !== textarea.value) return; // stale
    render({ text: frame.text, findings: frame.findings || [] });
  }

  function blockedNow() {
    return current.text === textarea.value && current.findings.some((f) => f.severity === "block");
  }

  function replace(finding) {
    if (textarea.value !== current.text) return;
    const [start, end] = finding.span;
    const text = current.text;
    textarea.value = text.slice(0, start) + finding.suggestion + text.slice(end);
    const caret = start + finding.suggestion.length;
    textarea.setSelectionRange(caret, caret);
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  async function requestOverride(text, clientId) {
    const conv = getConversation();
    if (!conv) return;
    const reason = window.prompt(gettext("Why should this message be sent? A supervisor will decide."));
    if (reason === null) return;
    try {
      await api("/api/v1/compliance/overrides", {
        method: "POST",
        body: { conversation_id: conv.id, client_id: clientId || uuid(), text, reason },
      });
      if (textarea.value === text) {
        textarea.value = "";
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
      }
      showNote(gettext("Sent to a supervisor. The message goes out if they allow it."));
    } catch (error) {
      showNote(error.message, true);
    }
  }

  function showNote(message, isError = false) {
    const note = h("p", { class: isError ? "guard-note is-error" : "guard-note", role: "status" }, message);
    panel.replaceChildren(note);
    panel.hidden = false;
  }

  function render(result, { refused = false, clientId = null } = {}) {
    current = result;
    const findings = result.findings;
    panel.hidden = findings.length === 0;
    panel.dataset.blocked = String(findings.some((f) => f.severity === "block"));
    const items = findings.map((finding) => {
      const words = result.text.slice(finding.span[0], finding.span[1]);
      const row = h(
        "li",
        { class: `guard-item is-${finding.severity}`, "data-rule": finding.rule },
        h("span", { class: `guard-badge is-${finding.severity}` }, SEVERITY[finding.severity] || finding.severity),
        h("q", { class: "guard-words" }, words),
        h("span", { class: "guard-message" }, finding.message || finding.rule),
      );
      if (finding.suggestion) {
        const button = h(
          "button",
          { type: "button", class: "btn btn-small guard-replace", title: gettext("Replace with the suggestion") },
          interpolate(gettext("Replace with “%s”"), [finding.suggestion]),
        );
        button.addEventListener("click", () => replace(finding));
        if (!refused) row.append(button);
      }
      return row;
    });
    const children = [h("ul", { class: "guard-list" }, ...items)];
    if (findings.some((f) => f.severity === "block")) {
      const ask = h("button", { type: "button", class: "btn btn-small", id: "guard-override" }, gettext("Ask a supervisor to allow it"));
      ask.addEventListener("click", () => requestOverride(result.text, clientId));
      children.push(
        h(
          "p",
          { class: "guard-blocked" },
          refused ? gettext("The message was not sent.") : gettext("This message cannot be sent as it is."),
          " ",
          ask,
        ),
      );
    }
    panel.replaceChildren(...children);
    onChange?.();
  }

  function showRefused(text, findings, clientId) {
    if (!textarea.value.trim()) {
      textarea.value = text;
    }
    render({ text, findings: findings || [] }, { refused: textarea.value !== text, clientId });
  }

  textarea.addEventListener("input", check);

  return {
    check,
    onFindings,
    showRefused,
    get blocked() {
      return blockedNow();
    },
  };
}
