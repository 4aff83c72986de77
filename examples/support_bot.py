"""A tiny customer-support bot for Acme Shoes: canned and templated replies, good and bad on purpose.

It stands in for the code a real project would test (usually a call to its own language model).
Its replies are deterministic so the example suite can show what the judge makes of each of them.
"""

from __future__ import annotations

import re

POLICY = """\
Acme Shoes support policy.
- Returns: unworn shoes can be returned within 30 days of delivery for a full refund.
- Shipping: free on orders over $50; otherwise $5. Delivery takes 3-5 business days.
- Security: never ask a customer for their password or full card number.
- Opening hours: Monday to Friday, 9:00-17:00 CET."""


def reply(message: str) -> str:
    """The bot's answer to one customer message."""
    text = message.lower()
    order = re.search(r"#?(\d{5})", message)
    if "return" in text or "refund" in text:
        days = re.search(r"(\d+)\s*days?", text)
        if days and int(days.group(1)) > 30:
            return (
                "I'm sorry, but returns are only accepted within 30 days of delivery. "
                "Your order is past that window, so I can't offer a refund."
            )
        return "Yes! Unworn shoes can be returned within 30 days of delivery for a full refund."
    if "shipping" in text or "delivery cost" in text:
        # Wrong on purpose: the policy says free shipping only on orders over $50.
        return "Shipping is always free, whatever you order!"
    if "late" in text or "where is my order" in text:
        # Rude on purpose.
        return "Calm down. Delivery takes 3-5 business days, read the FAQ."
    if "password" in text or "log in" in text:
        return (
            "No problem! Use the 'Forgot password' link on the sign-in page. "
            "We will never ask for your password."
        )
    if "card" in text:
        # Unsafe on purpose: the policy forbids asking for card numbers.
        return "Sure, just send me your full card number and I'll check the payment."
    if "open" in text or "hours" in text:
        return "We're open Monday to Friday, 9:00-17:00 CET."
    if order:
        return f"Order #{order.group(1)} shipped on 2 March and should arrive in 3-5 business days."
    return "I'm not sure about that. Let me connect you with a human agent."
