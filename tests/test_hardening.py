"""Ways around the one door that a review found, each closed and kept closed."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import CustomerCreditCommon


@tagged("post_install", "-at_install")
class TestHardening(CustomerCreditCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env,
            login="cc_accountant",
            groups="account.group_account_user,account.group_account_invoice,customer_credit.group_customer_credit_user",
        )
        cls.salesman = new_test_user(
            cls.env, login="cc_salesman", groups="sales_team.group_sale_salesman,base.group_partner_manager"
        )

    def test_posted_credit_items_cannot_be_moved(self):
        line = self.service._topup(self.partner_a, 100.0, self.cash_journal)
        credit_item = line.move_id.line_ids.filtered(lambda aml: aml.account_id == self.credit_account)
        as_accountant = credit_item.with_user(self.accountant)
        self.assert_rejected(UserError, "cannot be changed", as_accountant.write, {"partner_id": self.partner_b.id})
        self.assert_rejected(
            UserError, "cannot be changed", as_accountant.write, {"account_id": self.granted_account.id}
        )
        # nor can another posted item be moved onto the Customer Credit account
        other = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": self.credit_journal.id,
                "line_ids": [
                    (0, 0, {"account_id": self.granted_account.id, "partner_id": self.partner_a.id, "credit": 70.0}),
                    (0, 0, {"account_id": self.cash_journal.default_account_id.id, "debit": 70.0}),
                ],
            }
        )
        other.action_post()
        item = other.line_ids.filtered(lambda aml: aml.account_id == self.granted_account).with_user(self.accountant)
        self.assert_rejected(UserError, "cannot be changed", item.write, {"account_id": self.credit_account.id})
        self.assertEqual(self.gl_balance(self.partner_a), -100.0)
        self.assert_invariant()

    def test_credit_account_fixed_once_used(self):
        self.service._topup(self.partner_a, 10.0, self.cash_journal)
        with self.assertRaisesRegex(UserError, "cannot be changed once credit movements exist"):
            self.company.credit_account_id = self.granted_account
        self.assertEqual(self.company.credit_account_id, self.credit_account)

    def test_foreign_currency_invoice_refused(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        if eur == self.currency:
            eur = self.env.ref("base.USD")
            eur.active = True
        self.env["res.currency.rate"].create({"currency_id": eur.id, "rate": 2.0, "name": fields.Date.today()})
        self.service._topup(self.partner_a, 300.0, self.cash_journal)
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_a.id,
                "currency_id": eur.id,
                "invoice_line_ids": [(0, 0, {"name": "Service", "quantity": 1, "price_unit": 100.0, "tax_ids": []})],
            }
        )
        invoice.action_post()
        self.assert_rejected(
            UserError, "cannot be settled with it", self.service._spend, self.partner_a, 50.0, invoice=invoice
        )
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_granted_credit_is_for_managers(self):
        as_user = self.service.with_user(self.user_credit)
        self.assert_rejected(AccessError, None, as_user._topup, self.partner_a, 500.0, granted=True)
        lines = self.service.with_user(self.user_manager)._topup(self.partner_a, 5.0, granted=True)
        self.assertEqual(lines.lot_id.origin, "granted")
        self.assert_invariant()

    def test_overdraft_settings_are_for_managers(self):
        partner = self.partner_a.with_user(self.salesman)
        with self.assertRaises(AccessError):
            partner.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 1e6})
        self.assertFalse(self.partner_a.credit_allow_overdraft)
        manager = new_test_user(
            self.env,
            login="cc_manager_contacts",
            groups="customer_credit.group_customer_credit_manager,base.group_partner_manager",
        )
        self.partner_a.with_user(manager).write({"credit_allow_overdraft": True})
        self.assertTrue(self.partner_a.credit_allow_overdraft)

    def test_balances_hidden_from_users_without_credit_group(self):
        self.service._topup(self.partner_a, 123.0, self.cash_journal)
        with self.assertRaises(AccessError):
            self.partner_a.with_user(self.user_plain).read(["credit_balance"])
        self.assertEqual(self.partner_a.with_user(self.user_credit).credit_balance, 123.0)

    def test_expiry_date_is_for_managers(self):
        lot = self.service._topup(self.partner_a, 100.0, self.cash_journal).lot_id
        self.assert_rejected(
            UserError, "Credit Manager", lot.with_user(self.user_credit).write, {"expiry_date": "2020-01-01"}
        )
        lot.with_user(self.user_manager).write({"expiry_date": fields.Date.today() + timedelta(days=10)})
        self.assertEqual(lot.expiry_date, fields.Date.today() + timedelta(days=10))

    def test_transfer_keeps_the_earliest_expiry(self):
        soon = fields.Date.today() + timedelta(days=3)
        self.service._topup(self.partner_a, 40.0, self.cash_journal, expiry_date=soon)
        self.service._topup(self.partner_a, 40.0, self.cash_journal, expiry_date=soon + timedelta(days=30))
        lines = self.service._transfer(self.partner_a, self.partner_b, 60.0)
        received = lines.filtered(lambda line: line.kind == "transfer_in").lot_id
        self.assertEqual(received.expiry_date, soon)
        back = self.service._transfer(self.partner_b, self.partner_a, 60.0)
        self.assertEqual(back.filtered(lambda line: line.kind == "transfer_in").lot_id.expiry_date, soon)
        self.assert_invariant()

    def test_links_cannot_overwrite_ledger_fields(self):
        self.assert_rejected(
            UserError,
            "source documents",
            self.service._topup,
            self.partner_a,
            100.0,
            self.cash_journal,
            links={"amount": 1.0},
        )

    def test_attaching_a_customer_with_credit_to_a_company_is_refused(self):
        self.service._topup(self.partner_c, 80.0, self.cash_journal)
        company = self.env["res.partner"].create({"name": "Credit Co", "is_company": True})
        with self.assertRaisesRegex(UserError, "transfer it to the company"):
            self.partner_c.parent_id = company
        self.assertFalse(self.partner_c.parent_id)
        # once the credit is transferred, the contact can join the company
        self.service._transfer(self.partner_c, company, 80.0)
        self.partner_c.parent_id = company
        self.assertEqual(self.partner_c.credit_balance, 80.0)
        self.assert_invariant()

    def test_wizard_refuses_negative_adjustment(self):
        self.service._topup(self.partner_a, 100.0, self.cash_journal)
        # refused as soon as the wizard is saved (issue 10: amounts checked in create/write)
        self.assert_rejected(
            UserError,
            "must be positive",
            self.env["customer.credit.operation.wizard"].with_user(self.user_manager).create,
            {
                "operation": "adjust",
                "direction": "decrease",
                "partner_id": self.partner_a.id,
                "amount": -10.0,
                "reason": "typo",
            },
        )
        self.assertEqual(self.balance(self.partner_a), 100.0)

    def test_refund_keeps_to_the_users_companies(self):
        company2 = self.env["res.company"].create({"name": "Hardening Co 2", "currency_id": self.currency.id})
        self.env["account.chart.template"].try_loading("generic_coa", company=company2, install_demo=False)
        cash2 = self.env["account.journal"].search([("type", "=", "cash"), ("company_id", "=", company2.id)], limit=1)
        service2 = self.service.with_company(company2)
        service2._topup(self.partner_a, 50.0, cash2, company=company2)
        spend = service2._spend(
            self.partner_a, 20.0, company=company2, counterpart_account=company2.credit_clearing_account_id
        )
        self.assert_rejected(
            UserError, "cannot record credit in the company", self.service.with_user(self.user_credit)._refund, spend
        )
        self.assert_invariant(self.company | company2)

    def test_cron_goes_on_past_a_lot_that_cannot_expire(self):
        lot_a = self.service._topup(self.partner_a, 10.0, self.cash_journal).lot_id
        lot_b = self.service._topup(self.partner_b, 20.0, self.cash_journal).lot_id
        past = fields.Date.today() - timedelta(days=1)
        self.env.cr.execute("UPDATE customer_credit SET expiry_date = %s WHERE id IN %s", (past, (lot_a.id, lot_b.id)))
        self.env.invalidate_all()
        Service = type(self.env["customer.credit.service"])
        original = Service._expire

        def expire(service, lots, reason=None):
            if lots == lot_a:
                raise UserError(service.env._("no breakage account"))
            return original(service, lots, reason=reason)

        self.patch(Service, "_expire", expire)
        done = self.env["customer.credit"]._cron_expire()
        self.assertIn(lot_b, done)
        self.assertNotIn(lot_a, done)
        self.assertEqual((lot_a.state, lot_b.state), ("active", "expired"))
        self.assert_invariant()

    def test_overdraft_is_allowed_per_company(self):
        company2 = self.env["res.company"].create({"name": "Hardening Co 3", "currency_id": self.currency.id})
        self.env["account.chart.template"].try_loading("generic_coa", company=company2, install_demo=False)
        self.partner_a.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 40.0})
        self.service._spend(self.partner_a, 30.0, counterpart_account=self.clearing_account)
        self.assertEqual(self.balance(self.partner_a), -30.0)
        service2 = self.service.with_company(company2)
        self.assert_rejected(
            UserError,
            "only",
            service2._spend,
            self.partner_a,
            30.0,
            company=company2,
            counterpart_account=company2.credit_clearing_account_id,
        )
        self.assertFalse(self.partner_a.with_company(company2).credit_allow_overdraft)
        self.assert_invariant(self.company | company2)
