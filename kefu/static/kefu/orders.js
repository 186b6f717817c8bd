// The "Orders" tab of the workbench's right panel: the orders of the selected
// conversation's customer, one order's detail (items, payments, logistics
// timeline, receiver with masked phone and address, invoice, changes, cases,
// risk flags) and the actions the order's status allows, in one <dialog>.
//
// The API is kefu/commerce/api.py (/api/v1/commerce/); it applies the order
// identity rule to every read and change. A lookup by number refused by that
// rule answers 403 `order_identity` with the standard answer, which the agent
// can insert into the composer (never sent from here). Order data and customer
// text are untrusted: everything is rendered with textContent (h()).
//
// The workbench calls:
//   const orders = initOrders({getConversation, insertText});
//   orders.conversationChanged();   // after selecting a conversation
// getConversation() → {id, shopId} or null; insertText(text) → true when the
// text was put into the composer.

import { api, formatClock, gettext, h, interpolate, setText } from "./common.js";

const BASE = "/api/v1/commerce";
const LANG = (document.documentElement.lang || "").toLowerCase().startsWith("en") ? "en" : "zh-hans";
const NOT_SHIPPED = ["pending_payment", "paid"];
const PAID = ["paid", "shipped", "delivered", "completed"];
const CLOSED = ["cancelled", "closed"];
const NOTICE_MS = 12000;

const STATUS_CLASS = {
  pending_payment: "is-warn",
  paid: "is-info",
  shipped: "is-info",
  delivered: "is-ok",
  completed: "is-ok",
  cancelled: "is-muted",
  closed: "is-muted",
};
// The workbench's own labels (zh-hans from the JS catalogue); the server's
// labels are the fallback for a value added later.
const STATUS_LABELS = {
  pending_payment: gettext("Awaiting payment"),
  paid: gettext("Paid, not shipped"),
  shipped: gettext("Shipped"),
  delivered: gettext("Signed for"),
  completed: gettext("Completed"),
  cancelled: gettext("Cancelled"),
  closed: gettext("Closed"),
};
const CHANGE_LABELS = {
  address: gettext("Change address"),
  cancel: gettext("Cancel order"),
  spec: gettext("Change spec"),
  quantity: gettext("Change quantity"),
  invoice: gettext("Invoice details"),
  price: gettext("Change price"),
  note: gettext("Add note"),
  resend_tracking: gettext("Resend tracking"),
};
const CASE_STATES = {
  received: gettext("1 Received"),
  classified: gettext("2 Classified"),
  solution: gettext("3 Solution"),
  executing: gettext("4 Executing"),
  confirmed: gettext("5 Confirmed"),
  archived: gettext("6 Archived"),
  followed_up: gettext("7 Followed up"),
};
const APPROVAL = {
  pending: gettext("Awaiting approval"),
  approved: gettext("Approved"),
  rejected: gettext("Rejected"),
};
const REASONS = [
  ["no_reason", gettext("No reason (7-day return)")],
  ["quality", gettext("Quality problem")],
  ["wrong_item", gettext("Wrong item sent")],
  ["missing_item", gettext("Item missing")],
  ["not_as_described", gettext("Not as described")],
  ["late_shipment", gettext("Shipped late")],
  ["out_of_stock", gettext("Out of stock")],
];
const CONDITIONS = [
  ["intact", gettext("Intact")],
  ["opened", gettext("Opened")],
  ["used", gettext("Used")],
  ["defective", gettext("Defective")],
];
const CASE_TYPES = [
  ["", gettext("Best allowed option")],
  ["return", gettext("Return")],
  ["exchange", gettext("Exchange")],
  ["refund_only", gettext("Refund only")],
  ["repair", gettext("Repair")],
  ["reissue", gettext("Reissue")],
];
const CASE_TYPE_LABELS = {
  ...Object.fromEntries(CASE_TYPES.filter(([key]) => key)),
  out_of_stock: gettext("Out of stock"),
  late_shipment: gettext("Late shipment"),
};
const COMPENSATION_KINDS = [
  ["coupon", gettext("Coupon")],
  ["partial_refund", gettext("Partial refund")],
  ["gift", gettext("Gift")],
  ["free_shipping", gettext("Free shipping")],
  ["points", gettext("Points")],
];
const LEVELS = {
  junior: gettext("junior"),
  senior: gettext("senior"),
  advanced: gettext("advanced"),
  supervisor: gettext("supervisor"),
};
const PAYER = { buyer: gettext("the buyer"), shop: gettext("the shop") };

