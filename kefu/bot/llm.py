"""Optional adapter for a shop's own OpenAI-compatible chat endpoint
(`POST {base_url}/chat/completions`). It only rephrases what the knowledge base
already says: the prompt carries the retrieved answers (and order facts when
given) and tells the model to reply NO_ANSWER when they do not cover the
question. Any failure — timeout, HTTP error, malformed reply, NO_ANSWER —
returns None and the bot falls back to the stored answer, so it is never
required."""

from __future__ import annotations

import logging

import httpx

log = logging.getLogger(__name__)

NO_ANSWER = "NO_ANSWER"
MAX_REPLY_CHARS = 1000
SYSTEM_PROMPT = (
    "You are the customer-service assistant of the shop {shop}. Answer the customer's "
    "question using ONLY the knowledge passages and order facts below; do not invent "
    "prices, dates, policies or promises. Reply in the customer's language, politely and "
    "briefly. If the passages do not answer the question, reply exactly {no_answer}."
)


def build_messages(shop_name: str, question: str, faqs, facts: dict | None = None) -> list[dict]:
    passages = "\n\n".join(
        f"[{index}] Q: {faq.question}\nA: {faq.answer}" for index, faq in enumerate(faqs, 1)
    )
    fact_lines = "\n".join(f"- {key}: {value}" for key, value in (facts or {}).items())
    context = f"Knowledge passages:\n{passages or '(none)'}"
    if fact_lines:
        context += f"\n\nOrder facts:\n{fact_lines}"
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(shop=shop_name, no_answer=NO_ANSWER)},
        {"role": "system", "content": context},
        {"role": "user", "content": question},
    ]


def draft_answer(settings, question: str, faqs, facts: dict | None = None) -> str | None:
    if not (settings.llm_enabled and settings.llm_base_url and faqs):
        return None
    headers = {"Content-Type": "application/json"}
    if settings.llm_api_key:
        headers["Authorization"] = f"Bearer {settings.llm_api_key}"
    payload = {
        "model": settings.llm_model or "default",
        "messages": build_messages(settings.shop.name, question, faqs, facts),
        "temperature": 0,
        "max_tokens": 400,
        "stream": False,
    }
    url = settings.llm_base_url.rstrip("/") + "/chat/completions"
    try:
        response = httpx.post(
            url, json=payload, headers=headers, timeout=settings.llm_timeout_seconds
        )
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as error:
        log.warning("model server %s failed: %s", url, error)
        return None
    if not isinstance(content, str):
        return None
    content = content.strip()
    if not content or NO_ANSWER in content:
        return None
    return content[:MAX_REPLY_CHARS]
