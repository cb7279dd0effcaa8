from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestBackendTour(HttpCase):
    """Backend flows in a real browser (headless Chromium), checked against the ledger and the books."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.partner = cls.env["res.partner"].create({"name": "Tour Credit Customer", "email": "tour@example.com"})
        cls.cash = cls.env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", cls.company.id)], limit=1
        )

    def _posted_credit_balance(self):
        lines = self.env["account.move.line"].search(
            [
                ("account_id", "=", self.company.credit_account_id.id),
                ("partner_id", "=", self.partner.id),
                ("parent_state", "=", "posted"),
            ]
        )
        return sum(lines.mapped("balance"))

    def test_topup_from_partner_form(self):
        self.start_tour(f"/odoo/res.partner/{self.partner.id}", "customer_credit_backend_topup", login="admin")
        line = self.env["customer.credit.line"].search([("partner_id", "=", self.partner.id)])
        self.assertEqual(len(line), 1)
        self.assertEqual((line.kind, line.amount, line.partner_balance_after), ("topup", 75.25, 75.25))
        self.assertEqual(line.lot_id.state, "active")
        self.assertRegex(line.lot_id.name, r"^ACC-\d{8}-\d{8}$")
        move = line.move_id
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.journal_id.type, "cash")
        self.assertEqual(move.origin_payment_id.destination_account_id, self.company.credit_account_id)
        debit = move.line_ids.filtered(lambda aml: aml.debit)
        self.assertEqual((debit.account_id, debit.debit), (move.origin_payment_id.outstanding_account_id, 75.25))
        self.assertAlmostEqual(self._posted_credit_balance(), -75.25)
        self.assertEqual(self.partner.credit_balance, 75.25)

    def test_withdraw_too_much_shows_error(self):
        self.env["customer.credit.service"]._topup(self.partner, 20.0, self.cash)
        self.start_tour(f"/odoo/res.partner/{self.partner.id}", "customer_credit_backend_withdraw_error", login="admin")
        lines = self.env["customer.credit.line"].search([("partner_id", "=", self.partner.id)])
        self.assertEqual(lines.mapped("kind"), ["topup"])
        self.assertAlmostEqual(self._posted_credit_balance(), -20.0)

    def test_pay_invoice_with_credit(self):
        self.env["customer.credit.service"]._topup(self.partner, 200.0, self.cash)
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner.id,
                "invoice_line_ids": [(0, 0, {"name": "Service", "quantity": 1, "price_unit": 115.0, "tax_ids": []})],
            }
        )
        invoice.action_post()
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}",
            "customer_credit_invoice_pay",
            login="admin",
        )
        self.assertEqual(invoice.payment_state, "paid")
        spend = self.env["customer.credit.line"].search([("partner_id", "=", self.partner.id), ("kind", "=", "spend")])
        self.assertEqual((spend.amount, spend.invoice_id, spend.partner_balance_after), (-115.0, invoice, 85.0))
        receivable = spend.move_id.line_ids.filtered(lambda aml: aml.account_id.account_type == "asset_receivable")
        self.assertEqual((receivable.credit, receivable.partner_id, receivable.reconciled), (115.0, self.partner, True))
        self.assertAlmostEqual(self._posted_credit_balance(), -85.0)
