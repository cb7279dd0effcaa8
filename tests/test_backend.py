from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import CustomerCreditCommon


@tagged("post_install", "-at_install")
class TestCustomerCreditBackend(CustomerCreditCommon):
    """Back-office flows: the operation and lot wizards, partner actions, the expiry cron, settings."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["customer.credit"])
        cls.receivable = cls.partner_a.property_account_receivable_id
        cls.Wizard = cls.env["customer.credit.operation.wizard"].with_user(cls.user_manager)
        cls.LotWizard = cls.env["customer.credit.lot.wizard"].with_user(cls.user_manager)

    # ---- helpers -------------------------------------------------------

    def _lot(self, lines):
        return self.env["customer.credit"].browse(lines.lot_id.id)

    def _lines(self, partner):
        return self.env["customer.credit.line"].search([("partner_id", "=", partner.id)], order="id")

    def _mails(self, lines):
        return (
            self.env["mail.mail"].sudo().search([("model", "=", "customer.credit.line"), ("res_id", "in", lines.ids)])
        )

    def _run(self, vals):
        """Fill in and confirm the operation wizard as a Credit Manager; returns (action, new lines)."""
        before = self.env["customer.credit.line"].search([]).ids
        action = self.Wizard.create(vals).action_confirm()
        lines = self.env["customer.credit.line"].search([("id", "not in", before)], order="id")
        return action, lines

    # ---- operation wizard ---------------------------------------------

    def test_wizard_form_proposes_cash_journal(self):
        with Form(self.env["customer.credit.operation.wizard"]) as form:
            self.assertEqual(form.operation, "topup")
            self.assertEqual(form.journal_id, self.cash_journal)
            form.partner_id = self.partner_a
            form.amount = 15.0
        form.record.action_confirm()
        self.assertEqual(self.balance(self.partner_a), 15.0)
        self.assert_invariant()

    def test_wizard_topup_cash(self):
        expiry = self.today + timedelta(days=30)
        action, lines = self._run(
            {
                "operation": "topup",
                "partner_id": self.partner_a.id,
                "amount": 50.0,
                "journal_id": self.cash_journal.id,
                "expiry_date": expiry,
                "notes": "Paid at the desk",
            }
        )
        lot = self._lot(lines)
        self.assertEqual(
            action,
            {
                "type": "ir.actions.act_window",
                "res_model": "customer.credit",
                "res_id": lot.id,
                "view_mode": "form",
                "target": "current",
            },
        )
        self.assertRecordValues(
            lot,
            [
                {
                    "partner_id": self.partner_a.id,
                    "company_id": self.company.id,
                    "credit_type": "generic",
                    "origin": "manual",
                    "amount": 50.0,
                    "balance": 50.0,
                    "state": "active",
                    "expiry_date": expiry,
                    "notes": "Paid at the desk",
                }
            ],
        )
        self.assertRecordValues(
            lines,
            [
                {
                    "kind": "topup",
                    "amount": 50.0,
                    "lot_id": lot.id,
                    "partner_balance_before": 0.0,
                    "partner_balance_after": 50.0,
                    "lot_balance_before": 0.0,
                    "lot_balance_after": 50.0,
                    "user_id": self.user_manager.id,
                    "move_id": lot.move_id.id,
                }
            ],
        )
        self.assertEqual(lot.move_id.journal_id, self.cash_journal)
        self.assertEqual(lot.move_id.origin_payment_id.destination_account_id, self.credit_account)
        self.assert_move_lines(
            lot.move_id,
            [(self.receipts_account, self.partner_a, 50.0, 0.0), (self.credit_account, self.partner_a, 0.0, 50.0)],
        )
        mail = self._mails(lines)
        self.assertEqual(len(mail), 1, "the customer is told about the top-up")
        self.assertEqual(mail.recipient_ids, self.partner_a)
        self.assertEqual(self.balance(self.partner_a), 50.0)
        self.assertEqual(self.gl_balance(self.partner_a), -50.0)
        self.assert_invariant()

    def test_wizard_topup_granted(self):
        # a journal left on the form is ignored: granted credit has no payment
        __, lines = self._run(
            {
                "operation": "topup",
                "partner_id": self.partner_b.id,
                "amount": 20.0,
                "granted": True,
                "journal_id": self.cash_journal.id,
            }
        )
        lot = self._lot(lines)
        self.assertRecordValues(lot, [{"origin": "granted", "amount": 20.0, "balance": 20.0}])
        self.assertEqual(lines.kind, "topup")
        self.assert_move_lines(
            lines.move_id,
            [(self.granted_account, self.partner_b, 20.0, 0.0), (self.credit_account, self.partner_b, 0.0, 20.0)],
        )
        self.assertEqual(self.balance(self.partner_b), 20.0)
        self.assert_invariant()

    def test_wizard_topup_product_specific(self):
        __, lines = self._run(
            {
                "operation": "topup",
                "partner_id": self.partner_a.id,
                "amount": 30.0,
                "journal_id": self.cash_journal.id,
                "credit_type": "product",
                "product_id": self.product.id,
            }
        )
        lot = self._lot(lines)
        self.assertRecordValues(lot, [{"credit_type": "product", "product_id": self.product.id, "balance": 30.0}])
        self.assert_move_lines(
            lines.move_id,
            [(self.receipts_account, self.partner_a, 30.0, 0.0), (self.credit_account, self.partner_a, 0.0, 30.0)],
        )
        balances = self.service._get_balances(self.partner_a, product=self.product)
        self.assertEqual((balances["generic"], balances["product"], balances["available"]), (0.0, 30.0, 30.0))
        self.assertEqual(self.service._get_balances(self.partner_a, product=self.other_product)["available"], 0.0)
        # only the product can be paid with it
        with self.assertRaises(UserError):
            self.service._spend(
                self.partner_a, 5.0, product=self.other_product, counterpart_account=self.clearing_account
            )
        with self.assertRaises(UserError):
            self.service._spend(self.partner_a, 5.0, counterpart_account=self.clearing_account)
        spend = self.service._spend(
            self.partner_a, 12.0, product=self.product, counterpart_account=self.clearing_account
        )
        self.assertEqual(spend.lot_id, lot)
        self.assertEqual(lot.balance, 18.0)
        # the product is required on the form
        with self.assertRaisesRegex(UserError, "needs a product"):
            self.Wizard.create(
                {
                    "operation": "topup",
                    "partner_id": self.partner_a.id,
                    "amount": 30.0,
                    "journal_id": self.cash_journal.id,
                    "credit_type": "product",
                }
            ).action_confirm()
        self.assertEqual(self.balance(self.partner_a), 18.0)
        self.assert_invariant()

    def test_partner_credit_balances(self):
        """The partner form shows the total, the generic and the product-specific credit."""
        self.service._topup(self.partner_a, 20.0, self.cash_journal)
        self.service._topup(self.partner_a, 30.0, self.cash_journal, credit_type="product", product=self.product)
        partner = self.partner_a.with_user(self.user_credit)
        self.assertEqual(partner.credit_balance, 50.0)
        self.assertEqual(partner.credit_generic_balance, 20.0)
        self.assertEqual(partner.credit_product_balance, 30.0)
        self.assertEqual(self.service._get_balances(self.partner_a)["product"], 30.0)
        self.assert_invariant()

    def test_wizard_withdraw(self):
        self.service._topup(self.partner_a, 100.0, self.cash_journal)
        action, lines = self._run(
            {
                "operation": "withdraw",
                "partner_id": self.partner_a.id,
                "amount": 30.0,
                "journal_id": self.bank_journal.id,
            }
        )
        self.assertEqual(action, {"type": "ir.actions.act_window_close"})
        self.assertRecordValues(
            lines,
            [{"kind": "withdraw", "amount": -30.0, "partner_balance_before": 100.0, "partner_balance_after": 70.0}],
        )
        self.assert_move_lines(
            lines.move_id,
            [
                (self.credit_account, self.partner_a, 30.0, 0.0),
                (self.payments_account, self.partner_a, 0.0, 30.0),
            ],
        )
        with self.assertRaisesRegex(UserError, "of credit available"):
            self._run(
                {
                    "operation": "withdraw",
                    "partner_id": self.partner_a.id,
                    "amount": 70.01,
                    "journal_id": self.cash_journal.id,
                }
            )
        self.assertEqual(self.balance(self.partner_a), 70.0)
        self.assertEqual(self.gl_balance(self.partner_a), -70.0)
        self.assert_invariant()

    def test_wizard_adjust(self):
        self.service._topup(self.partner_a, 50.0, self.cash_journal)
        __, up = self._run(
            {
                "operation": "adjust",
                "partner_id": self.partner_a.id,
                "amount": 10.0,
                "direction": "increase",
                "reason": "Goodwill gesture",
            }
        )
        self.assertRecordValues(up, [{"kind": "adjust", "amount": 10.0, "reason": "Goodwill gesture"}])
        self.assertRecordValues(self._lot(up), [{"origin": "adjust", "balance": 10.0}])
        self.assert_move_lines(
            up.move_id,
            [(self.granted_account, self.partner_a, 10.0, 0.0), (self.credit_account, self.partner_a, 0.0, 10.0)],
        )
        __, down = self._run(
            {
                "operation": "adjust",
                "partner_id": self.partner_a.id,
                "amount": 4.0,
                "direction": "decrease",
                "reason": "Miscounted top-up",
            }
        )
        self.assertRecordValues(
            down, [{"kind": "adjust", "amount": -4.0, "reason": "Miscounted top-up", "partner_balance_after": 56.0}]
        )
        self.assert_move_lines(
            down.move_id,
            [(self.credit_account, self.partner_a, 4.0, 0.0), (self.granted_account, self.partner_a, 0.0, 4.0)],
        )
        with self.assertRaisesRegex(UserError, "reason"):
            self._run({"operation": "adjust", "partner_id": self.partner_a.id, "amount": 4.0, "direction": "decrease"})
        self.assertEqual(self.balance(self.partner_a), 56.0)
        self.assert_invariant()

    def test_wizard_transfer(self):
        from_lot = self._lot(self.service._topup(self.partner_a, 60.0, self.cash_journal))
        __, lines = self._run(
            {
                "operation": "transfer",
                "partner_id": self.partner_a.id,
                "to_partner_id": self.partner_b.id,
                "amount": 25.0,
            }
        )
        out_line = lines.filtered(lambda line: line.kind == "transfer_out")
        in_line = lines.filtered(lambda line: line.kind == "transfer_in")
        self.assertRecordValues(out_line, [{"partner_id": self.partner_a.id, "amount": -25.0, "lot_id": from_lot.id}])
        self.assertRecordValues(in_line, [{"partner_id": self.partner_b.id, "amount": 25.0}])
        self.assertRecordValues(self._lot(in_line), [{"origin": "transfer", "partner_id": self.partner_b.id}])
        self.assertEqual(len(lines.move_id), 1)
        self.assert_move_lines(
            lines.move_id,
            [(self.credit_account, self.partner_a, 25.0, 0.0), (self.credit_account, self.partner_b, 0.0, 25.0)],
        )
        with self.assertRaisesRegex(UserError, "receives the credit"):
            self._run({"operation": "transfer", "partner_id": self.partner_a.id, "amount": 5.0})
        self.assertEqual(self.balance(self.partner_a), 35.0)
        self.assertEqual(self.balance(self.partner_b), 25.0)
        self.assertEqual(self.gl_balance(self.partner_b), -25.0)
        self.assert_invariant()

    # ---- lot wizard ------------------------------------------------------

    def test_lot_wizard_cancel(self):
        topup = self.service._topup(self.partner_a, 40.0, self.cash_journal)
        lot = self._lot(topup)
        action = lot.with_user(self.user_manager).action_open_lot_wizard()
        self.assertEqual(
            (action["res_model"], action["context"]["default_mode"]), ("customer.credit.lot.wizard", "cancel")
        )
        wizard = self.LotWizard.with_context(**action["context"]).create({"reason": "Entered twice"})
        self.assertEqual((wizard.lot_id, wizard.mode, wizard.balance), (lot, "cancel", 40.0))
        self.assertEqual(wizard.action_confirm(), {"type": "ir.actions.act_window_close"})
        self.assertEqual(lot.state, "cancelled")
        cancel = lot.line_ids.filtered(lambda line: line.kind == "cancel")
        self.assertRecordValues(cancel, [{"amount": -40.0, "reason": "Entered twice", "lot_balance_after": 0.0}])
        self.assertEqual(cancel.move_id.reversed_entry_id, topup.move_id)
        self.assert_move_lines(
            cancel.move_id,
            [(self.credit_account, self.partner_a, 40.0, 0.0), (self.receipts_account, self.partner_a, 0.0, 40.0)],
        )
        self.assertEqual(self.balance(self.partner_a), 0.0)
        self.assertEqual(self.gl_balance(self.partner_a), 0.0)
        self.assert_invariant()

    def test_lot_wizard_expire(self):
        lot = self._lot(self.service._topup(self.partner_a, 40.0, self.cash_journal))
        self.service._spend(self.partner_a, 15.0, counterpart_account=self.clearing_account)
        action = lot.with_user(self.user_manager).with_context(lot_wizard_mode="expire").action_open_lot_wizard()
        wizard = self.LotWizard.with_context(**action["context"]).create({"reason": "Customer left"})
        self.assertEqual((wizard.mode, wizard.balance), ("expire", 25.0))
        wizard.action_confirm()
        # The lot expires on the day of the user who expired it, in that user's time zone.
        today = fields.Date.context_today(lot.with_user(self.user_manager))
        self.assertRecordValues(lot, [{"state": "expired", "balance": 0.0, "expiry_date": today}])
        expire = lot.line_ids.filtered(lambda line: line.kind == "expire")
        self.assertRecordValues(expire, [{"amount": -25.0, "reason": "Customer left", "partner_balance_after": 0.0}])
        self.assert_move_lines(
            expire.move_id,
            [(self.credit_account, self.partner_a, 25.0, 0.0), (self.breakage_account, self.partner_a, 0.0, 25.0)],
        )
        self.assertEqual(self.balance(self.partner_a), 0.0)
        self.assert_invariant()

    # ---- partner actions -------------------------------------------------

    def test_partner_action_view_credit_lines(self):
        self.service._topup(self.partner_a, 10.0, self.cash_journal)
        self.service._topup(self.partner_b, 10.0, self.cash_journal)
        contact = self.env["res.partner"].create({"name": "A's buyer", "parent_id": self.partner_a.id})
        action = contact.with_user(self.user_credit).action_view_credit_lines()
        self.assertEqual(action["type"], "ir.actions.act_window")
        self.assertEqual(action["res_model"], "customer.credit.line")
        self.assertEqual(action["domain"], [("partner_id", "=", self.partner_a.id)])
        self.assertIn(self.partner_a.name, action["name"])
        lines = self.env["customer.credit.line"].with_user(self.user_credit).search(action["domain"])
        self.assertEqual(lines, self._lines(self.partner_a))
        self.assertEqual(lines.mapped("amount"), [10.0])

    def test_partner_action_credit_operation(self):
        self.service._topup(self.partner_a, 50.0, self.cash_journal)
        contact = self.env["res.partner"].create({"name": "A's buyer", "parent_id": self.partner_a.id})
        action = (
            contact.with_user(self.user_manager).with_context(credit_operation="withdraw").action_credit_operation()
        )
        self.assertEqual(
            {key: action[key] for key in ("type", "res_model", "view_mode", "target")},
            {
                "type": "ir.actions.act_window",
                "res_model": "customer.credit.operation.wizard",
                "view_mode": "form",
                "target": "new",
            },
        )
        self.assertEqual(action["context"], {"default_partner_id": self.partner_a.id, "default_operation": "withdraw"})
        wizard = self.Wizard.with_context(**action["context"]).create(
            {"amount": 20.0, "journal_id": self.cash_journal.id}
        )
        self.assertEqual((wizard.partner_id, wizard.operation, wizard.balance), (self.partner_a, "withdraw", 50.0))
        wizard.action_confirm()
        self.assertEqual(self.balance(self.partner_a), 30.0)
        default = self.partner_a.action_credit_operation()
        self.assertEqual(default["context"]["default_operation"], "topup")
        self.assert_invariant()

    # ---- expiry cron -----------------------------------------------------

    def test_cron_record(self):
        cron = self.env.ref("customer_credit.ir_cron_expire_customer_credit")
        self.assertRecordValues(
            cron, [{"active": True, "interval_number": 1, "interval_type": "days", "state": "code"}]
        )
        self.assertEqual(cron.model_id.model, "customer.credit")
        self.assertIn("model._cron_expire()", cron.code)

    def _expirable_domain(self):
        return [("state", "=", "active"), ("expiry_date", "<", self.today)]

    def _lot_expiring(self, partner, amount, days):
        """A lot topped up with a future expiry date, then moved to ``today + days``."""
        lot = self._lot(self.service._topup(partner, amount, self.cash_journal, expiry_date=self.today))
        lot.expiry_date = self.today + timedelta(days=days)
        return lot

    def test_cron_expire_in_batches(self):
        Lot = self.env["customer.credit"]
        Lot._cron_expire()  # whatever was already due in this database
        self.assertFalse(Lot.search_count(self._expirable_domain()))
        lot1 = self._lot_expiring(self.partner_a, 10.0, -3)
        lot2 = self._lot_expiring(self.partner_b, 20.0, -2)
        lot3 = self._lot_expiring(self.partner_a, 30.0, -1)
        used = self._lot_expiring(self.partner_c, 5.0, 0)
        self.service._spend(self.partner_c, 5.0, counterpart_account=self.clearing_account)
        used.expiry_date = self.today - timedelta(days=5)
        today = self._lot_expiring(self.partner_c, 40.0, 0)
        future = self._lot_expiring(self.partner_c, 50.0, 1)
        moves_before = self.env["account.move"].search_count([])

        first = Lot._cron_expire(batch_size=2)
        self.assertEqual(first, lot1 | lot2)
        self.assertEqual((lot1.state, lot2.state, lot3.state), ("expired", "expired", "active"))
        self.assertEqual(self.env["account.move"].search_count([]), moves_before + 2)
        expire1 = lot1.line_ids.filtered(lambda line: line.kind == "expire")
        self.assertRecordValues(expire1, [{"amount": -10.0, "reason": "Expiry date reached"}])
        self.assert_move_lines(
            expire1.move_id,
            [(self.credit_account, self.partner_a, 10.0, 0.0), (self.breakage_account, self.partner_a, 0.0, 10.0)],
        )

        second = Lot._cron_expire(batch_size=2)
        self.assertEqual(second, lot3)
        self.assertEqual(lot3.state, "expired")

        lines_before = self.env["customer.credit.line"].search_count([])
        third = Lot._cron_expire(batch_size=2)
        self.assertFalse(third)
        self.assertEqual(self.env["customer.credit.line"].search_count([]), lines_before)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before + 3)

        self.assertRecordValues(
            used | today | future,
            [
                {"state": "used", "balance": 0.0},
                {"state": "active", "balance": 40.0},
                {"state": "active", "balance": 50.0},
            ],
        )
        for lot in (lot1, lot2, lot3):
            self.assertEqual(len(lot.line_ids.filtered(lambda line: line.kind == "expire")), 1)
        self.assertEqual(self.balance(self.partner_a), 0.0)
        self.assertEqual(self.balance(self.partner_b), 0.0)
        self.assertEqual(self.balance(self.partner_c), 90.0)
        self.assertEqual(self.gl_balance(self.partner_a, account=self.breakage_account), -40.0)
        self.assert_invariant()

    def test_cron_job_runs_expiry(self):
        lot = self._lot_expiring(self.partner_a, 10.0, -1)
        keep = self._lot_expiring(self.partner_b, 10.0, 0)
        self.env.ref("customer_credit.ir_cron_expire_customer_credit").method_direct_trigger()
        self.assertEqual((lot.state, keep.state), ("expired", "active"))
        self.assertEqual(self.balance(self.partner_a), 0.0)
        self.assert_invariant()

    def test_lot_expiring_today_is_usable(self):
        lot = self._lot(self.service._topup(self.partner_a, 40.0, self.cash_journal, expiry_date=self.today))
        self.assertEqual(self.service._get_balances(self.partner_a)["available"], 40.0)
        spend = self.service._spend(self.partner_a, 15.0, counterpart_account=self.clearing_account)
        self.assertEqual(spend.lot_id, lot)
        self.assertNotIn(lot, self.env["customer.credit"]._cron_expire())
        self.assertEqual(lot.state, "active")
        refund = self.service._refund(spend, 5.0)
        self.assertEqual(refund.lot_id, lot, "a lot is valid through its expiry date and takes refunds")
        self.assertEqual(lot.balance, 30.0)
        self.service._transfer(self.partner_a, self.partner_b, 30.0)
        self.assertEqual(lot.state, "used")
        self.assert_invariant()

    # ---- settings ------------------------------------------------------

    def test_settings_write_company(self):
        other_breakage = self.env["account.account"].create(
            {"name": "Other Breakage", "code": "759900", "account_type": "income_other"}
        )
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.credit_account_id, self.credit_account)
        self.assertEqual(settings.credit_journal_id, self.credit_journal)
        settings.write(
            {
                "credit_breakage_account_id": other_breakage.id,
                "credit_send_mail": False,
                "credit_overdraft_limit": 25.0,
                "credit_validity_months": 6,
            }
        )
        settings.execute()
        self.assertRecordValues(
            self.company,
            [
                {
                    "credit_breakage_account_id": other_breakage.id,
                    "credit_send_mail": False,
                    "credit_overdraft_limit": 25.0,
                    "credit_validity_months": 6,
                    "credit_account_id": self.credit_account.id,
                    "credit_journal_id": self.credit_journal.id,
                }
            ],
        )
        # and the service follows them
        topup = self.service._topup(self.partner_a, 10.0, self.cash_journal)
        self.assertEqual(topup.lot_id.expiry_date, self.today + relativedelta(months=6))
        self.assertFalse(self._mails(topup), "no mail when the company turned them off")
        self.partner_a.credit_allow_overdraft = True
        with self.assertRaisesRegex(UserError, "of credit available"):
            self.service._spend(self.partner_a, 35.01, counterpart_account=self.clearing_account)
        self.service._spend(self.partner_a, 35.0, counterpart_account=self.clearing_account)
        expire = self.service._expire(self._lot(self.service._topup(self.partner_b, 5.0, self.cash_journal)))
        self.assert_move_lines(
            expire.move_id,
            [(self.credit_account, self.partner_b, 5.0, 0.0), (other_breakage, self.partner_b, 0.0, 5.0)],
        )
        self.assertEqual(self.balance(self.partner_a), -25.0)
        self.assert_invariant()
