"""Website and portal tours (headless Chromium): checkout with credit, top-up, withdrawal, /my/credit."""

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CustomerCreditCommon


@tagged("post_install", "-at_install")
class TestWebsiteCreditTour(CustomerCreditCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("customer_credit.payment_provider_customer_credit").write(
            {"state": "enabled", "is_published": True}
        )
        cls.env.ref("payment.payment_provider_demo").write({"state": "test", "is_published": True})
        # only our two providers, so the tours see what they expect
        cls.env["payment.provider"].search(
            [("code", "not in", ("customer_credit", "demo")), ("state", "!=", "disabled")]
        ).write({"state": "disabled"})
        cls.env["product.product"].create(
            {
                "name": "Credit Tour Desk",
                "list_price": 30.0,
                "taxes_id": [Command.clear()],
                "is_published": True,
                "sale_ok": True,
                "website_sequence": 1,
                "type": "consu",
            }
        )
        address = {
            "street": "1 Credit Street",
            "city": "Brussels",
            "zip": "1000",
            "country_id": cls.env.ref("base.be").id,
            "phone": "+32 2 000 00 00",
        }
        cls.partner_a.write(address)
        cls.partner_b.write({**address, "email": "b@example.com"})
        cls.portal_a = new_test_user(
            cls.env, login="cc_tour_a", groups="base.group_portal", partner_id=cls.partner_a.id, password="cc_tour_a"
        )
        cls.portal_b = new_test_user(
            cls.env, login="cc_tour_b", groups="base.group_portal", partner_id=cls.partner_b.id, password="cc_tour_b"
        )
        cls.env.company.write({"credit_topup_min": 5.0, "credit_topup_max": 500.0})

    def test_checkout_paid_with_credit(self):
        self.service.sudo()._topup(self.partner_a, 100.0, self.cash_journal)
        self.start_tour("/shop", "customer_credit_checkout_tour", login="cc_tour_a")
        order = self.env["sale.order"].search([("partner_id", "=", self.partner_a.id)], limit=1)
        self.assertEqual(order.state, "sale")
        tx = order.transaction_ids
        self.assertEqual(tx.provider_code, "customer_credit")
        self.assertEqual(tx.state, "done")
        spend = self.env["customer.credit.line"].search([("transaction_id", "=", tx.id)])
        self.assertEqual(spend.amount, -30.0)
        self.assertEqual(spend.sale_order_id, order)
        self.assertEqual(self.balance(self.partner_a), 70.0)
        self.assertFalse(self.env["account.payment"].search([("payment_transaction_id", "=", tx.id)]))
        self.assert_invariant()

    def test_checkout_credit_hidden_when_short(self):
        self.service.sudo()._topup(self.partner_b, 10.0, self.cash_journal)
        self.start_tour("/shop", "customer_credit_checkout_short_tour", login="cc_tour_b")
        self.assertEqual(self.balance(self.partner_b), 10.0)
        self.assert_invariant()

    def test_topup_with_demo_provider(self):
        self.service.sudo()._topup(self.partner_a, 100.0, self.cash_journal)
        self.start_tour("/my/credit", "customer_credit_topup_tour", login="cc_tour_a")
        self.assertEqual(self.balance(self.partner_a), 125.0)
        line = self.env["customer.credit.line"].search([("partner_id", "=", self.partner_a.id)], limit=1)
        self.assertEqual(line.kind, "topup")
        self.assertEqual(line.transaction_id.provider_code, "demo")
        self.assertEqual(line.lot_id.origin, "website")
        self.assert_invariant()

    def test_withdrawal_request(self):
        self.service.sudo()._topup(self.partner_a, 100.0, self.cash_journal)
        self.start_tour("/my/credit", "customer_credit_withdrawal_tour", login="cc_tour_a")
        request = self.env["customer.credit.withdrawal"].search([("partner_id", "=", self.partner_a.id)])
        self.assertEqual(request.amount, 35.0)
        self.assertEqual(request.state, "pending")
        self.assertIn("BE71", request.note)
        self.assertEqual(self.balance(self.partner_a), 100.0)
        self.assert_invariant()

    def test_portal_history_and_statement(self):
        self.service.sudo()._topup(self.partner_a, 100.0, self.cash_journal)
        self.service.sudo()._spend(self.partner_a, 12.5, counterpart_account=self.clearing_account)
        self.start_tour("/my", "customer_credit_portal_tour", login="cc_tour_a")
