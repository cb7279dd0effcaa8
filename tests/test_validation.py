import re
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import format_amount

from .common import CustomerCreditCommon


@tagged("post_install", "-at_install")
class TestCustomerCreditValidation(CustomerCreditCommon):
    """Every bad input is refused with a clear error and leaves ledger, lots and books untouched."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["customer.credit"])
        cls.receivable = cls.partner_a.property_account_receivable_id
        cls.sale_journal = cls.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", cls.company.id)], limit=1
        )
        cls.other_currency = (
            cls.env["res.currency"].with_context(active_test=False).search([("id", "!=", cls.currency.id)], limit=1)
        )
        cls.company2 = cls.env["res.company"].create({"name": "Credit Validation Co 2"})
        cls.env["account.chart.template"].try_loading("generic_coa", company=cls.company2, install_demo=False)
        cls.cash_journal2 = cls.env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", cls.company2.id)], limit=1
        )
        cls.partner_other_company = cls.env["res.partner"].create(
            {"name": "Customer of Company 2", "company_id": cls.company2.id}
        )
        # browse again: the service returns its records in sudo with its own context
        Lot = cls.env["customer.credit"]
        cls.lot_a = Lot.browse(cls.service._topup(cls.partner_a, 100.0, cls.cash_journal).lot_id.id)
        cls.lot_b = Lot.browse(cls.service._topup(cls.partner_b, 20.0, cls.cash_journal).lot_id.id)

    # ---- helpers -------------------------------------------------------

    def only(self, available, amount=None):
        """The message of a movement refused for lack of credit."""
        pattern = f"has only {re.escape(format_amount(self.env, available, self.currency))} of credit available"
        if amount is not None:
            pattern += f" for {re.escape(format_amount(self.env, amount, self.currency))}"
        return pattern

    def _lot(self, lines):
        """The lot of the service's ``lines``, as the test user sees it (not in the service's sudo)."""
        return self.env["customer.credit"].browse(lines.lot_id.id)

    def _all_movements(self, amount):
        """Each amount-taking movement of the service, called with ``amount``."""
        return {
            "topup": lambda: self.service._topup(self.partner_a, amount, self.cash_journal),
            "granted": lambda: self.service._topup(self.partner_a, amount, granted=True),
            "spend": lambda: self.service._spend(self.partner_a, amount, counterpart_account=self.clearing_account),
            "withdraw": lambda: self.service._withdraw(self.partner_a, amount, self.cash_journal),
            "transfer": lambda: self.service._transfer(self.partner_a, self.partner_b, amount),
            "adjust": lambda: self.service._adjust(self.partner_a, amount, "Counting error"),
        }

    # ---- amounts -------------------------------------------------------

    def test_amount_not_positive(self):
        for amount in (-10.0, -0.01, 0, 0.0, -0.0):
            for name, call in self._all_movements(amount).items():
                if name == "adjust" and amount:
                    continue  # a negative adjustment is a decrease (see test_no_overdraft_beyond_balance)
                with self.subTest(movement=name, amount=amount):
                    self.assert_rejected(UserError, "must be positive", call)
        self.assertEqual(self.balance(self.partner_a), 100.0)
        self.assert_invariant()

    def test_amount_not_finite(self):
        for amount in (float("nan"), float("inf"), float("-inf")):
            for name, call in self._all_movements(amount).items():
                with self.subTest(movement=name, amount=amount):
                    self.assert_rejected(UserError, "finite", call)
        self.assertEqual(self.balance(self.partner_a), 100.0)
        self.assert_invariant()

    def test_amount_not_a_number(self):
        for amount in ("10", "ten", None, [10.0], True, False):
            for name, call in self._all_movements(amount).items():
                with self.subTest(movement=name, amount=amount):
                    self.assert_rejected(UserError, "must be a number", call)
        self.assertEqual(self.balance(self.partner_a), 100.0)
        self.assert_invariant()

    def test_amount_more_decimals_than_currency(self):
        self.assertEqual(self.currency.decimal_places, 2)
        for amount in (10.005, 0.001, 99.999, 10.0001):
            for name, call in self._all_movements(amount).items():
                with self.subTest(movement=name, amount=amount):
                    self.assert_rejected(UserError, "more decimals than", call)
        for amount in (-10.005, -0.001):
            with self.subTest(movement="adjust", amount=amount):
                self.assert_rejected(
                    UserError, "more decimals than", self.service._adjust, self.partner_a, amount, "Counting error"
                )
        self.assertEqual(self.balance(self.partner_a), 100.0)
        self.assert_invariant()

    def test_amount_float_noise_is_not_extra_decimals(self):
        """0.1 + 0.2 is 0.30000000000000004 as a float: it is 0.30, not an amount with extra decimals."""
        lines = self.service._topup(self.partner_c, 0.1 + 0.2, self.cash_journal)
        self.assertEqual(lines.amount, 0.3)
        self.assert_move_lines(
            lines.move_id,
            [(self.receipts_account, self.partner_c, 0.3, 0.0), (self.credit_account, self.partner_c, 0.0, 0.3)],
        )
        self.assertEqual(self.balance(self.partner_c), 0.3)
        self.assert_invariant()

    # ---- balance and overdraft -----------------------------------------

    def test_no_overdraft_beyond_balance(self):
        self.assertFalse(self.partner_a.credit_allow_overdraft)
        pattern = self.only(100.0, 100.01)
        self.assert_rejected(
            UserError, pattern, self.service._spend, self.partner_a, 100.01, counterpart_account=self.clearing_account
        )
        self.assert_rejected(UserError, pattern, self.service._withdraw, self.partner_a, 100.01, self.cash_journal)
        self.assert_rejected(UserError, pattern, self.service._transfer, self.partner_a, self.partner_b, 100.01)
        self.assert_rejected(UserError, pattern, self.service._adjust, self.partner_a, -100.01, "Counting error")
        # the whole balance can be spent, not a cent more
        lines = self.service._spend(self.partner_a, 100.0, counterpart_account=self.clearing_account)
        self.assertEqual(lines.lot_id, self.lot_a)
        self.assertEqual(self.lot_a.state, "used")
        self.assert_rejected(
            UserError,
            self.only(0.0),
            self.service._spend,
            self.partner_a,
            0.01,
            counterpart_account=self.clearing_account,
        )
        self.assertEqual(self.balance(self.partner_a), 0.0)
        self.assert_invariant()

    def test_overdraft_limit_of_partner(self):
        self.partner_a.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 50.0})
        self.assert_rejected(
            UserError,
            self.only(150.0),
            self.service._spend,
            self.partner_a,
            150.01,
            counterpart_account=self.clearing_account,
        )
        # spending exactly down to the limit is fine
        lines = self.service._spend(self.partner_a, 150.0, counterpart_account=self.clearing_account)
        self.assertEqual(sorted(lines.mapped("amount")), [-100.0, -50.0])
        self.assertEqual(lines.filtered(lambda line: not line.lot_id).amount, -50.0)
        self.assertEqual(self.balance(self.partner_a), -50.0)
        self.assert_move_lines(
            lines.move_id,
            [(self.credit_account, self.partner_a, 150.0, 0.0), (self.clearing_account, self.partner_a, 0.0, 150.0)],
        )
        # then not a cent more, and overdraft is never withdrawn, transferred or adjusted away
        self.assert_rejected(
            UserError,
            self.only(0.0),
            self.service._spend,
            self.partner_a,
            0.01,
            counterpart_account=self.clearing_account,
        )
        self.assert_rejected(UserError, self.only(0.0), self.service._withdraw, self.partner_a, 1.0, self.cash_journal)
        self.assert_rejected(UserError, self.only(0.0), self.service._transfer, self.partner_a, self.partner_b, 1.0)
        self.assert_rejected(UserError, self.only(0.0), self.service._adjust, self.partner_a, -1.0, "Counting error")
        self.assertEqual(self.balance(self.partner_a), -50.0)
        self.assertEqual(self.gl_balance(self.partner_a), 50.0)
        self.assert_invariant()

    def test_overdraft_limit_of_company_by_default(self):
        self.company.credit_overdraft_limit = 30.0
        self.partner_b.credit_allow_overdraft = True
        self.assert_rejected(
            UserError,
            self.only(50.0),
            self.service._spend,
            self.partner_b,
            50.01,
            counterpart_account=self.clearing_account,
        )
        # not allowed unless asked: withdraw and spend(allow_overdraft=False) never overdraw
        self.assert_rejected(
            UserError,
            self.only(20.0),
            self.service._spend,
            self.partner_b,
            20.01,
            allow_overdraft=False,
            counterpart_account=self.clearing_account,
        )
        self.service._spend(self.partner_b, 50.0, counterpart_account=self.clearing_account)
        self.assertEqual(self.balance(self.partner_b), -30.0)
        # customers not allowed to overdraw do not get the company limit
        self.assert_rejected(
            UserError,
            self.only(100.0),
            self.service._spend,
            self.partner_a,
            100.01,
            counterpart_account=self.clearing_account,
        )
        self.assert_invariant()

    # ---- lots that can no longer be used -------------------------------

    def test_spend_from_lot_past_its_expiry_date(self):
        lot = self._lot(self.service._topup(self.partner_c, 40.0, self.cash_journal, expiry_date=self.today))
        lot.expiry_date = self.today - timedelta(days=1)  # the cron has not run yet: state still active
        self.assertEqual(lot.state, "active")
        self.assert_rejected(
            UserError,
            self.only(0.0),
            self.service._spend,
            self.partner_c,
            10.0,
            counterpart_account=self.clearing_account,
        )
        self.assert_rejected(UserError, self.only(0.0), self.service._withdraw, self.partner_c, 10.0, self.cash_journal)
        self.assert_rejected(UserError, self.only(0.0), self.service._transfer, self.partner_c, self.partner_a, 10.0)
        self.assertEqual(self.service._get_balances(self.partner_c)["available"], 0.0)
        self.assertEqual(lot.balance, 40.0)
        self.assert_invariant()

    def test_spend_from_expired_lot(self):
        lot = self._lot(self.service._topup(self.partner_c, 40.0, self.cash_journal))
        self.service._expire(lot)
        self.assertEqual(lot.state, "expired")
        self.assert_rejected(
            UserError,
            self.only(0.0),
            self.service._spend,
            self.partner_c,
            10.0,
            counterpart_account=self.clearing_account,
        )
        self.assert_rejected(UserError, "already expired", self.service._expire, lot)
        self.assert_rejected(UserError, "already expired", self.service._cancel, lot)
        self.assertEqual(self.balance(self.partner_c), 0.0)
        self.assert_invariant()

    def test_refund_never_goes_back_into_expired_lot(self):
        lot = self._lot(self.service._topup(self.partner_c, 40.0, self.cash_journal, expiry_date=self.today))
        spend = self.service._spend(self.partner_c, 15.0, counterpart_account=self.clearing_account)
        self.assertEqual(spend.lot_id, lot)
        lot.expiry_date = self.today - timedelta(days=1)
        lots_before = self.env["customer.credit"].search([("partner_id", "=", self.partner_c.id)])
        refund = self.service._refund(spend)
        self.assertEqual(lot.balance, 25.0, "the lot past its date takes nothing back")
        new_lot = self.env["customer.credit"].search([("partner_id", "=", self.partner_c.id)]) - lots_before
        self.assertEqual(len(new_lot), 1)
        self.assertRecordValues(
            new_lot,
            [{"origin": "refund", "credit_type": "generic", "amount": 15.0, "balance": 15.0, "state": "active"}],
        )
        self.assertRecordValues(
            refund, [{"kind": "refund", "amount": 15.0, "lot_id": new_lot.id, "refunded_line_id": spend.id}]
        )
        self.assert_move_lines(
            refund.move_id,
            [(self.clearing_account, self.partner_c, 15.0, 0.0), (self.credit_account, self.partner_c, 0.0, 15.0)],
        )
        self.assertEqual(self.balance(self.partner_c), 40.0)
        self.assert_invariant()

    def test_refund_of_expired_lot_after_expiry(self):
        lot = self._lot(self.service._topup(self.partner_c, 40.0, self.cash_journal))
        spend = self.service._spend(self.partner_c, 15.0, counterpart_account=self.clearing_account)
        self.service._expire(lot)
        refund = self.service._refund(spend, 5.0)
        self.assertEqual(lot.balance, 0.0)
        self.assertEqual(lot.state, "expired")
        self.assertNotEqual(refund.lot_id, lot)
        self.assertEqual(refund.lot_id.origin, "refund")
        self.assertEqual(refund.lot_id.balance, 5.0)
        self.assertEqual(self.balance(self.partner_c), 5.0)
        self.assert_invariant()

    def test_refund_limits(self):
        spend = self.service._spend(self.partner_a, 30.0, counterpart_account=self.clearing_account)
        self.assert_rejected(UserError, r"At most \$\s30\.00", self.service._refund, spend, 30.01)
        self.assert_rejected(UserError, "must be positive", self.service._refund, spend, 0.0)
        self.assert_rejected(UserError, "more decimals", self.service._refund, spend, 1.001)
        self.assert_rejected(
            UserError, "Select the credit payment", self.service._refund, self.env["customer.credit.line"]
        )
        topup = self.env["customer.credit.line"].search([("lot_id", "=", self.lot_a.id), ("kind", "=", "topup")])
        self.assert_rejected(UserError, "one credit payment at a time", self.service._refund, topup)
        self.service._refund(spend, 30.0)
        self.assert_rejected(UserError, "already been refunded in full", self.service._refund, spend)
        self.assertEqual(self.balance(self.partner_a), 100.0)
        self.assert_invariant()

    def test_cancelled_lot(self):
        lot = self._lot(self.service._topup(self.partner_c, 50.0, self.cash_journal))
        self.service._cancel(lot)
        self.assertEqual(lot.state, "cancelled")
        self.assert_rejected(
            UserError,
            self.only(0.0),
            self.service._spend,
            self.partner_c,
            10.0,
            counterpart_account=self.clearing_account,
        )
        self.assert_rejected(UserError, "already cancelled", self.service._cancel, lot)
        self.assert_rejected(UserError, "already cancelled", self.service._expire, lot)
        self.assertEqual(self.balance(self.partner_c), 0.0)
        self.assertEqual(self.gl_balance(self.partner_c), 0.0)
        self.assert_invariant()

    def test_cancel_used_lot(self):
        self.service._spend(self.partner_a, 1.0, counterpart_account=self.clearing_account)
        self.assert_rejected(UserError, "already been used", self.service._cancel, self.lot_a)
        transfer_lot = self._lot(
            self.service._transfer(self.partner_b, self.partner_c, 5.0).filtered(
                lambda line: line.kind == "transfer_in"
            )
        )
        self.assert_rejected(UserError, "Only top-ups can be cancelled", self.service._cancel, transfer_lot)
        self.assert_invariant()

    # ---- customers, companies, journals, currencies --------------------

    def test_partner_of_another_company(self):
        other = self.partner_other_company
        calls = {
            "topup": lambda: self.service._topup(other, 10.0, self.cash_journal),
            "granted": lambda: self.service._topup(other, 10.0, granted=True),
            "spend": lambda: self.service._spend(other, 10.0, counterpart_account=self.clearing_account),
            "withdraw": lambda: self.service._withdraw(other, 10.0, self.cash_journal),
            "adjust": lambda: self.service._adjust(other, 10.0, "Counting error"),
            "transfer from": lambda: self.service._transfer(other, self.partner_a, 10.0),
            "transfer to": lambda: self.service._transfer(self.partner_a, other, 10.0),
        }
        for name, call in calls.items():
            with self.subTest(movement=name):
                self.assert_rejected(UserError, "belongs to another company", call)
        # a contact of a company-bound customer is refused too (the commercial partner decides)
        contact = self.env["res.partner"].create({"name": "Contact", "parent_id": other.id})
        self.assert_rejected(
            UserError, "belongs to another company", self.service._topup, contact, 10.0, self.cash_journal
        )
        self.assert_invariant(self.company | self.company2)

    def test_journal_of_another_company(self):
        self.assertTrue(self.cash_journal2)
        self.assert_rejected(
            UserError, "belongs to another company", self.service._topup, self.partner_a, 10.0, self.cash_journal2
        )
        self.assert_rejected(
            UserError, "belongs to another company", self.service._withdraw, self.partner_a, 10.0, self.cash_journal2
        )
        self.assert_invariant(self.company | self.company2)

    def test_journal_not_cash_or_bank(self):
        for journal in (self.sale_journal, self.credit_journal):
            with self.subTest(journal=journal.name):
                self.assert_rejected(
                    UserError, "is not a cash or bank journal", self.service._topup, self.partner_a, 10.0, journal
                )
                self.assert_rejected(
                    UserError, "is not a cash or bank journal", self.service._withdraw, self.partner_a, 10.0, journal
                )
        no_journal = self.env["account.journal"]
        self.assert_rejected(UserError, "Select the cash or bank journal", self.service._topup, self.partner_a, 10.0)
        self.assert_rejected(
            UserError, "Select the cash or bank journal", self.service._withdraw, self.partner_a, 10.0, no_journal
        )
        # a bank journal is fine
        lines = self.service._withdraw(self.partner_a, 10.0, self.bank_journal)
        self.assert_move_lines(
            lines.move_id,
            [
                (self.credit_account, self.partner_a, 10.0, 0.0),
                (self.payments_account, self.partner_a, 0.0, 10.0),
            ],
        )
        self.assert_invariant()

    def test_no_partner(self):
        nobody = self.env["res.partner"]
        calls = {
            "topup": lambda: self.service._topup(nobody, 10.0, self.cash_journal),
            "spend": lambda: self.service._spend(nobody, 10.0, counterpart_account=self.clearing_account),
            "withdraw": lambda: self.service._withdraw(nobody, 10.0, self.cash_journal),
            "adjust": lambda: self.service._adjust(nobody, 10.0, "Counting error"),
            "transfer from": lambda: self.service._transfer(nobody, self.partner_a, 10.0),
            "transfer to": lambda: self.service._transfer(self.partner_a, nobody, 10.0),
        }
        for name, call in calls.items():
            with self.subTest(movement=name):
                self.assert_rejected(UserError, "Select a customer", call)
        self.assert_invariant()

    def test_currency_mismatch(self):
        self.assertTrue(self.other_currency)
        other = self.other_currency
        calls = {
            "topup": lambda: self.service._topup(self.partner_a, 10.0, self.cash_journal, currency=other),
            "spend": lambda: self.service._spend(
                self.partner_a, 10.0, currency=other, counterpart_account=self.clearing_account
            ),
            "withdraw": lambda: self.service._withdraw(self.partner_a, 10.0, self.cash_journal, currency=other),
            "adjust": lambda: self.service._adjust(self.partner_a, 10.0, "Counting error", currency=other),
            "transfer": lambda: self.service._transfer(self.partner_a, self.partner_b, 10.0, currency=other),
        }
        for name, call in calls.items():
            with self.subTest(movement=name):
                self.assert_rejected(UserError, f"kept in {self.currency.name}, not in {other.name}", call)
        # the company currency itself is accepted
        self.service._spend(self.partner_a, 10.0, currency=self.currency, counterpart_account=self.clearing_account)
        self.assertEqual(self.balance(self.partner_a), 90.0)
        self.assert_invariant()

    # ---- top-up specifics ---------------------------------------------

    def test_product_topup_needs_product(self):
        self.assert_rejected(
            UserError,
            "needs a product",
            self.service._topup,
            self.partner_a,
            10.0,
            self.cash_journal,
            credit_type="product",
        )
        self.assert_rejected(
            UserError,
            "cannot be bound to a product",
            self.service._topup,
            self.partner_a,
            10.0,
            self.cash_journal,
            product=self.product,
        )
        self.assert_rejected(
            UserError,
            "Unknown credit type",
            self.service._topup,
            self.partner_a,
            10.0,
            self.cash_journal,
            credit_type="gift",
        )
        self.assert_invariant()

    def test_topup_expiry_in_the_past(self):
        yesterday = self.today - timedelta(days=1)
        for expiry in (yesterday, fields.Date.to_string(yesterday)):
            with self.subTest(expiry=expiry):
                self.assert_rejected(
                    UserError,
                    "cannot be in the past",
                    self.service._topup,
                    self.partner_a,
                    10.0,
                    self.cash_journal,
                    expiry_date=expiry,
                )
                self.assert_rejected(
                    UserError,
                    "cannot be in the past",
                    self.service._topup,
                    self.partner_a,
                    10.0,
                    granted=True,
                    expiry_date=expiry,
                )
        self.assert_invariant()

    def test_transfer_to_self(self):
        contact = self.env["res.partner"].create({"name": "A's contact", "parent_id": self.partner_a.id})
        for to_partner in (self.partner_a, contact):
            with self.subTest(to=to_partner.name):
                self.assert_rejected(
                    UserError, "to another customer", self.service._transfer, self.partner_a, to_partner, 10.0
                )
        self.assert_rejected(UserError, "to another customer", self.service._transfer, contact, self.partner_a, 10.0)
        self.assert_invariant()

    def test_adjust_without_reason(self):
        for reason in (None, False, "", "   ", "\n"):
            for amount in (10.0, -10.0):
                with self.subTest(reason=reason, amount=amount):
                    self.assert_rejected(UserError, "reason", self.service._adjust, self.partner_a, amount, reason)
        self.assert_invariant()

    # ---- ledger and lots are only written by the service ---------------

    def test_ledger_lines_cannot_be_written(self):
        line = self.lot_a.line_ids
        self.assertEqual(len(line), 1)
        for env in (
            self.env,
            self.env(su=True),
            self.env(context=dict(self.env.context, customer_credit_service=True)),
        ):
            for vals in (
                {"amount": 1000.0},
                {"partner_id": self.partner_b.id},
                {"lot_id": self.lot_b.id},
                {"name": "x"},
            ):
                with self.subTest(vals=vals, su=env.su, context=env.context.get("customer_credit_service")):
                    self.assert_rejected(UserError, "cannot be modified", line.with_env(env).write, vals)
        self.assertEqual(line.amount, 100.0)
        self.assert_invariant()

    def test_ledger_lines_cannot_be_deleted(self):
        lines = self.env["customer.credit.line"].search([("partner_id", "in", (self.partner_a | self.partner_b).ids)])
        self.assertEqual(len(lines), 2)
        self.assert_rejected(UserError, "cannot be deleted", lines.unlink)
        self.assert_rejected(UserError, "cannot be deleted", lines.sudo().unlink)
        self.assert_rejected(UserError, "cannot be deleted", lines.with_context(customer_credit_service=True).unlink)
        self.assert_invariant()

    def test_lots_and_lines_are_not_created_by_hand(self):
        lot_vals = {
            "partner_id": self.partner_a.id,
            "company_id": self.company.id,
            "currency_id": self.currency.id,
            "amount": 500.0,
        }
        self.assert_rejected(UserError, "not by hand", self.env["customer.credit"].create, lot_vals)
        self.assert_rejected(UserError, "not by hand", self.env["customer.credit"].sudo().create, lot_vals)
        line_vals = {
            "kind": "topup",
            "amount": 500.0,
            "partner_id": self.partner_a.id,
            "company_id": self.company.id,
            "currency_id": self.currency.id,
            "lot_id": self.lot_a.id,
        }
        self.assert_rejected(UserError, "credit service only", self.env["customer.credit.line"].create, line_vals)
        self.assert_rejected(
            UserError, "credit service only", self.env["customer.credit.line"].sudo().create, line_vals
        )
        self.assertEqual(self.lot_a.balance, 100.0)
        self.assert_invariant()

    def test_lot_protected_fields(self):
        lot = self.lot_a
        protected = {
            "amount": 500.0,
            "partner_id": self.partner_b.id,
            "company_id": self.company2.id,
            "currency_id": self.other_currency.id,
            "credit_type": "product",
            "product_id": self.product.id,
            "end_state": "cancelled",
            "state": "cancelled",
            "balance": 500.0,
            "move_id": self.lot_b.move_id.id,
            "origin": "granted",
        }
        for fname, value in protected.items():
            with self.subTest(field=fname):
                self.assert_rejected(UserError, "only change through credit movements", lot.write, {fname: value})
        self.assertRecordValues(
            lot, [{"amount": 100.0, "balance": 100.0, "state": "active", "partner_id": self.partner_a.id}]
        )
        self.assertEqual(self.service._get_balances(self.partner_a)["available"], 100.0)
        self.assert_invariant()

    def test_lot_notes_and_expiry_date_can_be_written(self):
        lot = self.lot_a
        before = self._snapshot()
        next_year = self.today + timedelta(days=365)
        lot.write({"notes": "Birthday present", "expiry_date": next_year})
        self.env.invalidate_all()
        self.assertRecordValues(
            lot, [{"notes": "Birthday present", "expiry_date": next_year, "balance": 100.0, "state": "active"}]
        )
        after = self._snapshot()
        for key in ("lines", "lots", "moves", "move_lines", "balances", "gl"):
            self.assertEqual(after[key], before[key], key)
        self.assert_invariant()

    def test_lot_cannot_be_deleted(self):
        self.assert_rejected(UserError, "never deleted", self.lot_a.unlink)
        self.assert_rejected(UserError, "never deleted", self.lot_a.sudo().unlink)
        lot = self._lot(self.service._topup(self.partner_c, 5.0, self.cash_journal))
        self.service._cancel(lot)
        self.assert_rejected(UserError, "never deleted", lot.unlink)
        self.assert_invariant()
