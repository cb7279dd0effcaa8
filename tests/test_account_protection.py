from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from ..models.customer_credit_service import service_env
from .common import CustomerCreditCommon


@tagged("post_install", "-at_install")
class TestAccountProtection(CustomerCreditCommon):
    """The Customer Credit account only moves with the ledger, so the books cannot drift from it."""

    def _manual_entry(self, context=None, env=None):
        return (
            (env or self.env)["account.move"]
            .with_context(**(context or {}))
            .create(
                {
                    "move_type": "entry",
                    "journal_id": self.credit_journal.id,
                    "line_ids": [
                        (0, 0, {"account_id": self.credit_account.id, "partner_id": self.partner_a.id, "credit": 50.0}),
                        (0, 0, {"account_id": self.cash_journal.default_account_id.id, "debit": 50.0}),
                    ],
                }
            )
        )

    def _service_draft(self):
        """A draft entry on the Customer Credit account, as only the service can make one."""
        move = self._manual_entry(env=service_env(self.env))
        return self.env["account.move"].browse(move.id)

    def test_manual_entry_on_credit_account_refused(self):
        # not even as a draft
        self.assert_rejected(UserError, "only moves with credit movements", self._manual_entry)
        # and a draft of the service is posted by the service only
        move = self._service_draft()
        self.assert_rejected(UserError, "only moves with credit movements", move.action_post)
        self.assertEqual(move.state, "draft")
        self.assertEqual(self.gl_balance(self.partner_a), 0.0)
        self.assert_invariant()

    def test_forged_context_does_not_open_the_account(self):
        forged = {"customer_credit_service": True}
        self.assert_rejected(UserError, "only moves with credit movements", self._manual_entry, forged)
        self.assert_rejected(
            UserError, "only moves with credit movements", self._manual_entry, forged, self.env(su=True)
        )
        move = self._service_draft()
        self.assert_rejected(
            UserError,
            "only moves with credit movements",
            move.with_user(self.user_manager).with_context(customer_credit_service=True).sudo(False).action_post,
        )
        self.assert_rejected(
            UserError, "only moves with credit movements", move.sudo().with_context(**forged).action_post
        )
        self.assertEqual(move.state, "draft")
        self.assert_invariant()

    def test_other_accounts_unaffected(self):
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": self.credit_journal.id,
                "line_ids": [
                    (0, 0, {"account_id": self.granted_account.id, "debit": 5.0}),
                    (0, 0, {"account_id": self.cash_journal.default_account_id.id, "credit": 5.0}),
                ],
            }
        )
        move.action_post()
        self.assertEqual(move.state, "posted")

    def test_credit_entries_cannot_be_reset_or_reversed_by_hand(self):
        line = self.service._topup(self.partner_a, 40.0, self.cash_journal)
        move = line.move_id
        with self.assertRaisesRegex(UserError, "cannot be reset to draft"):
            move.button_draft()
        self.assertEqual(move.state, "posted")
        with self.assertRaisesRegex(UserError, "only moves with credit movements"):
            move._reverse_moves([{"ref": "manual reversal"}], cancel=True)
        self.assertEqual(self.gl_balance(self.partner_a), -40.0)
        self.assertEqual(self.balance(self.partner_a), 40.0)
        # the supported correction: cancel the lot, which posts the reversal through the service
        self.service._cancel(line.lot_id, reason="typo")
        self.assertEqual(self.gl_balance(self.partner_a), 0.0)
        self.assertEqual(self.balance(self.partner_a), 0.0)
        self.assert_invariant()

    def test_reset_to_draft_hidden_on_credit_entries(self):
        line = self.service._topup(self.partner_a, 12.0, self.cash_journal)
        self.assertFalse(line.move_id.show_reset_to_draft_button)

    def test_lot_chatter_logs_each_movement(self):
        lot = self.service._topup(self.partner_a, 30.0, self.cash_journal).lot_id
        self.service._spend(self.partner_a, 12.5, counterpart_account=self.clearing_account)
        bodies = lot.message_ids.mapped("body")
        self.assertTrue(any("Top-up of" in body and "30.00" in body for body in bodies), bodies)
        self.assertTrue(any("Spend of" in body and "17.50" in body for body in bodies), bodies)

    def test_pay_invoice_with_credit_wizard(self):
        self.service._topup(self.partner_a, 50.0, self.cash_journal)
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_a.id,
                "invoice_line_ids": [(0, 0, {"name": "Service", "quantity": 1, "price_unit": 80.0, "tax_ids": []})],
            }
        )
        invoice.action_post()
        billing = new_test_user(
            self.env,
            login="cc_billing",
            groups="account.group_account_invoice,customer_credit.group_customer_credit_user",
        )
        action = invoice.with_user(billing).action_pay_with_credit()
        wizard = (
            self.env["customer.credit.operation.wizard"].with_user(billing).with_context(**action["context"]).new({})
        )
        wizard._onchange_invoice_id()
        self.assertEqual(wizard.amount, 50.0, "the proposed amount is capped by the available credit")
        wizard = (
            self.env["customer.credit.operation.wizard"]
            .with_user(billing)
            .with_context(**action["context"])
            .create({"amount": 50.0})
        )
        wizard.action_confirm()
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.amount_residual, 30.0)
        spend = self.env["customer.credit.line"].search([("invoice_id", "=", invoice.id)])
        self.assertEqual(spend.amount, -50.0)
        receivable = self.partner_a.property_account_receivable_id
        self.assert_move_lines(
            spend.move_id,
            [(self.credit_account, self.partner_a, 50.0, 0.0), (receivable, self.partner_a, 0.0, 50.0)],
        )
        self.assertEqual(self.balance(self.partner_a), 0.0)
        self.assert_invariant()
