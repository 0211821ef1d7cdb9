"""What the robot says: answer templates filled for a shop, a language and an order."""
from __future__ import annotations

from robot.knowledge import Intent, Knowledge
from robot.orders import Order

__all__ = ["Answers"]


class Answers:
    """Renders the knowledge base's texts; a shop's own wording wins over the general one."""

    def __init__(self, knowledge: Knowledge):
        self._knowledge = knowledge

    def answer(self, intent: Intent, lang: str, shop: str | None) -> str:
        """The intent's answer without an order (the intent must be one the robot answers)."""
        template = self._pick(intent.answer, "answers", intent.name, lang, shop)
        return template.format_map({"shop_name": self._shop_name(lang, shop)})

    def order_answer(self, intent: Intent, lang: str, shop: str | None, order: Order) -> str:
        """The intent's answer about one order (the intent must use orders)."""
        knowledge = self._knowledge
        status = knowledge.statuses.get(order.status)
        carrier = knowledge.carriers.get(order.carrier, {}).get(lang, order.carrier)
        order_fields = {"order_id": order.order_id, "carrier": carrier,
                        "tracking_no": order.tracking_no, "eta": order.eta}
        # an OrderLookup other than the demo CSV may report a status robot.toml does not know
        label = status.label[lang] if status else order.status
        progress = status.progress[lang].format_map(order_fields) if status else ""
        template = self._pick(intent.order_answer, "order_answers", intent.name, lang, shop)
        return template.format_map({"shop_name": self._shop_name(lang, shop), "order_id": order.order_id,
                                    "status": label, "progress": progress})

    def handover(self, lang: str) -> str:
        """What the customer is told when a person takes over."""
        return self._knowledge.handover[lang]

    def _pick(self, general, overrides: str, intent: str, lang: str, shop: str | None) -> str:
        own = self._knowledge.shops.get(shop) if shop else None
        if own is not None:
            text = getattr(own, overrides).get(intent, {}).get(lang)
            if text:
                return text
        return general[lang]

    def _shop_name(self, lang: str, shop: str | None) -> str:
        own = self._knowledge.shops.get(shop) if shop else None
        return (own.name if own else self._knowledge.default_shop_name)[lang]
