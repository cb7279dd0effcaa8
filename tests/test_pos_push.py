"""Every credit movement pushes the customer's new figures to the open tills (Odoo's bus)."""

import json

from odoo.tests import tagged

from .pos_common import CustomerCreditPosCase


@tagged("post_install", "-at_install")
class TestPosCreditPush(CustomerCreditPosCase):
    session_methods = ("cash_pm1", "credit_pm")

    def pushed(self):
        """The CUSTOMER_CREDIT notifications this transaction will send at commit."""
        token = self.config.access_token
        notifications = []
        for values in self.env.cr.precommit.data.get("bus.bus.values", []):
            message = json.loads(values["message"])
            if message["type"] == f"{token}-CUSTOMER_CREDIT":
                notifications.append(message["payload"])
        return notifications

    def test_movement_pushes_fresh_figures_to_open_tills(self):
        contact = self.env["res.partner"].create({"name": "Buyer of the customer", "parent_id": self.customer.id})
        self.env.cr.precommit.data.pop("bus.bus.values", None)
        clearing = self.company.credit_clearing_account_id
        self.service._topup(self.customer, 15.0, granted=True, credit_type="product", product=self.product_a)
        self.service._spend(self.customer, 25.0, counterpart_account=clearing)
        pushed = self.pushed()
        self.assertEqual(len(pushed), 2, "one notification per movement to the open till")
        lot = self.env["customer.credit"].search(
            [("partner_id", "=", self.customer.id), ("credit_type", "=", "product")]
        )
        expected_lots = [
            {"id": lot.id, "name": lot.name, "product_id": self.product_a.id, "balance": 15.0, "expiry_date": False}
        ]
        self.assertEqual(
            sorted(pushed[-1], key=lambda row: row["id"]),
            sorted(
                [
                    {"id": partner.id, "credit_available": 75.0, "credit_due": 0.0, "credit_pos_lots": expected_lots}
                    for partner in (self.customer, contact)
                ],
                key=lambda row: row["id"],
            ),
        )
        # the figures are those the till loads with its customers
        self.env.invalidate_all()
        for partner in (self.customer, contact):
            self.assertEqual(partner.credit_available, 75.0)
            self.assertEqual(partner.credit_pos_lots, expected_lots)
        self.assert_invariant()