const $ = (id) => document.getElementById(id);
const money = (value) => `¥${value ?? "0.00"}`;
const label = (pairs, value) => (pairs.find(([key]) => key === value) || [value, value])[1];
const errorText = (error) => (error && error.message) || gettext("Something went wrong. Please try again.");

function today(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function statusBadge(order) {
  return h("span", { class: `order-status ${STATUS_CLASS[order.status] || ""}`, text: STATUS_LABELS[order.status] || order.status_label || order.status });
}

function approvalBadge(approval) {
  return APPROVAL[approval] ? h("span", { class: `order-approval is-${approval}`, text: APPROVAL[approval] }) : null;
}

export function initOrders({ getConversation, insertText }) {
  const panel = $("panel-orders");
  const lookupForm = $("orders-lookup");
  const lookupInput = $("orders-number");
  const statusEl = $("orders-status");
  const refusedEl = $("orders-refused");
  const listEl = $("orders-list");
  const detailEl = $("orders-detail");
  const dialog = $("order-dialog");
  const dialogForm = $("order-dialog-form");
  const dialogTitle = $("order-dialog-title");
  const dialogFields = $("order-dialog-fields");
  const dialogResult = $("order-dialog-result");
  const dialogError = $("order-dialog-error");
  const dialogSubmit = $("order-dialog-submit");

  let convId = null; // the conversation shown
  let stale = true; // the list must be fetched when the tab is visible
  let serial = 0; // answers for an older request are dropped
  let orders = [];
  let order = null; // the open order's detail
  let revealed = null; // {orderId, receiver_phone, receiver_address}
  let notice = null; // {orderId, text, kind}
  let noticeTimer = null;
  let action = null; // the dialog's action

  const current = () => getConversation() || null;
  const url = (path) => `${BASE}/conversations/${convId}${path}`;

  function status(text, kind = "info") {
    setText(statusEl, text || "");
    statusEl.dataset.kind = kind;
    statusEl.hidden = !text;
  }

  // --- List ---------------------------------------------------------------------------

  async function loadList() {
    const conv = current();
    if (!conv) return;
    const mine = ++serial;
    stale = false;
    panel.setAttribute("aria-busy", "true");
    if (!orders.length && !order) status(gettext("Loading orders…"));
    try {
      const rows = await api(url("/orders"));
      if (mine !== serial || current()?.id !== conv.id) return;
      orders = Array.isArray(rows) ? rows : [];
      renderList();
      status(orders.length ? "" : gettext("This customer has no orders in this shop."));
      if (order) await openOrder(order.id, { quiet: true });
    } catch (error) {
      if (mine !== serial || current()?.id !== conv.id) return;
      stale = true;
      status(errorText(error), "error");
    } finally {
      if (mine === serial) panel.removeAttribute("aria-busy");
    }
  }

  function renderList() {
    listEl.replaceChildren(
      ...orders.map((row) =>
        h(
          "li",
          { class: "order-row", dataset: { id: row.id, number: row.number } },
          h(
            "button",
            { type: "button", class: "order-row-btn", onclick: () => openOrder(row.id) },
            h("span", { class: "order-row-top" }, h("span", { class: "order-number", text: row.number }), statusBadge(row)),
            h(
              "span",
              { class: "order-row-meta" },
              h("span", { class: "order-total", text: money(row.total) }),
              h("span", { class: "muted", text: formatClock(row.ordered_at) }),
            ),
          ),
        ),
      ),
    );
    showDetail(Boolean(order));
  }

  function showDetail(on) {
    detailEl.hidden = !on;
    listEl.hidden = on;
    lookupForm.hidden = on;
    if (on) refusedEl.hidden = true;
  }

  // --- Lookup by number ------------------------------------------------------------------

  lookupForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const number = lookupInput.value.trim();
    const conv = current();
    refusedEl.hidden = true;
    if (!number || !conv) return;
    const mine = ++serial;
    status(gettext("Looking up…"));
    try {
      const data = await api(`${url("/lookup")}?${new URLSearchParams({ number })}`);
      if (mine !== serial || current()?.id !== conv.id) return;
      status("");
      order = data;
      renderDetail();
      openOrder(data.id, { quiet: true }); // with the bargaining ladder
    } catch (error) {
      if (mine !== serial || current()?.id !== conv.id) return;
      if (error.code === "order_identity" && error.data) {
        status("");
        renderRefused(number, error.data);
      } else status(errorText(error), "error");
    }
  });

  function renderRefused(number, data) {
    const answer = data.answer || {};
    const languages = LANG === "en" ? ["en", "zh-hans"] : ["zh-hans", "en"];
    refusedEl.replaceChildren(
      h("p", { class: "order-refused-title", text: interpolate(gettext("Order %s was placed by another account."), [number]) }),
      h("p", { class: "order-refused-detail", text: gettext("Its details cannot be shared here. Standard answer for the customer:") }),
      ...languages
        .filter((language) => answer[language])
        .map((language, index) =>
          h(
            "div",
            { class: "order-answer", dataset: { language } },
            h("p", { class: "order-answer-text", text: answer[language] }),
            h("button", {
              type: "button",
              class: `btn btn-sm ${index === 0 ? "btn-primary" : ""} order-insert`,
              text: language === "en" ? gettext("Insert into reply (English)") : gettext("Insert into reply"),
              onclick: () => {
                if (insertText(answer[language])) status(gettext("Inserted: check it before sending."));
                else status(gettext("Open a conversation you can answer first."), "error");
              },
            }),
          ),
        ),
    );
    refusedEl.hidden = false;
  }

  // --- Detail ------------------------------------------------------------------------------

  async function openOrder(id, { quiet = false } = {}) {
    const conv = current();
    if (!conv) return;
    const mine = ++serial;
    if (!quiet) status(gettext("Loading the order…"));
    try {
      const data = await api(url(`/orders/${id}`));
      if (mine !== serial || current()?.id !== conv.id) return;
      order = data;
      status("");
      renderDetail();
    } catch (error) {
      if (mine !== serial || current()?.id !== conv.id) return;
      status(errorText(error), "error");
    }
  }

  function closeDetail() {
    order = null;
    serial += 1;
    detailEl.replaceChildren();
    showDetail(false);
    status(orders.length ? "" : gettext("This customer has no orders in this shop."));
    listEl.querySelector(".order-row-btn")?.focus();
  }

  function section(title, ...children) {
    return h("section", { class: "order-section" }, h("h3", { class: "order-section-title", text: title }), ...children);
  }

  function facts(pairs) {
    return h(
      "dl",
      { class: "facts order-facts" },
      ...pairs.filter(([, value]) => value !== null && value !== undefined && value !== "").flatMap(([term, value]) => [
        h("dt", { text: term }),
        h("dd", {}, value),
      ]),
    );
  }

  function renderDetail() {
    const o = order;
    const shown = revealed && revealed.orderId === o.id ? revealed : null;
    const parts = [
      h(
        "div",
        { class: "order-head" },
        h("button", { type: "button", class: "btn btn-sm btn-ghost order-back", text: gettext("← All orders"), onclick: closeDetail }),
        h("span", { class: "order-number", text: o.number }),
        statusBadge(o),
      ),
    ];
    if (o.risks?.length) {
      parts.push(
        h(
          "div",
          { class: "order-risks", role: "note", "aria-label": gettext("Risk flags") },
          ...o.risks.map((risk) =>
            h("span", {
              class: "order-risk",
              text: risk.label,
              title: risk.source === "list" ? gettext("On the shop's risk list") : gettext("Found by the risk rules"),
            }),
          ),
        ),
      );
    }
    if (notice && notice.orderId === o.id) {
      parts.push(h("p", { class: `order-notice is-${notice.kind}`, role: "status", text: notice.text }));
    }
    parts.push(
      facts([
        [gettext("Total"), money(o.total)],
        [gettext("Paid"), money(o.paid_amount)],
        [gettext("Ordered"), formatClock(o.ordered_at)],
        [gettext("Paid at"), formatClock(o.paid_at)],
        [gettext("Shipped at"), formatClock(o.shipped_at)],
        [gettext("Signed at"), formatClock(o.delivered_at)],
      ]),
    );
    parts.push(renderActions(o));
    parts.push(
      section(
        gettext("Receiver"),
        facts([
          [gettext("Name"), o.receiver_name],
          [gettext("Phone"), h("span", { class: `order-phone ${shown ? "is-revealed" : ""}`, text: shown ? shown.receiver_phone : o.receiver_phone })],
          [gettext("Address"), h("span", { class: `order-address ${shown ? "is-revealed" : ""}`, text: shown ? shown.receiver_address : o.receiver_address })],
        ]),
        shown
          ? h("p", { class: "order-hint", text: gettext("Shown in full; this was written to the audit log.") })
          : h("button", {
              type: "button",
              class: "link-btn order-reveal",
              text: gettext("Show in full…"),
              onclick: () => openDialog(REVEAL),
            }),
      ),
    );
    parts.push(
      section(
        gettext("Items"),
        h(
          "ul",
          { class: "order-items" },
          ...(o.items || []).map((item) =>
            h(
              "li",
              { class: "order-item" },
              h("span", { class: "order-item-name", text: item.name }),
              h(
                "span",
                { class: "order-item-meta" },
                item.spec ? h("span", { text: item.spec }) : null,
                h("span", { text: `× ${item.quantity}` }),
                h("span", { text: money(item.paid_amount !== "0.00" ? item.paid_amount : item.unit_price) }),
              ),
            ),
          ),
        ),
      ),
    );
    if (o.payments?.length) {
      parts.push(
        section(
          gettext("Payments"),
          h(
            "ul",
            { class: "order-lines" },
            ...o.payments.map((payment) =>
              h("li", {}, h("span", { text: payment.method }), h("span", { text: money(payment.amount) }), h("span", { class: "muted", text: formatClock(payment.paid_at) })),
            ),
          ),
        ),
      );
    }
    parts.push(section(gettext("Logistics"), ...renderShipments(o)));
    if (o.invoice_type || o.invoice_title || o.note) {
      parts.push(
        section(
          gettext("Invoice and note"),
          facts([
            [gettext("Invoice"), [o.invoice_type, o.invoice_title].filter(Boolean).join(" · ")],
            [gettext("Note"), o.note ? h("span", { class: "order-note", text: o.note }) : ""],
          ]),
        ),
      );
    }
    if (o.changes?.length) {
      parts.push(
        section(
          gettext("Changes"),
          h(
            "ul",
            { class: "order-lines order-changes" },
            ...o.changes.map((change) =>
              h(
                "li",
                { dataset: { kind: change.kind, approval: change.approval } },
                h("span", { text: CHANGE_LABELS[change.kind] || change.kind_label }),
                approvalBadge(change.approval),
                h("span", { class: "muted", text: formatClock(change.created_at) }),
              ),
            ),
          ),
        ),
      );
    }
    if (o.cases?.length) parts.push(section(gettext("After-sales cases"), ...o.cases.map(renderCase)));
    detailEl.replaceChildren(...parts);
    detailEl.dataset.status = o.status;
    showDetail(true);
  }

  function renderShipments(o) {
    if (!o.shipments?.length) return [h("p", { class: "order-hint", text: gettext("Not shipped yet.") })];
    return o.shipments.map((shipment) => {
      const events = [...(shipment.events || [])].reverse(); // newest first
      return h(
        "div",
        { class: "order-shipment" },
        h("p", { class: "order-shipment-head" }, h("span", { text: shipment.courier }), h("span", { class: "order-tracking", text: shipment.tracking_number })),
        events.length
          ? h(
              "ol",
              { class: "order-timeline", "aria-label": gettext("Tracking") },
              ...events.map((event, index) =>
                h(
                  "li",
                  { class: `order-event ${index === 0 ? "is-latest" : ""}`, dataset: { status: event.status } },
                  h("span", { class: "order-event-text", text: event.description || event.status }),
                  h("span", { class: "order-event-meta", text: [formatClock(event.at), event.location].filter(Boolean).join(" · ") }),
                ),
              ),
            )
          : h("p", { class: "order-hint", text: gettext("No tracking events yet.") }),
      );
    });
  }

  function renderCase(item) {
    const explanation = item.explanation?.[LANG] || item.explanation?.["zh-hans"] || "";
    const last = item.state === "followed_up";
    return h(
      "div",
      { class: "order-case", dataset: { id: item.id, state: item.state } },
      h(
        "div",
        { class: "order-case-head" },
        h("span", { class: "order-case-type", text: CASE_TYPE_LABELS[item.case_type] || item.case_type_label }),
        h("span", { class: "order-status is-info", text: CASE_STATES[item.state] || item.state_label }),
        approvalBadge(item.approval),
        item.platform_intervention ? h("span", { class: "order-risk", text: gettext("Platform intervened") }) : null,
      ),
      h("p", { class: "order-case-money", text: interpolate(gettext("Refund %(refund)s · compensation %(compensation)s"), { refund: money(item.refund_amount), compensation: money(item.compensation_amount) }, true) }),
      explanation ? h("p", { class: "order-explanation", text: explanation }) : null,
      h(
        "div",
        { class: "order-case-actions" },
        explanation
          ? h("button", {
              type: "button",
              class: "btn btn-sm order-insert",
              text: gettext("Insert into reply"),
              title: gettext("Insert the explanation into the reply box"),
              onclick: () => {
                if (!insertText(explanation)) status(gettext("Open a conversation you can answer first."), "error");
              },
            })
          : null,
        last ? null : h("button", { type: "button", class: "btn btn-sm", text: gettext("Next step"), onclick: () => openDialog(ADVANCE, item) }),
        item.platform_intervention
          ? null
          : h("button", { type: "button", class: "btn btn-sm btn-danger-ghost", text: gettext("Platform intervention"), onclick: () => openDialog(INTERVENTION, item) }),
      ),
    );
  }

  function renderActions(o) {
    const buttons = ACTIONS.filter((a) => a.when(o)).map((a) =>
      h("button", { type: "button", class: "btn btn-sm order-action", dataset: { action: a.key }, text: a.label, onclick: () => openDialog(a) }),
    );
    return h("div", { class: "order-actions", role: "group", "aria-label": gettext("Order actions") }, ...buttons);
  }

  function setNotice(text, kind = "ok") {
    clearTimeout(noticeTimer);
    notice = { orderId: order?.id, text, kind };
    noticeTimer = setTimeout(() => {
      notice = null;
      detailEl.querySelector(".order-notice")?.remove();
    }, NOTICE_MS);
  }

  // --- The action dialog ----------------------------------------------------------------------

  function field({ name, label: text, type = "text", value = "", options, required = false, ...rest }) {
    let input;
    if (type === "select") {
      input = h("select", { name, required }, ...options.map(([key, optionLabel]) => h("option", { value: key, selected: key === value, text: optionLabel })));
    } else if (type === "textarea") {
      input = h("textarea", { name, rows: 3, required, ...rest });
      input.value = value;
    } else {
      input = h("input", { name, type, required, ...rest });
      input.value = value;
    }
    return h("label", { class: "field" }, h("span", { text }), input);
  }

  function values() {
    const out = {};
    for (const el of dialogFields.querySelectorAll("input, select, textarea")) {
      if (el.type === "checkbox") continue;
      if (el.name) out[el.name] = el.value.trim();
    }
    return out;
  }

  function itemSelect(o, name = "item_id") {
    return field({ name, label: gettext("Item"), type: "select", options: (o.items || []).map((item) => [String(item.id), [item.name, item.spec].filter(Boolean).join(" · ")]) });
  }

  function change(kind, values, reason = "") {
    return api(url(`/orders/${order.id}/changes`), { method: "POST", body: { kind, values, reason } });
  }

  const doneChange = (result, text) =>
    result.approval === "pending" ? [gettext("Sent for supervisor approval: awaiting approval."), "warn"] : [text, "ok"];

  const ACTIONS = [
    {
      key: "address",
      label: gettext("Change address"),
      when: (o) => NOT_SHIPPED.includes(o.status),
      fields: (o) => [
        field({ name: "receiver_name", label: gettext("Receiver"), value: o.receiver_name, required: true, maxlength: 120 }),
        field({ name: "receiver_phone", label: gettext("Phone"), type: "tel", required: true, maxlength: 40, placeholder: o.receiver_phone }),
        field({ name: "receiver_address", label: gettext("Address"), type: "textarea", required: true, maxlength: 400, placeholder: o.receiver_address }),
      ],
      submit: async (v) => doneChange(await change("address", v), gettext("Address changed.")),
    },
    {
      key: "cancel",
      label: gettext("Cancel order"),
      when: (o) => NOT_SHIPPED.includes(o.status),
      fields: () => [field({ name: "reason", label: gettext("Reason (at least 4 characters)"), type: "textarea", required: true, minlength: 4, maxlength: 400 })],
      submit: async (v) => doneChange(await change("cancel", {}, v.reason), gettext("Order cancelled.")),
    },
    {
      key: "spec",
      label: gettext("Change spec"),
      when: (o) => NOT_SHIPPED.includes(o.status),
      fields: (o) => [itemSelect(o), field({ name: "spec", label: gettext("New specification"), required: true, maxlength: 200 })],
      submit: async (v) => doneChange(await change("spec", { item_id: Number(v.item_id), spec: v.spec }), gettext("Specification changed.")),
    },
    {
      key: "quantity",
      label: gettext("Change quantity"),
      when: (o) => o.status === "pending_payment",
      fields: (o) => [itemSelect(o), field({ name: "quantity", label: gettext("Quantity"), type: "number", min: 1, max: 999, required: true, value: String(o.items?.[0]?.quantity ?? 1) })],
      submit: async (v) => doneChange(await change("quantity", { item_id: Number(v.item_id), quantity: Number(v.quantity) }), gettext("Quantity changed.")),
    },
    {
      key: "price",
      label: gettext("Change price"),
      when: (o) => o.status === "pending_payment",
      intro: gettext("Agents' price changes wait for a supervisor's approval."),
      fields: (o) => [
        field({ name: "total", label: interpolate(gettext("New total (now %s)"), [money(o.total)]), type: "text", inputmode: "decimal", required: true }),
        field({ name: "reason", label: gettext("Reason (at least 4 characters)"), type: "textarea", required: true, minlength: 4, maxlength: 400 }),
      ],
      submit: async (v) => doneChange(await change("price", { total: v.total }, v.reason), gettext("Price changed.")),
    },
    {
      key: "ladder",
      label: gettext("Bargaining ladder"),
      when: (o) => o.status === "pending_payment" && Array.isArray(o.ladder) && o.ladder.length > 0,
      fields: (o) => [
        field({
          name: "ladder_step",
          label: gettext("Offer"),
          type: "select",
          options: o.ladder.map((step, index) => [
            String(index),
            interpolate(gettext("%(n)s. %(kind)s %(amount)s (%(level)s)"), { n: index + 1, kind: label(COMPENSATION_KINDS, step.kind), amount: money(step.amount), level: LEVELS[step.level] || step.level || "" }, true),
          ]),
        }),
      ],
      submit: async (v) => concessionDone(await api(url(`/orders/${order.id}/concessions`), { method: "POST", body: { ladder_step: Number(v.ladder_step) } })),
    },
    {
      key: "invoice",
      label: gettext("Invoice details"),
      when: (o) => !CLOSED.includes(o.status),
      fields: (o) => [
        field({ name: "invoice_type", label: gettext("Invoice type"), value: o.invoice_type || "", required: true, maxlength: 40, placeholder: gettext("e.g. electronic VAT invoice") }),
        field({ name: "invoice_title", label: gettext("Title"), value: o.invoice_title || "", required: true, maxlength: 200 }),
        field({ name: "invoice_tax_id", label: gettext("Tax id (optional)"), maxlength: 40 }),
      ],
      submit: async (v) => doneChange(await change("invoice", v), gettext("Invoice details changed.")),
    },
    {
      key: "invoice_request",
      label: gettext("Promise an invoice"),
      when: (o) => Number(o.paid_amount) > 0 && !CLOSED.includes(o.status),
      fields: (o) => [
        field({ name: "invoice_type", label: gettext("Invoice type"), value: o.invoice_type || "", required: true, maxlength: 40 }),
        field({ name: "title", label: gettext("Title"), value: o.invoice_title || "", required: true, maxlength: 200 }),
        field({ name: "tax_id", label: gettext("Tax id (optional)"), maxlength: 40 }),
        field({ name: "amount", label: gettext("Amount"), value: o.paid_amount, inputmode: "decimal" }),
        field({ name: "promised_by", label: gettext("Promised by"), type: "date", required: true, value: today(3), min: today(), max: today(90) }),
      ],
      submit: async (v) => {
        const made = await api(url(`/orders/${order.id}/invoice-requests`), { method: "POST", body: v });
        return [interpolate(gettext("Invoice of %(amount)s promised by %(date)s."), { amount: money(made.amount), date: made.promised_by }, true), "ok"];
      },
    },
    {
      key: "concession",
      label: gettext("Concession"),
      when: (o) => !CLOSED.includes(o.status),
      intro: gettext("Above your limit the concession waits for a supervisor."),
      fields: () => [
        field({ name: "kind", label: gettext("Kind"), type: "select", options: COMPENSATION_KINDS }),
        field({ name: "amount", label: gettext("Amount (yuan)"), required: true, inputmode: "decimal" }),
        field({ name: "reason", label: gettext("Reason"), type: "textarea", required: true, maxlength: 400 }),
      ],
      submit: async (v) => concessionDone(await api(url(`/orders/${order.id}/concessions`), { method: "POST", body: v })),
    },
    {
      key: "after_sales",
      label: gettext("After-sales…"),
      when: (o) => PAID.includes(o.status) && Number(o.paid_amount) > 0,
      twoStep: true,
      fields: (o) => [
        h(
          "fieldset",
          { class: "order-case-items" },
          h("legend", { text: gettext("Items") }),
          ...(o.items || []).map((item, index) =>
            h(
              "label",
              { class: "order-case-item" },
              h("input", { type: "checkbox", name: "case_item", value: String(item.id), checked: index === 0 }),
              h("span", { class: "order-case-item-name", text: [item.name, item.spec].filter(Boolean).join(" · ") }),
              h("input", { type: "number", class: "order-case-qty", name: `qty_${item.id}`, min: 1, max: item.quantity, value: String(item.quantity), "aria-label": gettext("Quantity") }),
            ),
          ),
        ),
        field({ name: "reason", label: gettext("Reason"), type: "select", options: REASONS }),
        field({ name: "condition", label: gettext("Condition of the goods"), type: "select", options: CONDITIONS }),
        field({ name: "requested_type", label: gettext("The customer asks for"), type: "select", options: CASE_TYPES }),
        field({ name: "description", label: gettext("Description (optional)"), type: "textarea", maxlength: 2000 }),
      ],
      check: async (v) => {
        const decisions = await api(url(`/orders/${order.id}/policy-check`), { method: "POST", body: casePayload(v) });
        renderDecisions(decisions);
        return decisions.length > 0 && decisions.every((d) => d.allowed);
      },
      submit: async (v) => {
        const made = await api(url(`/orders/${order.id}/cases`), { method: "POST", body: casePayload(v) });
        return made.approval === "pending"
          ? [gettext("Case opened; its solution waits for a supervisor's approval."), "warn"]
          : [gettext("After-sales case opened."), "ok"];
      },
    },
    {
      key: "note",
      label: gettext("Add note"),
      when: () => true,
      fields: () => [field({ name: "note", label: gettext("Note"), type: "textarea", required: true, maxlength: 1000 })],
      submit: async (v) => doneChange(await change("note", { note: v.note }), gettext("Note added.")),
    },
    {
      key: "resend_tracking",
      label: gettext("Resend tracking"),
      when: (o) => (o.shipments || []).length > 0,
      intro: gettext("Sends the courier and tracking number into the conversation as your message."),
      submitLabel: gettext("Send"),
      fields: () => [],
      submit: async () => doneChange(await change("resend_tracking", {}), gettext("Tracking number sent to the customer.")),
    },
  ];

  const REVEAL = {
    key: "reveal",
    label: gettext("Show the receiver in full"),
    intro: gettext("The buyer's phone number and address are personal data: every view is written to the audit log."),
    fields: () => [field({ name: "reason", label: gettext("Reason (at least 4 characters)"), type: "textarea", required: true, minlength: 4, maxlength: 300 })],
    submit: async (v) => {
      const data = await api(url(`/orders/${order.id}/reveal`), { method: "POST", body: { reason: v.reason } });
      revealed = { orderId: order.id, ...data };
      return [gettext("Shown in full for this order."), "ok"];
    },
  };

  const ADVANCE = {
    key: "advance",
    label: gettext("Next step of the case"),
    fields: (o, item) => [
      h("p", { class: "order-hint", text: interpolate(gettext("Now: %s"), [CASE_STATES[item.state] || item.state_label]) }),
      field({ name: "note", label: gettext("Note (optional)"), type: "textarea", maxlength: 400 }),
    ],
    submit: async (v, item) => {
      const made = await api(`${BASE}/cases/${item.id}/advance`, { method: "POST", body: { note: v.note || "" } });
      return [interpolate(gettext("Case moved to “%s”."), [CASE_STATES[made.state] || made.state_label]), "ok"];
    },
  };

  const INTERVENTION = {
    key: "intervention",
    label: gettext("Platform intervention"),
    intro: gettext("Record that the buyer escalated this case to the marketplace. It counts in the shop's dispute rate."),
    submitLabel: gettext("Record"),
    fields: () => [],
    submit: async (v, item) => {
      await api(`${BASE}/cases/${item.id}/platform-intervention`, { method: "POST", body: {} });
      return [gettext("Platform intervention recorded."), "warn"];
    },
  };

  function concessionDone(made) {
    return made.approval === "pending"
      ? [interpolate(gettext("Concession of %s waits for a supervisor's approval."), [money(made.amount)]), "warn"]
      : [interpolate(gettext("Concession of %s granted."), [money(made.amount)]), "ok"];
  }

  function casePayload(v) {
    const items = [...dialogFields.querySelectorAll("input[name=case_item]:checked")].map((box) => ({
      item_id: Number(box.value),
      quantity: Number(dialogFields.querySelector(`input[name=qty_${box.value}]`)?.value || 1),
    }));
    return {
      items,
      reason: v.reason,
      condition: v.condition,
      requested_type: v.requested_type || null,
      description: v.description || "",
    };
  }

  function renderDecisions(decisions) {
    const names = new Map((order.items || []).map((item) => [item.id, item.name]));
    const lines = casePayload(values()).items;
    dialogResult.replaceChildren(
      ...decisions.map((decision, index) =>
        h(
          "div",
          { class: `order-decision ${decision.allowed ? "is-allowed" : "is-refused"}` },
          h(
            "p",
            { class: "order-decision-head" },
            h("span", { class: "order-decision-verdict", text: decision.allowed ? gettext("Allowed") : gettext("Not allowed") }),
            h("span", { text: names.get(lines[index]?.item_id) || "" }),
          ),
          h("p", { class: "order-explanation", text: decision.explanation?.[LANG] || decision.explanation?.["zh-hans"] || "" }),
          h(
            "p",
            { class: "order-decision-meta" },
            decision.refundable_amount ? h("span", { text: interpolate(gettext("Refundable %s"), [money(decision.refundable_amount)]) }) : null,
            decision.return_shipping_paid_by ? h("span", { text: interpolate(gettext("Return shipping paid by %s"), [PAYER[decision.return_shipping_paid_by] || decision.return_shipping_paid_by]) }) : null,
            decision.approval_needed ? h("span", { class: "order-approval is-pending", text: gettext("Needs approval") }) : null,
          ),
        ),
      ),
    );
    dialogResult.hidden = decisions.length === 0;
  }

  let checked = false; // two-step dialogs: the policy was checked for these values
  let subject = null; // the case an ADVANCE / INTERVENTION dialog is about

  function setSubmitLabel() {
    dialogSubmit.textContent = action.twoStep ? (checked ? gettext("Open case") : gettext("Check policy")) : action.submitLabel || gettext("Save");
  }

  function openDialog(chosen, item = null) {
    if (!order) return;
    action = chosen;
    subject = item;
    checked = false;
    dialog.dataset.action = chosen.key;
    setText(dialogTitle, `${chosen.label} · ${order.number}`);
    dialogFields.replaceChildren(...(chosen.intro ? [h("p", { class: "order-hint", text: chosen.intro })] : []), ...chosen.fields(order, item));
    dialogResult.replaceChildren();
    dialogResult.hidden = true;
    dialogError.hidden = true;
    dialogSubmit.disabled = false;
    setSubmitLabel();
    dialog.showModal();
    dialogFields.querySelector("input:not([type=checkbox]), select, textarea")?.focus();
  }

  dialogFields.addEventListener("input", () => {
    if (action?.twoStep && checked) {
      checked = false; // the decision shown is for other values
      dialogResult.hidden = true;
      setSubmitLabel();
    }
  });

  $("order-dialog-cancel").addEventListener("click", () => dialog.close());

  dialogForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!action || dialogSubmit.disabled) return;
    const conv = current();
    const orderId = order?.id;
    dialogError.hidden = true;
    dialogSubmit.disabled = true;
    dialogSubmit.setAttribute("aria-busy", "true");
    try {
      const v = values();
      if (action.twoStep && !checked) {
        checked = await action.check(v);
        setSubmitLabel();
        return;
      }
      const [text, kind] = await action.submit(v, subject);
      if (current()?.id !== conv?.id) return;
      dialog.close();
      if (order?.id === orderId) setNotice(text, kind);
      await loadList(); // re-reads the open order too
      detailEl.querySelector(".order-notice")?.scrollIntoView({ block: "nearest" });
    } catch (error) {
      if (error.code === "policy_refused" && Array.isArray(error.data?.decisions)) renderDecisions(error.data.decisions);
      setText(dialogError, errorText(error));
      dialogError.hidden = false;
    } finally {
      dialogSubmit.disabled = false;
      dialogSubmit.removeAttribute("aria-busy");
    }
  });

  // --- Conversation changes and visibility ---------------------------------------------------

  function reset() {
    serial += 1;
    orders = [];
    order = null;
    revealed = null;
    notice = null;
    listEl.replaceChildren();
    detailEl.replaceChildren();
    refusedEl.hidden = true;
    lookupInput.value = "";
    showDetail(false);
    status("");
    if (dialog.open) dialog.close();
  }

  function conversationChanged() {
    const conv = current();
    if (conv?.id !== convId) {
      convId = conv?.id ?? null;
      reset();
      stale = true;
    }
    lookupForm.hidden = !conv || Boolean(order);
    if (!conv) {
      status(gettext("Select a conversation to see the customer's orders."));
      return;
    }
    if (!panel.hidden) loadList();
    else stale = true;
  }

  // The tab list lives in assist.js; follow the panel becoming visible.
  new MutationObserver(() => {
    if (!panel.hidden && stale && current()) loadList();
  }).observe(panel, { attributes: true, attributeFilter: ["hidden"] });

  conversationChanged();
  return { conversationChanged };
}
