"""The phones page: each recipient's thread, with a box to text back (STOP included)."""

from __future__ import annotations

import re
from html import escape

from sandbox.state import PHONE_OUTCOMES, Account, Message

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#eef1f5;color:#17202a}
header{background:#f22f46;color:#fff;padding:1rem 1.5rem}
header h1{margin:0;font-size:1.2rem} header p{margin:.25rem 0 0;opacity:.9;overflow-wrap:anywhere}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(320px,100%),1fr));gap:1rem;
 padding:1.5rem}
.phone{background:#fff;border-radius:18px;padding:1rem;box-shadow:0 2px 8px rgba(0,0,0,.08)}
.phone h2{font-size:1rem;margin:0 0 .75rem}
.thread{display:flex;flex-direction:column;gap:.4rem;max-height:420px;overflow-y:auto}
.bubble{max-width:80%;padding:.5rem .75rem;border-radius:14px;white-space:pre-wrap;
 overflow-wrap:anywhere}
.in{align-self:flex-start;background:#e5e8ee}
.out{align-self:flex-end;background:#2b59c3;color:#fff}
.meta{font-size:.75rem;opacity:.75;display:block;margin-top:.15rem}
form{display:flex;gap:.4rem;margin-top:.75rem}
input,textarea,button{font:inherit}
textarea{flex:1;border:1px solid #c7cfd9;border-radius:10px;padding:.4rem}
button{border:0;background:#2b59c3;color:#fff;border-radius:10px;padding:.4rem .9rem;cursor:pointer}
.empty{padding:1.5rem;color:#5d6b7a}
.outcome{margin-top:.5rem;font-size:.85rem;align-items:center;flex-wrap:wrap}
.outcome select{font:inherit;flex:1 1 10rem;min-width:0;max-width:100%}
"""


def anchor(number: str) -> str:
    return "phone-" + re.sub(r"\D", "", number)


def outcome_form(account: Account, phone: str) -> str:
    """A choice of how later messages to ``phone`` end: the rates' draw, or one status."""
    chosen = account.phone_outcomes.get(phone, "random")
    choices = [
        ("random", "As the sandbox's rates draw"),
        *((k, v[2]) for k, v in PHONE_OUTCOMES.items()),
    ]
    options = "".join(
        f'<option value="{key}"{" selected" if key == chosen else ""}>{escape(label)}</option>'
        for key, label in choices
    )
    return (
        f'<form class="outcome" method="post" action="/sandbox/outcomes">'
        f'<input type="hidden" name="phone" value="{escape(phone)}">'
        f'<label for="outcome-{anchor(phone)}">Next messages end</label>'
        f'<select id="outcome-{anchor(phone)}" name="outcome">{options}</select>'
        f"<button>Set</button></form>"
    )


def phones(account: Account) -> str:
    """Every phone that was texted by (or texted) one of the account's numbers."""
    threads: dict[str, list[Message]] = {}
    for message in sorted(account.messages.values(), key=lambda m: m.created):
        phone = message.from_ if message.direction == "inbound" else message.to
        threads.setdefault(phone, []).append(message)
    cards = []
    for phone, messages in threads.items():
        bubbles = []
        for message in messages:
            inbound = message.direction == "inbound"
            # From the phone's side: what it received is "in", what it sent is "out".
            side = "out" if inbound else "in"
            detail = "you sent" if inbound else f"from {message.from_} · {message.status}"
            bubbles.append(
                f'<div class="bubble {side}">{escape(message.body)}'
                f'<span class="meta">{escape(detail)}</span></div>'
            )
        sender = next(
            (m.to if m.direction == "inbound" else m.from_ for m in reversed(messages)), ""
        )
        cards.append(
            f'<section class="phone" id="{anchor(phone)}"><h2>📱 {escape(phone)}</h2>'
            f'<div class="thread">{"".join(bubbles)}</div>'
            f'<form method="post" action="/sandbox/inbound">'
            f'<input type="hidden" name="from" value="{escape(phone)}">'
            f'<input type="hidden" name="to" value="{escape(sender)}">'
            f'<label hidden for="body-{anchor(phone)}">Reply</label>'
            f'<textarea id="body-{anchor(phone)}" name="body" rows="2" required '
            f'placeholder="Reply to {escape(sender)} (try STOP)"></textarea>'
            f"<button>Send</button></form>{outcome_form(account, phone)}</section>"
        )
    numbers = ", ".join(escape(n) for n in account.numbers)
    body = "".join(cards) or (
        '<p class="empty">No messages yet. Texts sent through this sandbox appear here, one '
        "phone per recipient.</p>"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="refresh" content="10">'
        # No icon to ask for: /favicon.ico is not the sandbox's, so it would answer 401.
        '<link rel="icon" href="data:,">'
        f"<title>Twilio sandbox phones</title><style>{STYLE}</style></head><body>"
        f"<header><h1>Twilio sandbox · phones</h1><p>Account {escape(account.options.account_sid)}"
        f" · numbers {numbers}</p></header><main>{body}</main></body></html>"
    )
