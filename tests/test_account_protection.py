from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CustomerCreditCommon


@tagged("post_install", "-at_install")
class TestAccountProtection(CustomerCreditCommon):
    """The Customer Credit account only moves with the ledger, so the books cannot drift from it."""

    def _manual_entry(self, context=None):
        return (
            self.env["account.move"]
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

    def test_manual_entry_on_credit_account_refused(self):
        move = self._manual_entry()
        with self.assertRaisesRegex(UserError, "only moves with credit movements"):
            move.action_post()
        self.assertEqual(move.state, "draft")
        self.assertEqual(self.gl_balance(self.partner_a), 0.0)
        self.assert_invariant()

    def test_forged_context_does_not_open_the_account(self):
        move = self._manual_entry({"customer_credit_service": True})
        with self.assertRaisesRegex(UserError, "only moves with credit movements"):
            move.with_user(self.user_manager).with_context(customer_credit_service=True).sudo(False).action_post()
        self.assertEqual(move.state, "draft")

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
        line = self.service.topup(self.partner_a, 40.0, self.cash_journal)
        move = line.move_id
        with self.assertRaisesRegex(UserError, "cannot be reset to draft"):
            move.button_draft()
        self.assertEqual(move.state, "posted")
        with self.assertRaisesRegex(UserError, "only moves with credit movements"):
            move._reverse_moves([{"ref": "manual reversal"}], cancel=True)
        self.assertEqual(self.gl_balance(self.partner_a), -40.0)
        self.assertEqual(self.balance(self.partner_a), 40.0)
        # the supported correction: cancel the lot, which posts the reversal through the service
        self.service.cancel(line.lot_id, reason="typo")
        self.assertEqual(self.gl_balance(self.partner_a), 0.0)
        self.assertEqual(self.balance(self.partner_a), 0.0)
        self.assert_invariant()
