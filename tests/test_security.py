import re

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import format_amount

from .common import CustomerCreditCommon


@tagged("post_install", "-at_install")
class TestCustomerCreditSecurity(CustomerCreditCommon):
    """Access rights: Credit User, Credit Manager, plain internal user, portal user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receivable = cls.partner_a.property_account_receivable_id
        Lot = cls.env["customer.credit"]
        cls.lot_a = Lot.browse(cls.service._topup(cls.partner_a, 100.0, cls.cash_journal).lot_id.id)
        cls.lot_b = Lot.browse(cls.service._topup(cls.partner_b, 50.0, cls.cash_journal).lot_id.id)
        # a portal user who is a contact of a customer company with credit
        cls.portal_company = cls.env["res.partner"].create({"name": "Portal Customer Co", "is_company": True})
        cls.user_portal = new_test_user(cls.env, login="cc_portal", groups="base.group_portal")
        cls.user_portal.partner_id.parent_id = cls.portal_company
        cls.lot_portal = Lot.browse(cls.service._topup(cls.portal_company, 30.0, cls.cash_journal).lot_id.id)

    def test_credit_user_reads_lots_and_lines(self):
        env = self.env(user=self.user_credit)
        lots = env["customer.credit"].search([("partner_id", "in", (self.partner_a | self.partner_b).ids)])
        self.assertEqual(lots, self.lot_a | self.lot_b)
        self.assertEqual(
            lots.read(["balance", "state"]),
            [
                {"id": self.lot_b.id, "balance": 50.0, "state": "active"},
                {"id": self.lot_a.id, "balance": 100.0, "state": "active"},
            ],
        )
        lines = env["customer.credit.line"].search([("partner_id", "=", self.partner_a.id)])
        self.assertEqual(lines.mapped("amount"), [100.0])
        self.assertEqual(lines.lot_id, self.lot_a)
        self.assertEqual(self.partner_a.with_user(self.user_credit).credit_balance, 100.0)

    def test_credit_user_topup_spend_transfer_refund(self):
        service = self.service.with_user(self.user_credit)
        topup = service._topup(self.partner_c, 40.0, self.cash_journal)
        self.assertRecordValues(topup, [{"kind": "topup", "amount": 40.0, "user_id": self.user_credit.id}])
        self.assert_move_lines(
            topup.move_id,
            [(self.receipts_account, self.partner_c, 40.0, 0.0), (self.credit_account, self.partner_c, 0.0, 40.0)],
        )
        spend = service._spend(self.partner_c, 15.0, counterpart_account=self.clearing_account)
        self.assert_move_lines(
            spend.move_id,
            [(self.credit_account, self.partner_c, 15.0, 0.0), (self.clearing_account, self.partner_c, 0.0, 15.0)],
        )
        transfer = self.service.with_user(self.user_manager)._transfer(self.partner_c, self.partner_b, 5.0)
        self.assertEqual(sorted(transfer.mapped("kind")), ["transfer_in", "transfer_out"])
        self.assert_move_lines(
            transfer.move_id,
            [(self.credit_account, self.partner_c, 5.0, 0.0), (self.credit_account, self.partner_b, 0.0, 5.0)],
        )
        refund = service._refund(spend, 10.0)
        self.assertEqual(refund.amount, 10.0)
        self.assertEqual(self.balance(self.partner_c), 30.0)
        self.assertEqual(self.balance(self.partner_b), 55.0)
        self.assert_invariant()

    def test_credit_user_operation_wizard(self):
        Wizard = self.env["customer.credit.operation.wizard"].with_user(self.user_credit)
        wizard = Wizard.create(
            {"operation": "topup", "partner_id": self.partner_c.id, "amount": 25.0, "journal_id": self.cash_journal.id}
        )
        action = wizard.action_confirm()
        lot = self.env["customer.credit"].browse(action["res_id"])
        self.assertRecordValues(
            lot, [{"partner_id": self.partner_c.id, "amount": 25.0, "user_id": self.user_credit.id}]
        )
        # moving credit between customers is the Credit Manager's (store roles)
        wizard = Wizard.create(
            {
                "operation": "transfer",
                "partner_id": self.partner_c.id,
                "to_partner_id": self.partner_b.id,
                "amount": 5.0,
            }
        )
        self.assert_rejected(AccessError, "not allowed", wizard.action_confirm)
        self.assertEqual(self.balance(self.partner_c), 25.0)
        self.assertEqual(self.balance(self.partner_b), 50.0)
        self.assert_invariant()

    def test_credit_user_operation_wizard_form(self):
        """The top-up form as the user fills it in: the cash journal is proposed by the onchange."""
        with Form(self.env["customer.credit.operation.wizard"].with_user(self.user_credit)) as form:
            form.partner_id = self.partner_c
            form.amount = 12.0
            self.assertEqual(form.journal_id, self.cash_journal)
        form.record.action_confirm()
        self.assertEqual(self.balance(self.partner_c), 12.0)
        self.assert_invariant()

    def test_credit_user_denied_manager_movements(self):
        service = self.service.with_user(self.user_credit)
        lot_a = self.lot_a.with_user(self.user_credit)
        self.assert_rejected(AccessError, None, service._withdraw, self.partner_a, 10.0, self.cash_journal)
        self.assert_rejected(AccessError, None, service._adjust, self.partner_a, 10.0, "Goodwill")
        self.assert_rejected(AccessError, None, service._adjust, self.partner_a, -10.0, "Counting error")
        self.assert_rejected(AccessError, None, service._cancel, lot_a, reason="Mistake")
        self.assert_rejected(AccessError, None, service._expire, lot_a, reason="Too old")
        Wizard = self.env["customer.credit.operation.wizard"].with_user(self.user_credit)
        for vals in (
            {"operation": "withdraw", "amount": 10.0, "journal_id": self.cash_journal.id},
            {"operation": "adjust", "amount": 10.0, "direction": "increase", "reason": "Goodwill"},
            {"operation": "adjust", "amount": 10.0, "direction": "decrease", "reason": "Counting error"},
        ):
            with self.subTest(vals=vals):
                wizard = Wizard.create({"partner_id": self.partner_a.id, **vals})
                self.assert_rejected(AccessError, None, wizard.action_confirm)
        LotWizard = self.env["customer.credit.lot.wizard"].with_user(self.user_credit)
        for mode in ("cancel", "expire"):
            with self.subTest(mode=mode):
                self.assert_rejected(
                    AccessError, None, LotWizard.create, {"lot_id": self.lot_a.id, "mode": mode, "reason": "x"}
                )
        self.assertEqual(self.balance(self.partner_a), 100.0)
        self.assert_invariant()

    def test_credit_user_cannot_change_lot_amounts(self):
        """A Credit User may write lots (notes, expiry date) but not their money, owner or state,
        not even by sending the service's context key along (any RPC caller can set a context)."""
        lot = self.lot_a.with_user(self.user_credit)
        lot.write({"notes": "VIP customer"})
        self.assertEqual(self.lot_a.notes, "VIP customer")
        for vals in ({"balance": 1000.0}, {"state": "cancelled"}, {"amount": 1000.0}, {"end_state": "cancelled"}):
            with self.subTest(vals=vals):
                self.assert_rejected(UserError, None, lot.write, vals)
        forged = lot.with_context(customer_credit_service=True)
        for vals in (
            {"amount": 1000.0},
            {"balance": 1000.0},
            {"partner_id": self.partner_b.id},
            {"end_state": "cancelled"},
        ):
            with self.subTest(forged=vals):
                self.assert_rejected(UserError, None, forged.write, vals)
        self.assert_rejected(
            AccessError,
            None,
            self.env["customer.credit"].with_user(self.user_credit).with_context(customer_credit_service=True).create,
            {"partner_id": self.partner_c.id, "currency_id": self.currency.id, "amount": 1000.0},
        )
        self.assert_rejected(UserError, None, lot.unlink)
        line = self.lot_a.line_ids.with_user(self.user_credit)
        self.assert_rejected(UserError, None, line.write, {"amount": 1000.0})
        self.assert_rejected(UserError, None, line.unlink)
        # the customer still has exactly what was paid
        self.assertEqual(self.service._get_balances(self.partner_a)["available"], 100.0)
        self.assert_rejected(UserError, None, self.service.with_user(self.user_credit)._spend, self.partner_a, 100.01)
        self.assert_invariant()

    # ---- Credit Manager ------------------------------------------------

    def test_credit_manager_does_everything(self):
        service = self.service.with_user(self.user_manager)
        topup = service._topup(self.partner_c, 80.0, self.cash_journal)
        lot_c = self.env["customer.credit"].browse(topup.lot_id.id)
        service._spend(self.partner_c, 10.0, counterpart_account=self.clearing_account)
        withdraw = service._withdraw(self.partner_c, 20.0, self.cash_journal)
        self.assert_move_lines(
            withdraw.move_id,
            [(self.credit_account, self.partner_c, 20.0, 0.0), (self.payments_account, self.partner_c, 0.0, 20.0)],
        )
        up = service._adjust(self.partner_c, 7.0, "Goodwill")
        self.assertRecordValues(
            up, [{"kind": "adjust", "amount": 7.0, "reason": "Goodwill", "user_id": self.user_manager.id}]
        )
        self.assert_move_lines(
            up.move_id,
            [(self.granted_account, self.partner_c, 7.0, 0.0), (self.credit_account, self.partner_c, 0.0, 7.0)],
        )
        down = service._adjust(self.partner_c, -2.0, "Counting error")
        self.assert_move_lines(
            down.move_id,
            [(self.credit_account, self.partner_c, 2.0, 0.0), (self.granted_account, self.partner_c, 0.0, 2.0)],
        )
        service._transfer(self.partner_c, self.partner_b, 5.0)
        expire = service._expire(lot_c, reason="Too old")
        # 80 - 10 spent - 20 withdrawn - 2 adjusted down - 5 transferred (the +7 made a lot of its own)
        self.assertEqual(expire.amount, -43.0)
        self.assert_move_lines(
            expire.move_id,
            [(self.credit_account, self.partner_c, 43.0, 0.0), (self.breakage_account, self.partner_c, 0.0, 43.0)],
        )
        self.assertEqual(lot_c.state, "expired")
        cancel = service._cancel(self.lot_b.with_user(self.user_manager), reason="Mistake")
        self.assertEqual(cancel.amount, -50.0)
        self.assertEqual(self.lot_b.state, "cancelled")
        self.assertEqual(self.balance(self.partner_c), 7.0)  # the adjustment lot stays
        self.assertEqual(self.balance(self.partner_b), 5.0)
        self.assertEqual(self.gl_balance(self.partner_b), -5.0)
        self.assert_invariant()

    def test_credit_manager_lot_wizard(self):
        LotWizard = self.env["customer.credit.lot.wizard"].with_user(self.user_manager)
        LotWizard.create({"lot_id": self.lot_b.id, "mode": "cancel", "reason": "Mistake"}).action_confirm()
        LotWizard.create({"lot_id": self.lot_a.id, "mode": "expire", "reason": "Too old"}).action_confirm()
        self.assertEqual(self.lot_b.state, "cancelled")
        self.assertEqual(self.lot_a.state, "expired")
        self.assertEqual(self.balance(self.partner_a), 0.0)
        self.assertEqual(self.balance(self.partner_b), 0.0)
        self.assert_invariant()

    # ---- internal user without the group -------------------------------

    def test_plain_user_denied(self):
        service = self.service.with_user(self.user_plain)
        self.assert_rejected(AccessError, None, service._topup, self.partner_a, 10.0, self.cash_journal)
        self.assert_rejected(AccessError, None, service._topup, self.partner_a, 10.0, granted=True)
        self.assert_rejected(
            AccessError, None, service._spend, self.partner_a, 10.0, counterpart_account=self.clearing_account
        )
        self.assert_rejected(AccessError, None, service._transfer, self.partner_a, self.partner_b, 10.0)
        self.assert_rejected(AccessError, None, service._withdraw, self.partner_a, 10.0, self.cash_journal)
        self.assert_rejected(AccessError, None, service._adjust, self.partner_a, 10.0, "Goodwill")
        self.assert_rejected(AccessError, None, service._refund, self.lot_a.line_ids)
        env = self.env(user=self.user_plain)
        with self.assertRaises(AccessError):
            env["customer.credit"].search([])
        with self.assertRaises(AccessError):
            self.lot_a.with_user(self.user_plain).read(["balance"])
        with self.assertRaises(AccessError):
            env["customer.credit.line"].search([])
        self.assert_rejected(
            AccessError,
            None,
            env["customer.credit.operation.wizard"].create,
            {"partner_id": self.partner_a.id, "amount": 10.0, "journal_id": self.cash_journal.id},
        )
        self.assert_invariant()

    # ---- portal ----------------------------------------------------------

    def test_portal_reads_only_own_credit(self):
        self.assertEqual(self.user_portal.commercial_partner_id, self.portal_company)
        env = self.env(user=self.user_portal)
        lots = env["customer.credit"].search([])
        self.assertEqual(lots, self.lot_portal)
        self.assertEqual(lots.read(["balance"]), [{"id": self.lot_portal.id, "balance": 30.0}])
        lines = env["customer.credit.line"].search([])
        self.assertEqual(lines, self.lot_portal.line_ids)
        self.assertEqual(lines.partner_id, self.portal_company)
        self.assertFalse(env["customer.credit"].search([("partner_id", "=", self.partner_a.id)]))
        with self.assertRaises(AccessError):
            self.lot_a.with_user(self.user_portal).read(["balance"])
        with self.assertRaises(AccessError):
            self.lot_a.line_ids.with_user(self.user_portal).read(["amount"])

    def test_portal_cannot_write_or_create(self):
        lot = self.lot_portal.with_user(self.user_portal)
        self.assert_rejected(AccessError, None, lot.write, {"notes": "mine"})
        self.assert_rejected(AccessError, None, lot.write, {"expiry_date": "2099-01-01"})
        self.assert_rejected(UserError, None, lot.unlink)
        forged = self.env["customer.credit"].with_user(self.user_portal).with_context(customer_credit_service=True)
        self.assert_rejected(
            AccessError,
            None,
            forged.create,
            {"partner_id": self.portal_company.id, "currency_id": self.currency.id, "amount": 1000.0},
        )
        self.assert_rejected(
            AccessError,
            None,
            self.env["customer.credit.line"]
            .with_user(self.user_portal)
            .with_context(customer_credit_service=True)
            .create,
            {
                "kind": "topup",
                "amount": 1000.0,
                "partner_id": self.portal_company.id,
                "company_id": self.company.id,
                "currency_id": self.currency.id,
            },
        )
        service = self.service.with_user(self.user_portal)
        self.assert_rejected(AccessError, None, service._topup, self.portal_company, 10.0, self.cash_journal)
        self.assert_rejected(
            AccessError, None, service._spend, self.portal_company, 10.0, counterpart_account=self.clearing_account
        )
        self.assert_rejected(AccessError, None, service._transfer, self.portal_company, self.partner_a, 10.0)
        self.assertEqual(self.balance(self.portal_company), 30.0)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestCustomerCreditMultiCompany(CustomerCreditCommon):
    """A company created later gets its credit accounting from its chart; record rules split companies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company2 = cls.env["res.company"].create({"name": "Credit Company 2", "currency_id": cls.currency.id})
        cls.env["account.chart.template"].try_loading("generic_coa", company=cls.company2, install_demo=False)
        cls.cash_journal2 = cls.env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", cls.company2.id)], limit=1
        )
        cls.service2 = cls.service.with_company(cls.company2)
        cls.user_multi = new_test_user(
            cls.env,
            login="cc_multi",
            groups="base.group_user,base.group_multi_company,customer_credit.group_customer_credit_user",
            company_id=cls.company.id,
            company_ids=[Command.set((cls.company | cls.company2).ids)],
        )
        Lot = cls.env["customer.credit"]
        cls.lot1 = Lot.browse(cls.service._topup(cls.partner_a, 100.0, cls.cash_journal).lot_id.id)
        cls.lot2 = Lot.browse(cls.service2._topup(cls.partner_a, 70.0, cls.cash_journal2).lot_id.id)

    def only(self, available):
        """The message of a movement refused for lack of credit."""
        return f"has only {re.escape(format_amount(self.env, available, self.currency))} of credit available"

    def test_new_company_gets_credit_accounting(self):
        company2 = self.company2.with_company(self.company2)
        expected = {
            "credit_account_id": ("liability_current", True),
            "credit_clearing_account_id": ("asset_receivable", True),
            "credit_breakage_account_id": ("income_other", False),
            "credit_granted_account_id": ("expense", False),
        }
        for fname, (account_type, reconcile) in expected.items():
            with self.subTest(field=fname):
                account = company2[fname]
                self.assertTrue(account, f"{fname} is not set on the new company")
                self.assertEqual(account.company_ids, self.company2)
                self.assertEqual(account.account_type, account_type)
                self.assertEqual(account.reconcile, reconcile)
                self.assertTrue(account.code)
                self.assertNotEqual(account, self.company[fname])
        journal = company2.credit_journal_id
        self.assertRecordValues(
            journal,
            [
                {
                    "is_credit_journal": True,
                    "type": "general",
                    "company_id": self.company2.id,
                    "default_account_id": company2.credit_account_id.id,
                }
            ],
        )
        self.assertNotEqual(journal, self.credit_journal)

    def test_lots_of_other_company_invisible(self):
        self.assertEqual(self.user_credit.company_ids, self.company)
        env = self.env(user=self.user_credit)
        lots = env["customer.credit"].search([("partner_id", "=", self.partner_a.id)])
        self.assertEqual(lots, self.lot1)
        lines = env["customer.credit.line"].search([("partner_id", "=", self.partner_a.id)])
        self.assertEqual(lines, self.lot1.line_ids)
        with self.assertRaises(AccessError):
            self.lot2.with_user(self.user_credit).read(["balance"])
        with self.assertRaises(AccessError):
            self.lot2.line_ids.with_user(self.user_credit).read(["amount"])
        # a user of both companies sees what the selected companies hold
        Lot = self.env["customer.credit"].with_user(self.user_multi)
        partner_domain = [("partner_id", "=", self.partner_a.id)]
        self.assertEqual(Lot.with_context(allowed_company_ids=self.company.ids).search(partner_domain), self.lot1)
        self.assertEqual(Lot.with_context(allowed_company_ids=self.company2.ids).search(partner_domain), self.lot2)
        both = (self.company | self.company2).ids
        self.assertEqual(Lot.with_context(allowed_company_ids=both).search(partner_domain), self.lot1 | self.lot2)

    def test_user_cannot_record_in_other_company(self):
        before = self.env["customer.credit.line"].sudo().search_count([])
        with self.assertRaisesRegex(UserError, "cannot record credit in the company"):
            self.service.with_user(self.user_credit)._topup(
                self.partner_a, 10.0, self.cash_journal2, company=self.company2
            )
        with self.assertRaisesRegex(UserError, "cannot record credit in the company"):
            self.service.with_user(self.user_credit)._spend(
                self.partner_a, 10.0, company=self.company2, counterpart_account=self.clearing_account
            )
        self.assertEqual(self.env["customer.credit.line"].sudo().search_count([]), before)
        self.assertEqual(self.balance(self.partner_a, self.company2), 70.0)
        self.assert_invariant(self.company | self.company2)

    def test_movements_post_in_their_company(self):
        company2 = self.company2
        credit2 = company2.credit_account_id
        cash2 = (
            self.env["account.payment"].new({"journal_id": self.cash_journal2.id})._get_outstanding_account("inbound")
        )
        receivable2 = self.partner_a.with_company(company2).property_account_receivable_id
        self.assertNotEqual(receivable2, self.partner_a.property_account_receivable_id)
        topup = self.env["customer.credit.line"].search([("lot_id", "=", self.lot2.id)])
        self.assertRecordValues(topup, [{"company_id": company2.id, "amount": 70.0}])
        self.assertRecordValues(topup.move_id, [{"company_id": company2.id, "journal_id": self.cash_journal2.id}])
        self.assert_move_lines(
            topup.move_id, [(cash2, self.partner_a, 70.0, 0.0), (credit2, self.partner_a, 0.0, 70.0)]
        )
        # a Credit User of both companies spends and transfers in company 2 only
        service = self.service.with_user(self.user_multi).with_company(company2)
        clearing2 = company2.credit_clearing_account_id
        spend = service._spend(self.partner_a, 30.0, counterpart_account=clearing2)
        self.assertEqual(spend.lot_id, self.lot2)
        # (read as the accountant: the credit user has no access to journal entries)
        self.assertRecordValues(
            spend.move_id.sudo(), [{"company_id": company2.id, "journal_id": company2.credit_journal_id.id}]
        )
        self.assert_move_lines(
            spend.move_id, [(credit2, self.partner_a, 30.0, 0.0), (clearing2, self.partner_a, 0.0, 30.0)]
        )
        # (moving credit between customers is the Credit Manager's)
        transfer = self.service.with_company(company2)._transfer(self.partner_a, self.partner_b, 15.0, company=company2)
        self.assertEqual(transfer.company_id, company2)
        self.assert_move_lines(
            transfer.move_id, [(credit2, self.partner_a, 15.0, 0.0), (credit2, self.partner_b, 0.0, 15.0)]
        )
        # company 2 credit is not spendable in company 1 and the other way round
        with self.assertRaisesRegex(UserError, self.only(25.0)):
            service._spend(self.partner_a, 25.01, counterpart_account=clearing2)
        with self.assertRaisesRegex(UserError, self.only(15.0)):
            self.service.with_user(self.user_multi)._spend(
                self.partner_b, 15.01, company=company2, counterpart_account=clearing2
            )
        with self.assertRaisesRegex(UserError, self.only(0.0)):
            self.service.with_user(self.user_multi).with_company(self.company)._spend(
                self.partner_b, 1.0, counterpart_account=self.clearing_account
            )
        self.assertEqual(self.balance(self.partner_a, company2), 25.0)
        self.assertEqual(self.balance(self.partner_b, company2), 15.0)
        self.assertEqual(self.balance(self.partner_a), 100.0)
        self.assertEqual(self.gl_balance(self.partner_a, company2), -25.0)
        self.assertEqual(self.gl_balance(self.partner_a), -100.0)
        self.assertEqual(self.partner_a.with_company(company2).credit_balance, 25.0)
        self.assertEqual(self.partner_a.with_company(self.company).credit_balance, 100.0)
        self.assert_invariant(self.company | self.company2)

    def test_operation_wizard_in_second_company(self):
        wizard = (
            self.env["customer.credit.operation.wizard"]
            .with_user(self.user_multi)
            .create(
                {
                    "operation": "topup",
                    "company_id": self.company2.id,
                    "partner_id": self.partner_c.id,
                    "amount": 20.0,
                    "journal_id": self.cash_journal2.id,
                }
            )
        )
        action = wizard.action_confirm()
        lot = self.env["customer.credit"].browse(action["res_id"])
        self.assertRecordValues(
            lot, [{"company_id": self.company2.id, "amount": 20.0, "partner_id": self.partner_c.id}]
        )
        self.assertEqual(lot.move_id.journal_id, self.cash_journal2)
        self.assertEqual(self.balance(self.partner_c, self.company2), 20.0)
        self.assertEqual(self.balance(self.partner_c), 0.0)
        self.assert_invariant(self.company | self.company2)
