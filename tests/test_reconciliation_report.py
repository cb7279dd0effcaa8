"""The accountants' reconciliation report: Customer Credit account vs the credit ledger, per customer."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CustomerCreditCommon


@tagged("post_install", "-at_install")
class TestCreditReconciliationReport(CustomerCreditCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Report = cls.env["customer.credit.reconciliation"]
        cls.service.sudo()._topup(cls.partner_a, 100.0, cls.cash_journal)
        cls.service.sudo()._topup(cls.partner_b, 50.0, cls.cash_journal)
        cls.service.sudo()._spend(cls.partner_a, 30.0, counterpart_account=cls.clearing_account)
        cls.service.sudo()._topup(cls.partner_c, 20.0, granted=True)

    def differences(self):
        return {(row["company_id"], row["partner_id"]): row for row in self.Report._get_differences()}

    def _insert_ledger_line(self, partner, amount):
        """What a bug or a hand-made SQL fix could leave: a ledger line with no journal entry."""
        self.env.flush_all()
        self.env.cr.execute(
            """INSERT INTO customer_credit_line (name, operation_ref, kind, amount, currency_id, company_id, partner_id,
                                                date, create_date, write_date, create_uid, write_uid)
               VALUES ('Hand-made', 'BROKEN', 'adjust', %s, %s, %s, %s, now(), now(), now(), 1, 1)""",
            (amount, self.currency.id, self.company.id, partner.id),
        )
        self.env.invalidate_all()

    def test_empty_when_the_books_agree(self):
        self.assert_invariant()
        self.assertEqual(self.Report._get_differences(), [])
        self.assertEqual(self.Report._get_differences(self.company), [])
        self.assertFalse(self.Report.search([]))

    def test_ledger_line_without_entry_shows(self):
        self._insert_ledger_line(self.partner_a, 12.5)
        rows = self.differences()
        self.assertEqual(list(rows), [(self.company.id, self.partner_a.id)])
        row = rows[(self.company.id, self.partner_a.id)]
        self.assertEqual(row["ledger_balance"], 82.5)
        self.assertEqual(row["account_balance"], 70.0)
        self.assertEqual(row["difference"], 12.5)
        # the customer with a ledger line and no entry at all shows too
        self._insert_ledger_line(self.partner_c.copy({"name": "No Entry Customer"}), -4.0)
        self.assertEqual(len(self.Report._get_differences(self.company)), 2)

    def test_entry_on_the_wrong_customer_shows_both(self):
        """The Customer Credit line of A's spend moved to B (or to no customer): both sides show."""
        spend = self.env["customer.credit.line"].search(
            [("partner_id", "=", self.partner_a.id), ("kind", "=", "spend")]
        )
        credit_line = spend.move_id.line_ids.filtered(lambda aml: aml.account_id == self.credit_account)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE account_move_line SET partner_id = %s WHERE id = %s", (self.partner_b.id, credit_line.id)
        )
        self.env.invalidate_all()
        rows = self.differences()
        self.assertEqual(rows[(self.company.id, self.partner_a.id)]["difference"], -30.0)
        self.assertEqual(rows[(self.company.id, self.partner_a.id)]["account_balance"], 100.0)
        self.assertEqual(rows[(self.company.id, self.partner_b.id)]["difference"], 30.0)
        self.assertEqual(rows[(self.company.id, self.partner_b.id)]["account_balance"], 20.0)
        self.assertEqual(len(rows), 2)

        self.env.cr.execute("UPDATE account_move_line SET partner_id = NULL WHERE id = %s", (credit_line.id,))
        self.env.invalidate_all()
        rows = self.differences()
        self.assertEqual(rows[(self.company.id, False)]["account_balance"], -30.0)
        self.assertEqual(rows[(self.company.id, False)]["ledger_balance"], 0.0)
        self.assertNotIn((self.company.id, self.partner_b.id), rows)
        self.assertEqual(rows[(self.company.id, self.partner_a.id)]["difference"], -30.0)

    def test_only_posted_entries_count(self):
        """An entry set back to draft leaves its movement out of the books: it shows."""
        topup = self.env["customer.credit.line"].search([("partner_id", "=", self.partner_b.id)])
        self.env.flush_all()
        self.env.cr.execute("UPDATE account_move SET state = 'draft' WHERE id = %s", (topup.move_id.id,))
        self.env.cr.execute(
            "UPDATE account_move_line SET parent_state = 'draft' WHERE move_id = %s", (topup.move_id.id,)
        )
        self.env.invalidate_all()
        rows = self.differences()
        self.assertEqual(list(rows), [(self.company.id, self.partner_b.id)])
        self.assertEqual(rows[(self.company.id, self.partner_b.id)]["account_balance"], 0.0)
        self.assertEqual(rows[(self.company.id, self.partner_b.id)]["difference"], 50.0)

    def test_rounding_noise_is_not_a_difference(self):
        self._insert_ledger_line(self.partner_a, 0.001)
        self.assertEqual(self.Report._get_differences(), [])
        self._insert_ledger_line(self.partner_a, 0.004)
        self.assertEqual(len(self.Report._get_differences()), 1, "0.005 rounds to a cent")

    def test_access_and_menus(self):
        self._insert_ledger_line(self.partner_a, 1.0)
        self.assertEqual(len(self.Report.with_user(self.user_manager)._get_differences()), 1)
        with self.assertRaises(AccessError):
            self.Report.with_user(self.user_credit)._get_differences()
        with self.assertRaises(AccessError):
            self.Report.with_user(self.user_plain)._get_differences()
        action = self.env.ref("customer_credit.customer_credit_reconciliation_action")
        menus = self.env["ir.ui.menu"].search([("action", "=", f"ir.actions.act_window,{action.id}")])
        self.assertIn(self.env.ref("account.menu_finance_reports"), menus.parent_id)
        self.assertIn(self.env.ref("customer_credit.customer_credit_menu_root"), menus.parent_id)
