"""Expiry that never stalls, and bad input over RPC (issue 10)."""

import xmlrpc.client
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CustomerCreditCommon

NOT_A_NUMBER = "must be a number"
NOT_FINITE = "must be a finite number"
TOO_LARGE = "is too large"
BAD_AMOUNTS = {
    float("nan"): NOT_FINITE,
    float("inf"): NOT_FINITE,
    float("-inf"): NOT_FINITE,
    "ten": NOT_A_NUMBER,
    "10": NOT_A_NUMBER,
    1e20: TOO_LARGE,
    -1e20: TOO_LARGE,
    1e12 + 1: TOO_LARGE,
}


@tagged("post_install", "-at_install")
class TestExpiryNeverStalls(CustomerCreditCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Lot = cls.env["customer.credit"]
        cls.today = fields.Date.context_today(cls.Lot)
        cls.cron = cls.env.ref("customer_credit.ir_cron_expire_customer_credit")
        cls.Lot._cron_expire(batch_size=10**6)  # whatever was already due in this database

    def _due_lot(self, partner, amount, days_ago):
        lot = self.Lot.browse(self.service._topup(partner, amount, self.cash_journal).lot_id.id)
        lot.expiry_date = self.today - timedelta(days=days_ago)
        return lot

    def _run_job(self, batch_size):
        """Run the expiry as Odoo's cron worker does (``ir.cron._run_job``): again at once while the job
        reports done work and remaining work. Returns ``[(done, remaining, status)]``."""
        runs = []
        for __ in range(10):
            __, progress = self.cron._add_progress()
            self.Lot.with_context(ir_cron_progress_id=progress.id)._cron_expire(batch_size=batch_size)
            if not progress.remaining or not progress.done:
                status = "fully done"
            else:
                status = "partially done"
            runs.append((progress.done, progress.remaining, status))
            if status == "fully done":
                break
        return runs

    def _expire_lines(self, lots):
        return self.env["customer.credit.line"].search([("lot_id", "in", lots.ids), ("kind", "=", "expire")])

    def test_failing_lots_do_not_stall_the_others(self):
        """More failing lots than a batch, all due first: the others still expire, and the job is never
        reported done while one of them remains."""
        failing = self.Lot
        for days in range(10, 5, -1):
            failing |= self._due_lot(self.partner_a, 10.0, days)
        good = self._due_lot(self.partner_b, 20.0, 2) | self._due_lot(self.partner_c, 30.0, 1)
        good |= self._due_lot(self.partner_b, 5.0, 1)
        Service = type(self.env["customer.credit.service"])
        original = Service._expire

        def expire(service, lots, reason=None):
            if lots & failing:
                raise UserError(service.env._("This lot cannot expire today"))
            return original(service, lots, reason=reason)

        self.patch(Service, "_expire", expire)
        with self.assertLogs("odoo.addons.customer_credit.models.customer_credit", "WARNING") as logs:
            runs = self._run_job(batch_size=2)
        self.assertEqual(runs, [(2, 1, "partially done"), (1, 0, "fully done")])
        self.assertTrue(any("could not expire" in message for message in logs.output))
        self.assertEqual(set(good.mapped("state")), {"expired"})
        self.assertEqual(set(failing.mapped("state")), {"active"})
        self.assertEqual(len(self._expire_lines(good)), 3)
        self.assertFalse(self._expire_lines(failing))
        self.assertEqual(self.balance(self.partner_a), 50.0)
        self.assertEqual(self.balance(self.partner_b), 0.0)
        self.assertEqual(self.balance(self.partner_c), 0.0)
        self.assertEqual(self.gl_balance(self.partner_b, account=self.breakage_account), -25.0)
        # nothing left that could expire: the next run does nothing and says so
        self.assertEqual(self._run_job(batch_size=2), [(0, 0, "fully done")])
        self.assert_invariant()

    def test_company_without_breakage_account(self):
        """Its lots wait for the account, without stalling other work, and its credit managers get one
        To-Do, not one per lot nor one per run."""
        self.company.credit_breakage_account_id = False
        lots = self._due_lot(self.partner_a, 10.0, 3) | self._due_lot(self.partner_b, 20.0, 2)
        lots |= self._due_lot(self.partner_c, 30.0, 1)

        def open_todos():
            lot_ids = self.Lot.search([("company_id", "=", self.company.id)]).ids
            return self.env["mail.activity"].search([("res_model", "=", "customer.credit"), ("res_id", "in", lot_ids)])

        for __ in range(3):
            self.assertEqual(self._run_job(batch_size=2), [(0, 0, "fully done")])
        self.Lot._cron_expire(batch_size=1)
        self.assertEqual(set(lots.mapped("state")), {"active"})
        activity = open_todos()
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        self.assertIn(activity.res_id, lots.ids)
        self.assertIn("breakage account", activity.summary)
        self.assertTrue(activity.user_id.has_group("customer_credit.group_customer_credit_manager"))
        self.assertIn(self.company, activity.user_id.company_ids)
        self.assertEqual(self.balance(self.partner_a), 10.0)
        # once the account is set, the lots expire and no new To-Do comes
        self.company.credit_breakage_account_id = self.breakage_account
        self.assertEqual(self._run_job(batch_size=2), [(2, 1, "partially done"), (1, 0, "fully done")])
        self.assertEqual(set(lots.mapped("state")), {"expired"})
        self.assertEqual(open_todos(), activity)
        # done and still no account: one new To-Do the next time
        activity.action_done()
        self.company.credit_breakage_account_id = False
        self._due_lot(self.partner_a, 5.0, 1)
        self._run_job(batch_size=2)
        self._run_job(batch_size=2)
        self.assertEqual(len(open_todos()), 1)
        self.assertEqual(self.balance(self.partner_b), 0.0)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestBadInput(CustomerCreditCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lot = cls.env["customer.credit"].browse(
            cls.service._topup(cls.partner_a, 100.0, cls.cash_journal).lot_id.id
        )
        cls.Wizard = cls.env["customer.credit.operation.wizard"].with_user(cls.user_manager)
        cls.LotWizard = cls.env["customer.credit.lot.wizard"].with_user(cls.user_manager)

    def _wizard_vals(self, operation, amount):
        vals = {"operation": operation, "partner_id": self.partner_a.id, "amount": amount}
        vals.update(
            {
                "topup": {"journal_id": self.cash_journal.id},
                "withdraw": {"journal_id": self.cash_journal.id},
                "adjust": {"direction": "decrease", "reason": "Counting error"},
                "transfer": {"to_partner_id": self.partner_b.id},
                "spend": {},
            }[operation]
        )
        return vals

    def test_operation_wizard_refuses_bad_amounts(self):
        """As XML-RPC calls it: the service's clear message, not a crash in Odoo's float rounding."""
        for amount, message in BAD_AMOUNTS.items():
            for operation in ("topup", "withdraw", "adjust", "transfer", "spend"):
                with self.subTest(amount=amount, operation=operation):
                    self.assert_rejected(UserError, message, self.Wizard.create, self._wizard_vals(operation, amount))
        wizard = self.Wizard.create(self._wizard_vals("topup", 10.0))
        for amount, message in BAD_AMOUNTS.items():
            with self.subTest(write=amount):
                self.assert_rejected(UserError, message, wizard.write, {"amount": amount})
                self.assertEqual(wizard.amount, 10.0)
        # and the amounts shown only (balance, amount due) are no way in either
        for fname in ("balance", "invoice_residual"):
            for amount, message in BAD_AMOUNTS.items():
                with self.subTest(field=fname, amount=amount):
                    self.assert_rejected(
                        UserError, message, self.Wizard.create, {**self._wizard_vals("topup", 10.0), fname: amount}
                    )
                    self.assert_rejected(UserError, message, wizard.write, {fname: amount})
        wizard.action_confirm()
        self.assertEqual(self.balance(self.partner_a), 110.0)
        self.assert_invariant()

    def test_lot_wizard_refuses_bad_amounts(self):
        vals = {"lot_id": self.lot.id, "mode": "cancel", "reason": "Entered twice"}
        for amount, message in BAD_AMOUNTS.items():
            with self.subTest(amount=amount):
                self.assert_rejected(UserError, message, self.LotWizard.create, {**vals, "balance": amount})
        wizard = self.LotWizard.create(vals)
        for amount, message in BAD_AMOUNTS.items():
            with self.subTest(write=amount):
                self.assert_rejected(UserError, message, wizard.write, {"balance": amount})
        self.assertEqual(wizard.balance, 100.0)
        wizard.action_confirm()
        self.assertEqual(self.lot.state, "cancelled")
        self.assertEqual(self.balance(self.partner_a), 0.0)
        self.assert_invariant()

    def test_good_amounts_still_pass(self):
        wizard = self.Wizard.create({**self._wizard_vals("topup", 25), "balance": 100.0})
        self.assertEqual(wizard.amount, 25.0)
        wizard.write({"amount": 1e12})
        self.assertEqual(wizard.amount, 1e12)
        wizard.write({"amount": 30.5})
        wizard.action_confirm()
        self.assertEqual(self.balance(self.partner_a), 130.5)
        self.assert_invariant()

    # ---- overdraft limits -------------------------------------------------------

    def test_overdraft_limit_of_zero_means_zero(self):
        self.company.credit_overdraft_limit = 30.0
        self.partner_a.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 0.0})
        self.partner_b.write({"credit_allow_overdraft": True})
        self.partner_c.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 10.0})
        self.env.invalidate_all()
        self.assertEqual(self.service._get_balances(self.partner_a)["available"], 100.0)
        self.assertEqual(self.service._get_balances(self.partner_b)["available"], 30.0, "the company's default")
        self.assertEqual(self.service._get_balances(self.partner_c)["available"], 10.0)
        self.assert_rejected(
            UserError,
            "has only .*100.00 of credit available",
            self.service._spend,
            self.partner_a,
            100.01,
            counterpart_account=self.clearing_account,
        )
        self.service._spend(self.partner_b, 30.0, counterpart_account=self.clearing_account)
        self.assertEqual(self.balance(self.partner_b), -30.0)
        # the company's default changes: who has no limit of their own follows it, a 0 stays 0
        self.company.credit_overdraft_limit = 50.0
        self.assertEqual(self.service._get_balances(self.partner_a)["available"], 100.0)
        self.assertEqual(self.service._get_balances(self.partner_b)["available"], 20.0)
        self.assertEqual(self.partner_a.credit_overdraft_limit, 0.0)
        self.assertEqual(self.partner_b.credit_overdraft_limit, 50.0, "the form shows the default it follows")
        self.assert_invariant()

    def test_negative_overdraft_limit_refused(self):
        self.partner_a.credit_allow_overdraft = True
        self.assert_rejected(
            ValidationError, "cannot be negative", self.partner_a.write, {"credit_overdraft_limit": -10.0}
        )
        self.assert_rejected(
            ValidationError,
            "cannot be negative",
            self.env["res.partner"].create,
            {"name": "Negative", "credit_overdraft_limit": -1.0},
        )
        self.assert_rejected(
            ValidationError, "cannot be negative", self.company.write, {"credit_overdraft_limit": -5.0}
        )
        self.assert_rejected(
            ValidationError,
            "cannot be negative",
            self.env["res.config.settings"].create,
            {"credit_overdraft_limit": -5.0},
        )
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestBadInputOverXmlRpc(HttpCase):
    def test_nan_amount_over_xmlrpc(self):
        manager = new_test_user(
            self.env, login="cc_rpc_manager", groups="base.group_user,customer_credit.group_customer_credit_manager"
        )
        partner = self.env["res.partner"].create({"name": "RPC Customer"})
        before = self.env["customer.credit.operation.wizard"].sudo().search_count([])
        for amount, message in ((float("nan"), NOT_FINITE), (float("inf"), NOT_FINITE), (1e20, TOO_LARGE)):
            with self.subTest(amount=amount):
                with self.assertRaises(xmlrpc.client.Fault) as fault:
                    self.xmlrpc_object.execute(
                        self.env.cr.dbname,
                        manager.id,
                        "cc_rpc_manager",
                        "customer.credit.operation.wizard",
                        "create",
                        [{"operation": "topup", "partner_id": partner.id, "amount": amount}],
                    )
                self.assertIn(message, fault.exception.faultString)
                self.assertNotIn("Traceback", fault.exception.faultString.splitlines()[0])
        self.assertEqual(self.env["customer.credit.operation.wizard"].sudo().search_count([]), before)
