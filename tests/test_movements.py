"""Credit movements through the service: ledger lines, lots and the posted journal entries."""

import random
import re
from collections import Counter
from datetime import date
from itertools import pairwise

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CustomerCreditCommon


class NothingToDo(Exception):
    """A random operation found nothing to work on (not a refusal of the service)."""


class MovementCase(CustomerCreditCommon):
    """Helpers shared by the movement tests (no tests of its own)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Lot = cls.env["customer.credit"]
        cls.Line = cls.env["customer.credit.line"]
        cls.receivable_a = cls.partner_a.property_account_receivable_id
        cls.receivable_b = cls.partner_b.property_account_receivable_id
        cls.today = fields.Date.context_today(cls.Lot)

    # ---- helpers -------------------------------------------------------

    def days(self, count):
        return fields.Date.add(self.today, days=count)

    def assertAmount(self, got, want, msg=None):
        self.assertEqual(self.currency.compare_amounts(got, want), 0, msg or f"{got} != {want}")

    def assertLine(self, line, kind, amount, lot, before, after, lot_before=0.0, lot_after=0.0, partner=None):
        """One ledger line: kind, signed amount, lot (False for overdraft), partner and lot balances."""
        line.ensure_one()
        self.assertEqual(line.kind, kind)
        self.assertAmount(line.amount, amount)
        self.assertEqual(line.lot_id, lot or self.Lot)
        if partner:
            self.assertEqual(line.partner_id, partner)
        self.assertAmount(line.partner_balance_before, before, "partner balance before")
        self.assertAmount(line.partner_balance_after, after, "partner balance after")
        self.assertAmount(line.lot_balance_before, lot_before, "lot balance before")
        self.assertAmount(line.lot_balance_after, lot_after, "lot balance after")

    def topup(self, partner, amount, journal=None, **kwargs):
        if not kwargs.get("granted"):
            journal = journal or self.cash_journal
        return self.service._topup(partner, amount, journal, **kwargs)

    def lot_of(self, lines):
        lot = lines.lot_id
        lot.ensure_one()
        return lot

    def overdraft(self, partner):
        lines = self.Line.search([("partner_id", "=", partner.id), ("company_id", "=", self.company.id)])
        return self.currency.round(sum(lines.filtered(lambda line: not line.lot_id).mapped("amount")))

    def ledger_totals(self, partners):
        """Per partner: (ledger balance, overdraft), straight from the database."""
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT partner_id, COALESCE(SUM(amount), 0), COALESCE(SUM(amount) FILTER (WHERE lot_id IS NULL), 0)
                 FROM customer_credit_line
                WHERE partner_id IN %s AND company_id = %s
                GROUP BY partner_id""",
            (tuple(p.id for p in partners), self.company.id),
        )
        rows = {pid: (total, overdraft) for pid, total, overdraft in self.env.cr.fetchall()}
        return {p: tuple(self.currency.round(v) for v in rows.get(p.id, (0.0, 0.0))) for p in partners}

    def snapshot(self):
        """Everything a movement may change, read from the database."""
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT (SELECT count(*) FROM customer_credit_line),
                      (SELECT count(*) FROM customer_credit),
                      (SELECT count(*) FROM account_move),
                      (SELECT count(*) FROM account_move_line),
                      (SELECT count(*) FROM account_partial_reconcile),
                      (SELECT count(*) FROM mail_mail),
                      (SELECT md5(string_agg(concat_ws(':', id, balance, state, end_state, expiry_date), ','
                                             ORDER BY id)) FROM customer_credit)"""
        )
        return self.env.cr.fetchone()

    def mails_since(self, last_id):
        return self.env["mail.mail"].sudo().search([("id", ">", last_id)])

    def last_mail_id(self):
        return self.env["mail.mail"].sudo().search([], order="id desc", limit=1).id or 0


@tagged("post_install", "-at_install")
class TestTopup(MovementCase):
    def _assert_lot_name(self, lot):
        match = re.match(r"^ACC-(\d{4})(\d{2})(\d{2})-(\d{8})$", lot.name)
        self.assertTrue(match, f"{lot.name} is not ACC-YYYYMMDD-XXXXXXXX")
        stamp = date(int(match[1]), int(match[2]), int(match[3]))
        self.assertIn(stamp, {self.today, fields.Date.today()})

    def test_topup_cash(self):
        lines = self.topup(self.partner_a, 100.0, self.cash_journal)
        lot = self.lot_of(lines)
        self.assertLine(lines, "topup", 100.0, lot, 0.0, 100.0, 0.0, 100.0, partner=self.partner_a)
        self._assert_lot_name(lot)
        self.assertEqual(lot.state, "active")
        self.assertEqual(lot.origin, "manual")
        self.assertEqual(lot.credit_type, "generic")
        self.assertEqual(lot.partner_id, self.partner_a)
        self.assertAmount(lot.amount, 100.0)
        self.assertAmount(lot.balance, 100.0)
        self.assertEqual(lot.move_id, lines.move_id)
        move = lines.move_id
        self.assertEqual(move.journal_id, self.cash_journal)
        self.assert_move_lines(
            move,
            [(self.receipts_account, self.partner_a, 100.0, 0.0), (self.credit_account, self.partner_a, 0.0, 100.0)],
        )
        self.assertAmount(self.gl_balance(self.partner_a), -100.0)
        self.assertAmount(self.gl_balance(self.partner_a, account=self.receipts_account), 100.0)
        self.assertAmount(self.balance(self.partner_a), 100.0)

        # a second top-up makes a second lot and chains the partner balance
        second = self.topup(self.partner_a, 25.5, self.cash_journal)
        self.assertLine(second, "topup", 25.5, second.lot_id, 100.0, 125.5, 0.0, 25.5)
        self.assertNotEqual(second.lot_id, lot)
        self._assert_lot_name(second.lot_id)
        self.assertNotEqual(second.lot_id.name, lot.name)
        self.assertAmount(self.gl_balance(self.partner_a), -125.5)
        self.assert_invariant()

    def test_topup_bank(self):
        lines = self.topup(self.partner_b, 42.42, self.bank_journal)
        lot = self.lot_of(lines)
        self.assertLine(lines, "topup", 42.42, lot, 0.0, 42.42, 0.0, 42.42, partner=self.partner_b)
        self.assert_move_lines(
            lines.move_id,
            [(self.receipts_account, self.partner_b, 42.42, 0.0), (self.credit_account, self.partner_b, 0.0, 42.42)],
        )
        self.assertAmount(self.gl_balance(self.partner_b, account=self.receipts_account), 42.42)
        self.assert_invariant()

    def test_topup_granted(self):
        lines = self.service._topup(self.partner_a, 30.0, granted=True)
        lot = self.lot_of(lines)
        self.assertLine(lines, "topup", 30.0, lot, 0.0, 30.0, 0.0, 30.0)
        self.assertEqual(lot.origin, "granted")
        self.assertEqual(lot.state, "active")
        self.assert_move_lines(
            lines.move_id,
            [(self.granted_account, self.partner_a, 30.0, 0.0), (self.credit_account, self.partner_a, 0.0, 30.0)],
        )
        self.assertAmount(self.gl_balance(self.partner_a, account=self.granted_account), 30.0)
        self.assert_invariant()

    def test_topup_product(self):
        expiry = self.days(90)
        lines = self.topup(self.partner_a, 20.0, credit_type="product", product=self.product, expiry_date=expiry)
        lot = self.lot_of(lines)
        self.assertLine(lines, "topup", 20.0, lot, 0.0, 20.0, 0.0, 20.0)
        self.assertEqual(lot.credit_type, "product")
        self.assertEqual(lot.product_id, self.product)
        self.assertEqual(lot.expiry_date, expiry)
        self.assertEqual(lines.credit_type, "product")
        self._assert_lot_name(lot)
        self.assert_move_lines(
            lines.move_id,
            [(self.receipts_account, self.partner_a, 20.0, 0.0), (self.credit_account, self.partner_a, 0.0, 20.0)],
        )
        self.assert_invariant()

    def test_topup_default_validity(self):
        self.company.credit_validity_months = 6
        lot = self.lot_of(self.topup(self.partner_a, 10.0))
        self.assertEqual(lot.expiry_date, fields.Date.add(self.today, months=6))
        self.assert_invariant()

    def test_topup_commercial_partner(self):
        contact = self.env["res.partner"].create({"name": "A's contact", "parent_id": self.partner_a.id})
        lines = self.topup(contact, 15.0)
        self.assertEqual(lines.partner_id, self.partner_a)
        self.assertEqual(lines.lot_id.partner_id, self.partner_a)
        self.assertEqual(lines.move_id.line_ids.partner_id, self.partner_a)
        self.assert_invariant()

    def test_topup_refused(self):
        before = self.snapshot()
        cases = [
            {"amount": 0.0},
            {"amount": -5.0},
            {"amount": 1.234},
            {"amount": 10.0, "journal": self.credit_journal},
            {"amount": 10.0, "credit_type": "product"},
            {"amount": 10.0, "product": self.product},
            {"amount": 10.0, "expiry_date": self.days(-1)},
        ]
        for case in cases:
            kwargs = dict(case)
            amount = kwargs.pop("amount")
            journal = kwargs.pop("journal", self.cash_journal)
            with self.subTest(**case), self.assertRaises(UserError):
                self.service._topup(self.partner_a, amount, journal, **kwargs)
        with self.assertRaises(UserError):
            self.service._topup(self.partner_a, 10.0)  # neither a journal nor granted
        self.assertEqual(self.snapshot(), before)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestSpend(MovementCase):
    def _invoice(self, partner, amount):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        invoice.action_post()
        self.assertAmount(invoice.amount_residual, amount)
        return invoice

    def test_spend_needs_a_counterpart(self):
        """A spend says where the value goes: a default receivable credit would be offered again on
        the next invoice (the same value used twice)."""
        self.topup(self.partner_a, 100.0)
        self.assert_rejected(UserError, "Say where the credit payment goes", self.service._spend, self.partner_a, 35.0)
        self.assert_rejected(
            UserError,
            "Customer Credit account itself",
            self.service._spend,
            self.partner_a,
            35.0,
            counterpart_account=self.credit_account,
        )
        self.assert_invariant()

    def test_spend_clearing_account(self):
        lot = self.lot_of(self.topup(self.partner_b, 50.0))
        lines = self.service._spend(self.partner_b, 50.0, counterpart_account=self.clearing_account)
        self.assertLine(lines, "spend", -50.0, lot, 50.0, 0.0, 50.0, 0.0)
        self.assertEqual(lot.state, "used")
        self.assert_move_lines(
            lines.move_id,
            [(self.credit_account, self.partner_b, 50.0, 0.0), (self.clearing_account, self.partner_b, 0.0, 50.0)],
        )
        self.assertAmount(self.gl_balance(self.partner_b, account=self.clearing_account), -50.0)
        self.assertAmount(self.gl_balance(self.partner_b), 0.0)
        self.assert_invariant()

    def test_spend_on_invoice(self):
        self.topup(self.partner_a, 200.0)
        invoice = self._invoice(self.partner_a, 100.0)
        receivable = invoice.line_ids.filtered(lambda aml: aml.account_type == "asset_receivable")
        lines = self.service._spend(self.partner_a, 100.0, invoice=invoice)
        self.assertEqual(lines.invoice_id, invoice)
        self.assertLine(lines, "spend", -100.0, lines.lot_id, 200.0, 100.0, 200.0, 100.0)
        self.assert_move_lines(
            lines.move_id,
            [
                (self.credit_account, self.partner_a, 100.0, 0.0),
                (receivable.account_id, self.partner_a, 0.0, 100.0),
            ],
        )
        self.assertTrue(receivable.reconciled)
        credit_side = lines.move_id.line_ids.filtered(lambda aml: aml.account_id == receivable.account_id)
        self.assertTrue(credit_side.reconciled)
        self.assertEqual(receivable.full_reconcile_id, credit_side.full_reconcile_id)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertAmount(invoice.amount_residual, 0.0)

        partial = self._invoice(self.partner_a, 80.0)
        lines = self.service._spend(self.partner_a, 30.0, invoice=partial)
        self.assertLine(lines, "spend", -30.0, lines.lot_id, 100.0, 70.0, 100.0, 70.0)
        self.assertEqual(partial.payment_state, "partial")
        self.assertAmount(partial.amount_residual, 50.0)

        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._spend(self.partner_a, 50.01, invoice=partial)  # more than due
        with self.assertRaises(UserError):
            self.service._spend(self.partner_b, 10.0, invoice=partial)  # someone else's invoice
        self.assertEqual(self.snapshot(), before)
        self.assert_invariant()

    def test_spend_consumption_order(self):
        A = self.partner_a
        g_old = self.lot_of(self.topup(A, 30.0))
        g_late = self.lot_of(self.topup(A, 20.0, expiry_date=self.days(60)))
        g_soon = self.lot_of(self.topup(A, 10.0, expiry_date=self.days(30)))
        p_lot = self.lot_of(self.topup(A, 15.0, credit_type="product", product=self.product))
        p_soon = self.lot_of(self.topup(A, 5.0, credit_type="product", product=self.product, expiry_date=self.days(10)))
        q_lot = self.lot_of(self.topup(A, 50.0, credit_type="product", product=self.other_product))
        self.assertAmount(self.balance(A), 130.0)

        lines = self.service._spend(A, 75.0, product=self.product, counterpart_account=self.clearing_account).sorted(
            "id"
        )
        self.assertEqual(len(lines), 5)
        self.assertEqual(len(lines.move_id), 1)
        expected = [
            (p_soon, -5.0, 130.0, 125.0, 5.0, 0.0),
            (p_lot, -15.0, 125.0, 110.0, 15.0, 0.0),
            (g_soon, -10.0, 110.0, 100.0, 10.0, 0.0),
            (g_late, -20.0, 100.0, 80.0, 20.0, 0.0),
            (g_old, -25.0, 80.0, 55.0, 30.0, 5.0),
        ]
        for line, (lot, amount, before, after, lot_before, lot_after) in zip(lines, expected, strict=True):
            self.assertLine(line, "spend", amount, lot, before, after, lot_before, lot_after)
        self.assertEqual(len(set(lines.mapped("operation_ref"))), 1)
        self.assertEqual([lot.state for lot in (p_soon, p_lot, g_soon, g_late)], ["used"] * 4)
        self.assertEqual(g_old.state, "active")
        self.assertAmount(g_old.balance, 5.0)
        self.assertEqual(q_lot.state, "active")
        self.assertAmount(q_lot.balance, 50.0)
        self.assert_move_lines(
            lines.move_id,
            [(self.credit_account, A, 75.0, 0.0), (self.clearing_account, A, 0.0, 75.0)],
        )

        # without a product, product-specific lots are never used
        lines = self.service._spend(A, 5.0, counterpart_account=self.clearing_account)
        self.assertLine(lines, "spend", -5.0, g_old, 55.0, 50.0, 5.0, 0.0)
        self.assertEqual(g_old.state, "used")
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._spend(A, 1.0, counterpart_account=self.clearing_account)
        with self.assertRaises(UserError):
            self.service._spend(A, 1.0, product=self.product, counterpart_account=self.clearing_account)
        self.assertEqual(self.snapshot(), before)
        # the other product's lot serves that product
        lines = self.service._spend(A, 50.0, product=self.other_product, counterpart_account=self.clearing_account)
        self.assertLine(lines, "spend", -50.0, q_lot, 50.0, 0.0, 50.0, 0.0)
        self.assertEqual(q_lot.state, "used")
        self.assertAmount(self.balance(A), 0.0)
        self.assertAmount(self.gl_balance(A), 0.0)
        self.assert_invariant()

    def test_spend_skips_lot_past_expiry(self):
        stale = self.lot_of(self.topup(self.partner_a, 40.0, expiry_date=self.days(5)))
        fresh = self.lot_of(self.topup(self.partner_a, 10.0))
        stale.write({"expiry_date": self.days(-1)})
        lines = self.service._spend(self.partner_a, 10.0, counterpart_account=self.clearing_account)
        self.assertEqual(lines.lot_id, fresh)
        with self.assertRaises(UserError):
            self.service._spend(self.partner_a, 1.0, counterpart_account=self.clearing_account)
        self.assertAmount(stale.balance, 40.0)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestRefund(MovementCase):
    def test_refund_partial_then_full(self):
        lot = self.lot_of(self.topup(self.partner_a, 50.0))
        spent = self.service._spend(self.partner_a, 50.0, counterpart_account=self.clearing_account)
        self.assertEqual(lot.state, "used")

        refund = self.service._refund(spent, 20.0)
        self.assertLine(refund, "refund", 20.0, lot, 0.0, 20.0, 0.0, 20.0, partner=self.partner_a)
        self.assertEqual(refund.refunded_line_id, spent)
        self.assertEqual(lot.state, "active")
        self.assertAmount(lot.balance, 20.0)
        self.assertNotEqual(refund.move_id, spent.move_id)
        self.assert_move_lines(
            refund.move_id,
            [(self.clearing_account, self.partner_a, 20.0, 0.0), (self.credit_account, self.partner_a, 0.0, 20.0)],
        )

        rest = self.service._refund(spent)  # whatever is left
        self.assertLine(rest, "refund", 30.0, lot, 20.0, 50.0, 20.0, 50.0)
        self.assert_move_lines(
            rest.move_id,
            [(self.clearing_account, self.partner_a, 30.0, 0.0), (self.credit_account, self.partner_a, 0.0, 30.0)],
        )
        self.assertAmount(lot.balance, 50.0)
        self.assertAmount(self.gl_balance(self.partner_a, account=self.clearing_account), 0.0)

        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._refund(spent)
        with self.assertRaises(UserError):
            self.service._refund(spent, 0.01)
        self.assertEqual(self.snapshot(), before)
        self.assert_invariant()

    def test_refund_beyond_refundable(self):
        self.topup(self.partner_a, 100.0)
        spent = self.service._spend(self.partner_a, 40.0, counterpart_account=self.clearing_account)
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._refund(spent, 40.01)
        self.assertEqual(self.snapshot(), before)
        self.service._refund(spent, 15.0)
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._refund(spent, 25.01)
        self.assertEqual(self.snapshot(), before)
        last = self.service._refund(spent, 25.0)
        # the reverse of the spend: Dr the spend's counterpart, Cr Customer Credit
        self.assert_move_lines(
            last.move_id,
            [(self.clearing_account, self.partner_a, 25.0, 0.0), (self.credit_account, self.partner_a, 0.0, 25.0)],
        )
        self.assertAmount(self.balance(self.partner_a), 100.0)
        self.assert_invariant()

    def test_refund_across_lots(self):
        first = self.lot_of(self.topup(self.partner_a, 30.0))
        second = self.lot_of(self.topup(self.partner_a, 20.0))
        spent = self.service._spend(self.partner_a, 40.0, counterpart_account=self.clearing_account).sorted("id")
        self.assertEqual(spent.lot_id, first | second)
        # refunding one line of the payment refunds the payment, last consumed lot first
        refund = self.service._refund(spent[:1], 15.0).sorted("id")
        self.assertEqual(len(refund), 2)
        self.assertLine(refund[0], "refund", 10.0, second, 10.0, 20.0, 10.0, 20.0)
        self.assertLine(refund[1], "refund", 5.0, first, 20.0, 25.0, 0.0, 5.0)
        self.assertEqual(refund[0].refunded_line_id, spent[1])
        self.assertEqual(refund[1].refunded_line_id, spent[0])
        self.assertEqual((first | second).mapped("state"), ["active", "active"])
        self.assert_move_lines(
            refund.move_id,
            [(self.clearing_account, self.partner_a, 15.0, 0.0), (self.credit_account, self.partner_a, 0.0, 15.0)],
        )
        self.assert_invariant()

    def test_refund_into_expired_lot_makes_new_lot(self):
        lot = self.lot_of(self.topup(self.partner_a, 50.0, expiry_date=self.days(10)))
        spent = self.service._spend(self.partner_a, 20.0, counterpart_account=self.clearing_account)
        lot.write({"expiry_date": self.days(-2)})
        self.Lot._cron_expire()
        self.assertEqual(lot.state, "expired")
        self.assertAmount(lot.balance, 0.0)

        refund = self.service._refund(spent, 15.0)
        new_lot = self.lot_of(refund)
        self.assertNotEqual(new_lot, lot)
        self.assertEqual(new_lot.origin, "refund")
        self.assertEqual(new_lot.credit_type, "generic")
        self.assertEqual(new_lot.state, "active")
        self.assertAmount(new_lot.balance, 15.0)
        self.assertEqual(new_lot.move_id, refund.move_id)
        self.assertLine(refund, "refund", 15.0, new_lot, 0.0, 15.0, 0.0, 15.0)
        self.assertEqual(refund.refunded_line_id, spent)
        self.assertEqual(lot.state, "expired")
        self.assertAmount(lot.balance, 0.0)
        self.assert_move_lines(
            refund.move_id,
            [(self.clearing_account, self.partner_a, 15.0, 0.0), (self.credit_account, self.partner_a, 0.0, 15.0)],
        )
        self.assert_invariant()

    def test_refund_product_lot_past_expiry_makes_generic_lot(self):
        lot = self.lot_of(self.topup(self.partner_b, 10.0, credit_type="product", product=self.product))
        spent = self.service._spend(
            self.partner_b, 6.0, product=self.product, counterpart_account=self.clearing_account
        )
        self.assertEqual(lot.state, "active")
        lot.write({"expiry_date": self.days(-1)})  # past its date, not yet expired by the cron
        refund = self.service._refund(spent)
        new_lot = self.lot_of(refund)
        self.assertNotEqual(new_lot, lot)
        self.assertEqual((new_lot.origin, new_lot.credit_type, new_lot.state), ("refund", "generic", "active"))
        self.assertFalse(new_lot.product_id)
        self.assertAmount(new_lot.balance, 6.0)
        self.assertLine(refund, "refund", 6.0, new_lot, 4.0, 10.0, 0.0, 6.0)
        self.assertAmount(lot.balance, 4.0)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestWithdrawAdjustTransfer(MovementCase):
    def test_withdraw(self):
        lot = self.lot_of(self.topup(self.partner_a, 100.0))
        self.topup(self.partner_a, 40.0, credit_type="product", product=self.product)
        lines = self.service._withdraw(self.partner_a, 30.0, self.cash_journal)
        self.assertLine(lines, "withdraw", -30.0, lot, 140.0, 110.0, 100.0, 70.0, partner=self.partner_a)
        self.assert_move_lines(
            lines.move_id,
            [(self.credit_account, self.partner_a, 30.0, 0.0), (self.payments_account, self.partner_a, 0.0, 30.0)],
        )
        self.assertAmount(self.gl_balance(self.partner_a, account=self.receipts_account), 140.0)
        self.assertAmount(self.gl_balance(self.partner_a, account=self.payments_account), -30.0)
        lines = self.service._withdraw(self.partner_a, 70.0, self.bank_journal)
        self.assertLine(lines, "withdraw", -70.0, lot, 110.0, 40.0, 70.0, 0.0)
        self.assert_move_lines(
            lines.move_id,
            [(self.credit_account, self.partner_a, 70.0, 0.0), (self.payments_account, self.partner_a, 0.0, 70.0)],
        )
        self.assertEqual(lot.state, "used")
        before = self.snapshot()
        with self.assertRaises(UserError):  # product credit cannot be cashed out
            self.service._withdraw(self.partner_a, 1.0, self.cash_journal)
        with self.assertRaises(UserError):
            self.service._withdraw(self.partner_a, 1.0, self.credit_journal)
        self.assertEqual(self.snapshot(), before)
        self.assert_invariant()

    def test_adjust(self):
        up = self.service._adjust(self.partner_a, 25.0, "Goodwill gesture")
        lot = self.lot_of(up)
        self.assertLine(up, "adjust", 25.0, lot, 0.0, 25.0, 0.0, 25.0)
        self.assertEqual(up.reason, "Goodwill gesture")
        self.assertEqual(lot.origin, "adjust")
        self.assertEqual(lot.credit_type, "generic")
        self.assert_move_lines(
            up.move_id,
            [(self.granted_account, self.partner_a, 25.0, 0.0), (self.credit_account, self.partner_a, 0.0, 25.0)],
        )
        down = self.service._adjust(self.partner_a, -10.0, "Miscounted top-up")
        self.assertLine(down, "adjust", -10.0, lot, 25.0, 15.0, 25.0, 15.0)
        self.assertEqual(down.reason, "Miscounted top-up")
        self.assertIn("Miscounted top-up", down.name)
        self.assert_move_lines(
            down.move_id,
            [(self.credit_account, self.partner_a, 10.0, 0.0), (self.granted_account, self.partner_a, 0.0, 10.0)],
        )
        self.assertAmount(self.gl_balance(self.partner_a, account=self.granted_account), 15.0)
        before = self.snapshot()
        for amount, reason in [(-15.01, "Too much"), (5.0, ""), (5.0, "   "), (0.0, "Zero")]:
            with self.subTest(amount=amount, reason=reason), self.assertRaises(UserError):
                self.service._adjust(self.partner_a, amount, reason)
        self.assertEqual(self.snapshot(), before)
        self.assert_invariant()

    def test_transfer(self):
        lot_a = self.lot_of(self.topup(self.partner_a, 100.0))
        self.topup(self.partner_b, 5.0)
        lines = self.service._transfer(self.partner_a, self.partner_b, 40.0)
        out = lines.filtered(lambda line: line.partner_id == self.partner_a)
        into = lines.filtered(lambda line: line.partner_id == self.partner_b)
        self.assertLine(out, "transfer_out", -40.0, lot_a, 100.0, 60.0, 100.0, 60.0)
        lot_b = self.lot_of(into)
        self.assertLine(into, "transfer_in", 40.0, lot_b, 5.0, 45.0, 0.0, 40.0)
        self.assertEqual(lot_b.partner_id, self.partner_b)
        self.assertEqual((lot_b.origin, lot_b.credit_type, lot_b.state), ("transfer", "generic", "active"))
        self.assertEqual(len(lines.move_id), 1)
        self.assertEqual(out.operation_ref, into.operation_ref)
        self.assert_move_lines(
            lines.move_id,
            [(self.credit_account, self.partner_a, 40.0, 0.0), (self.credit_account, self.partner_b, 0.0, 40.0)],
        )
        self.assertAmount(self.gl_balance(self.partner_a), -60.0)
        self.assertAmount(self.gl_balance(self.partner_b), -45.0)
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._transfer(self.partner_a, self.partner_b, 60.01)
        with self.assertRaises(UserError):
            self.service._transfer(self.partner_a, self.partner_a, 1.0)
        self.assertEqual(self.snapshot(), before)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestExpireCancel(MovementCase):
    def test_expire_service(self):
        lot = self.lot_of(self.topup(self.partner_a, 80.0))
        self.service._spend(self.partner_a, 30.0, counterpart_account=self.clearing_account)
        lines = self.service._expire(lot, reason="Closing the account")
        self.assertLine(lines, "expire", -50.0, lot, 50.0, 0.0, 50.0, 0.0)
        self.assertEqual(lines.reason, "Closing the account")
        self.assertEqual(lot.state, "expired")
        self.assertLessEqual(lot.expiry_date, self.today)
        self.assert_move_lines(
            lines.move_id,
            [(self.credit_account, self.partner_a, 50.0, 0.0), (self.breakage_account, self.partner_a, 0.0, 50.0)],
        )
        self.assertAmount(self.gl_balance(self.partner_a, account=self.breakage_account), -50.0)
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._expire(lot)
        with self.assertRaises(UserError):
            self.service._cancel(lot)
        self.assertEqual(self.snapshot(), before)
        self.assert_invariant()

    def test_expire_cron(self):
        past = self.lot_of(self.topup(self.partner_a, 60.0, expiry_date=self.days(3)))
        today_lot = self.lot_of(self.topup(self.partner_a, 7.0, expiry_date=self.today))
        future = self.lot_of(self.topup(self.partner_a, 9.0, expiry_date=self.days(1)))
        used = self.lot_of(self.topup(self.partner_b, 5.0, expiry_date=self.days(3)))
        self.service._spend(self.partner_b, 5.0, counterpart_account=self.clearing_account)
        past.write({"expiry_date": self.days(-1)})
        # the date of a used lot passes too (users may only move the date of active lots)
        self.env.cr.execute("UPDATE customer_credit SET expiry_date = %s WHERE id = %s", (self.days(-1), used.id))
        used.invalidate_recordset(["expiry_date"])

        expired = self.Lot._cron_expire()
        self.assertIn(past, expired)
        self.assertNotIn(used, expired)
        self.assertNotIn(today_lot | future, expired)
        self.assertEqual(past.state, "expired")
        self.assertEqual(used.state, "used")
        self.assertEqual((today_lot.state, future.state), ("active", "active"))
        line = past.line_ids.filtered(lambda aml: aml.kind == "expire")
        self.assertLine(line, "expire", -60.0, past, 76.0, 16.0, 60.0, 0.0)
        self.assert_move_lines(
            line.move_id,
            [(self.credit_account, self.partner_a, 60.0, 0.0), (self.breakage_account, self.partner_a, 0.0, 60.0)],
        )
        before = self.snapshot()
        again = self.Lot._cron_expire()
        self.assertFalse(again & (past | used | today_lot | future))
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(len(past.line_ids.filtered(lambda aml: aml.kind == "expire")), 1)
        self.assertAmount(self.balance(self.partner_a), 16.0)
        self.assert_invariant()

    def test_cancel_unused(self):
        topup = self.topup(self.partner_a, 60.0)
        lot = self.lot_of(topup)
        original = lot.move_id
        lines = self.service._cancel(lot, reason="Entered twice")
        self.assertLine(lines, "cancel", -60.0, lot, 60.0, 0.0, 60.0, 0.0)
        self.assertEqual(lines.reason, "Entered twice")
        self.assertEqual(lot.state, "cancelled")
        self.assertAmount(lot.balance, 0.0)
        reversal = lines.move_id
        self.assertNotEqual(reversal, original)
        self.assertEqual(reversal.reversed_entry_id, original)
        self.assertEqual(original.state, "posted")
        self.assert_move_lines(
            reversal,
            [(self.credit_account, self.partner_a, 60.0, 0.0), (self.receipts_account, self.partner_a, 0.0, 60.0)],
        )
        credit_lines = (original | reversal).line_ids.filtered(lambda aml: aml.account_id == self.credit_account)
        self.assertEqual(len(credit_lines), 2)
        self.assertTrue(all(credit_lines.mapped("reconciled")))
        self.assertEqual(len(credit_lines.full_reconcile_id), 1)
        self.assertAmount(self.gl_balance(self.partner_a), 0.0)
        self.assertAmount(self.gl_balance(self.partner_a, account=self.receipts_account), 0.0)
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._cancel(lot)
        with self.assertRaises(UserError):
            self.service._expire(lot)
        self.assertEqual(self.snapshot(), before)
        self.assert_invariant()

    def test_cancel_granted_and_product(self):
        granted = self.lot_of(self.service._topup(self.partner_b, 12.0, granted=True))
        product = self.lot_of(self.topup(self.partner_b, 8.0, credit_type="product", product=self.product))
        lines = self.service._cancel(granted)
        self.assert_move_lines(
            lines.move_id,
            [(self.credit_account, self.partner_b, 12.0, 0.0), (self.granted_account, self.partner_b, 0.0, 12.0)],
        )
        lines = self.service._cancel(product)
        self.assertLine(lines, "cancel", -8.0, product, 8.0, 0.0, 8.0, 0.0)
        self.assertEqual((granted.state, product.state), ("cancelled", "cancelled"))
        self.assertAmount(self.balance(self.partner_b), 0.0)
        self.assert_invariant()

    def test_cancel_used_lot_refused(self):
        lot = self.lot_of(self.topup(self.partner_a, 60.0))
        spent = self.service._spend(self.partner_a, 10.0, counterpart_account=self.clearing_account)
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._cancel(lot)
        self.assertEqual(self.snapshot(), before)
        self.service._refund(spent)  # back to its full amount, but it has been used
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._cancel(lot)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(lot.state, "active")
        # lots not made by a top-up cannot be cancelled either
        lines = self.service._transfer(self.partner_a, self.partner_b, 5.0)
        transferred = self.lot_of(lines.filtered(lambda line: line.partner_id == self.partner_b))
        self.assertEqual(transferred.origin, "transfer")
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._cancel(transferred)
        self.assertEqual(self.snapshot(), before)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestOverdraft(MovementCase):
    def test_overdraft_partner_limit(self):
        A = self.partner_a
        A.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 50.0})
        lot = self.lot_of(self.topup(A, 20.0))
        lines = self.service._spend(A, 60.0, counterpart_account=self.clearing_account).sorted("id")
        self.assertEqual(len(lines), 2)
        self.assertLine(lines[0], "spend", -20.0, lot, 20.0, 0.0, 20.0, 0.0)
        self.assertLine(lines[1], "spend", -40.0, False, 0.0, -40.0)
        self.assertAmount(self.balance(A), -40.0)
        self.assert_move_lines(
            lines.move_id, [(self.credit_account, A, 60.0, 0.0), (self.clearing_account, A, 0.0, 60.0)]
        )
        self.assertAmount(self.gl_balance(A), 40.0)

        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._spend(A, 10.01, counterpart_account=self.clearing_account)
        self.assertEqual(self.snapshot(), before)
        self.assertAmount(self.balance(A), -40.0)

        lines = self.service._spend(A, 10.0, counterpart_account=self.clearing_account)
        self.assertLine(lines, "spend", -10.0, False, -40.0, -50.0)
        self.assertAmount(self.overdraft(A), -50.0)

        # a top-up settles the overdraft first, the rest makes a lot
        lines = self.topup(A, 80.0).sorted("id")
        self.assertEqual(len(lines), 2)
        self.assertLine(lines[0], "topup", 50.0, False, -50.0, 0.0)
        new_lot = lines[1].lot_id
        self.assertTrue(new_lot)
        self.assertLine(lines[1], "topup", 30.0, new_lot, 0.0, 30.0, 0.0, 30.0)
        self.assertAmount(new_lot.amount, 30.0)
        self.assertEqual(len(lines.move_id), 1)
        self.assert_move_lines(
            lines.move_id, [(self.receipts_account, A, 80.0, 0.0), (self.credit_account, A, 0.0, 80.0)]
        )
        self.assertAmount(self.overdraft(A), 0.0)
        self.assertAmount(self.balance(A), 30.0)
        self.assertAmount(self.gl_balance(A), -30.0)
        self.assert_invariant()

    def test_overdraft_company_default_limit(self):
        self.company.credit_overdraft_limit = 30.0
        B = self.partner_b
        B.credit_allow_overdraft = True
        lines = self.service._spend(B, 30.0, counterpart_account=self.clearing_account)
        self.assertLine(lines, "spend", -30.0, False, 0.0, -30.0)
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._spend(B, 0.01, counterpart_account=self.clearing_account)
        self.assertEqual(self.snapshot(), before)
        # not allowed to overdraw: the company default does not apply
        with self.assertRaises(UserError):
            self.service._spend(self.partner_a, 0.01, counterpart_account=self.clearing_account)
        # the partner's own limit wins over the company's
        B.credit_overdraft_limit = 45.0
        self.service._spend(B, 15.0, counterpart_account=self.clearing_account)
        self.assertAmount(self.balance(B), -45.0)
        with self.assertRaises(UserError):
            self.service._spend(B, 0.01, counterpart_account=self.clearing_account)
        self.assert_invariant()

    def test_overdraft_spend_without_allow_overdraft(self):
        self.partner_a.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 100.0})
        self.topup(self.partner_a, 10.0)
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._spend(self.partner_a, 10.01, allow_overdraft=False, counterpart_account=self.clearing_account)
        self.assertEqual(self.snapshot(), before)
        self.assert_invariant()

    def test_overdraft_settled_by_transfer_and_adjust(self):
        B = self.partner_b
        B.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 50.0})
        self.service._spend(B, 30.0, counterpart_account=self.clearing_account)
        self.topup(self.partner_a, 100.0)
        lines = self.service._transfer(self.partner_a, B, 20.0)
        into = lines.filtered(lambda line: line.partner_id == B)
        self.assertLine(into, "transfer_in", 20.0, False, -30.0, -10.0)
        self.assertFalse(into.lot_id)
        lines = self.service._adjust(B, 15.0, "Compensation").sorted("id")
        self.assertLine(lines[0], "adjust", 10.0, False, -10.0, 0.0)
        self.assertLine(lines[1], "adjust", 5.0, lines[1].lot_id, 0.0, 5.0, 0.0, 5.0)
        self.assertEqual(lines[1].lot_id.origin, "adjust")
        self.assertAmount(self.overdraft(B), 0.0)
        self.assert_invariant()

    def test_overdraft_product_topup_does_not_settle(self):
        A = self.partner_a
        A.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 50.0})
        self.service._spend(A, 20.0, counterpart_account=self.clearing_account)
        lines = self.topup(A, 30.0, credit_type="product", product=self.product)
        self.assertLine(lines, "topup", 30.0, lines.lot_id, -20.0, 10.0, 0.0, 30.0)
        self.assertAmount(self.overdraft(A), -20.0)
        # spending on the product takes the product lot first
        lines = self.service._spend(A, 35.0, product=self.product, counterpart_account=self.clearing_account).sorted(
            "id"
        )
        self.assertLine(lines[0], "spend", -30.0, lines[0].lot_id, 10.0, -20.0, 30.0, 0.0)
        self.assertLine(lines[1], "spend", -5.0, False, -20.0, -25.0)
        self.assert_invariant()

    def test_overdraft_refund_of_overdraft_part(self):
        A = self.partner_a
        A.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 50.0})
        lot = self.lot_of(self.topup(A, 10.0))
        spent = self.service._spend(A, 30.0, counterpart_account=self.clearing_account)
        # refunded last consumed first: the overdraft part settles the overdraft, the rest goes to the lot
        lines = self.service._refund(spent, 25.0).sorted("id")
        self.assertEqual(len(lines), 2)
        self.assertLine(lines[0], "refund", 20.0, False, -20.0, 0.0)
        self.assertLine(lines[1], "refund", 5.0, lot, 0.0, 5.0, 0.0, 5.0)
        self.assertEqual(lines.refunded_line_id, spent)
        self.assertAmount(self.overdraft(A), 0.0)
        self.assertAmount(self.balance(A), 5.0)
        self.assert_invariant()

    def test_overdraft_refund_after_settlement_makes_refund_lot(self):
        A = self.partner_a
        A.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 50.0})
        spent = self.service._spend(A, 20.0, counterpart_account=self.clearing_account)
        self.assertLine(spent, "spend", -20.0, False, 0.0, -20.0)
        self.topup(A, 50.0)  # settles the 20 of overdraft, 30 on a lot
        self.assertAmount(self.overdraft(A), 0.0)
        refund = self.service._refund(spent)
        lot = self.lot_of(refund)
        self.assertEqual((lot.origin, lot.credit_type, lot.state), ("refund", "generic", "active"))
        self.assertLine(refund, "refund", 20.0, lot, 30.0, 50.0, 0.0, 20.0)
        self.assertEqual(refund.refunded_line_id, spent)
        self.assertAmount(self.overdraft(A), 0.0)
        self.assert_move_lines(
            refund.move_id, [(self.clearing_account, A, 20.0, 0.0), (self.credit_account, A, 0.0, 20.0)]
        )
        self.assert_invariant()

    def test_overdraft_cancel_restores_overdraft(self):
        A = self.partner_a
        A.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 50.0})
        self.service._spend(A, 30.0, counterpart_account=self.clearing_account)
        lines = self.topup(A, 100.0)
        lot = lines.lot_id
        self.assertAmount(lot.balance, 70.0)
        cancel = self.service._cancel(lot).sorted("id")
        self.assertEqual(sorted(cancel.mapped("amount")), [-70.0, -30.0])
        self.assertEqual(lot.state, "cancelled")
        self.assertAmount(self.overdraft(A), -30.0)
        self.assertAmount(self.balance(A), -30.0)
        self.assert_move_lines(
            cancel.move_id, [(self.credit_account, A, 100.0, 0.0), (self.receipts_account, A, 0.0, 100.0)]
        )
        self.assert_invariant()

    def test_withdraw_transfer_adjust_never_overdraw(self):
        A = self.partner_a
        A.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 100.0})
        self.topup(A, 20.0)
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._withdraw(A, 20.01, self.cash_journal)
        with self.assertRaises(UserError):
            self.service._transfer(A, self.partner_b, 20.01)
        with self.assertRaises(UserError):
            self.service._adjust(A, -20.01, "Too much")
        self.assertEqual(self.snapshot(), before)
        self.service._spend(A, 50.0, counterpart_account=self.clearing_account)  # overdrawn: -30
        before = self.snapshot()
        with self.assertRaises(UserError):
            self.service._withdraw(A, 1.0, self.cash_journal)
        with self.assertRaises(UserError):
            self.service._transfer(A, self.partner_b, 1.0)
        self.assertEqual(self.snapshot(), before)
        self.assert_invariant()

    def _overdrawn_with_refunded_lot(self):
        """Balance 30 after a refund of 50 that first settled an overdraft of -20 (lot back to 30)."""
        A = self.partner_a
        A.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 100.0})
        lot = self.lot_of(self.topup(A, 50.0))
        spent = self.service._spend(A, 50.0, counterpart_account=self.clearing_account)
        self.service._spend(A, 20.0, counterpart_account=self.clearing_account)
        refund = self.service._refund(spent)
        self.assertEqual(sorted((line.lot_id.id, line.amount) for line in refund), [(False, 20.0), (lot.id, 30.0)])
        self.assertAmount(lot.balance, 30.0)
        self.assertAmount(self.overdraft(A), 0.0)
        self.assertAmount(self.balance(A), 30.0)
        self.assertAmount(self.service._get_balances(A)["generic"], 30.0)
        return A

    def test_withdraw_never_overdraws_refunded_lot(self):
        A = self._overdrawn_with_refunded_lot()
        before = self.snapshot()
        with self.assertRaises(UserError, msg="a withdrawal of 50 out of a balance of 30 overdraws the customer"):
            self.service._withdraw(A, 50.0, self.cash_journal)
        self.assertEqual(self.snapshot(), before)
        self.assertAmount(self.balance(A), 30.0)
        self.assert_invariant()

    def test_transfer_never_overdraws_refunded_lot(self):
        A = self._overdrawn_with_refunded_lot()
        before = self.snapshot()
        with self.assertRaises(UserError, msg="a transfer of 50 out of a balance of 30 overdraws the customer"):
            self.service._transfer(A, self.partner_b, 50.0)
        self.assertEqual(self.snapshot(), before)
        self.assertAmount(self.balance(A), 30.0)
        self.assert_invariant()

    def test_adjust_down_never_overdraws_refunded_lot(self):
        A = self._overdrawn_with_refunded_lot()
        before = self.snapshot()
        with self.assertRaises(UserError, msg="an adjustment of -50 on a balance of 30 overdraws the customer"):
            self.service._adjust(A, -50.0, "Correction")
        with self.assertRaises(UserError, msg="a spend of 50 without overdraft on a balance of 30 overdraws"):
            self.service._spend(A, 50.0, allow_overdraft=False, counterpart_account=self.clearing_account)
        self.assertEqual(self.snapshot(), before)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestMails(MovementCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.credit_send_mail = True
        cls.template = cls.env.ref("customer_credit.mail_template_credit_movement")

    def assertMails(self, last_id, lines, partners):
        """One queued mail per partner of the movement, rendered from the credit template."""
        mails = self.mails_since(last_id)
        self.assertEqual(len(mails), len(partners), f"mails: {mails.mapped('subject')}")
        self.assertEqual(sorted(mails.recipient_ids.ids), sorted(p.id for p in partners))
        for mail in mails:
            self.assertEqual(len(mail.recipient_ids), 1)
            self.assertEqual(mail.model, "customer.credit.line")
            self.assertIn(mail.res_id, lines.ids)
            self.assertEqual(mail.state, "outgoing")
            self.assertIn(self.company.name, mail.subject)
            self.assertIn("credit balance", mail.subject)
        return mails

    def test_mail_per_movement(self):
        A, B = self.partner_a, self.partner_b
        last = self.last_mail_id()
        lines = self.topup(A, 100.0)
        mails = self.assertMails(last, lines, A)
        self.assertIn("100.00", mails.subject)
        lot = lines.lot_id
        self.topup(A, 10.0, credit_type="product", product=self.product)

        last = self.last_mail_id()
        spent = self.service._spend(A, 30.0, product=self.product, counterpart_account=self.clearing_account)
        self.assertEqual(len(spent), 2)
        self.assertMails(last, spent, A)

        for operation in (
            lambda: self.service._refund(spent, 5.0),
            lambda: self.service._withdraw(A, 5.0, self.cash_journal),
            lambda: self.service._adjust(A, 3.0, "Goodwill"),
            lambda: self.service._adjust(A, -3.0, "Correction"),
            lambda: self.service._topup(A, 4.0, granted=True),
        ):
            last = self.last_mail_id()
            self.assertMails(last, operation(), A)

        last = self.last_mail_id()
        lines = self.service._transfer(A, B, 10.0)
        self.assertMails(last, lines, A | B)

        lot_b = self.lot_of(self.topup(B, 7.0))
        last = self.last_mail_id()
        lines = self.service._cancel(lot_b)
        self.assertMails(last, lines, B)

        last = self.last_mail_id()
        lines = self.service._expire(lot)
        self.assertMails(last, lines, A)
        self.assert_invariant()

    def test_no_mail_without_email(self):
        C = self.partner_c
        self.assertFalse(C.email)
        last = self.last_mail_id()
        self.topup(C, 20.0)
        self.service._spend(C, 5.0, counterpart_account=self.clearing_account)
        self.service._transfer(C, self.partner_a, 5.0)  # only A has an address
        mails = self.mails_since(last)
        self.assertEqual(mails.recipient_ids, self.partner_a)
        self.assertEqual(len(mails), 1)
        self.assert_invariant()

    def test_no_mail_when_disabled(self):
        self.company.credit_send_mail = False
        last = self.last_mail_id()
        self.topup(self.partner_a, 20.0)
        self.service._spend(self.partner_a, 5.0, counterpart_account=self.clearing_account)
        self.service._transfer(self.partner_a, self.partner_b, 5.0)
        self.assertFalse(self.mails_since(last))
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestBalances(MovementCase):
    def _fields(self, partner):
        partner.invalidate_recordset(["credit_balance", "credit_generic_balance", "credit_product_balance"])
        return partner.credit_balance, partner.credit_generic_balance, partner.credit_product_balance

    def test_balances_generic_and_product(self):
        A = self.partner_a
        contact = self.env["res.partner"].create({"name": "A's contact", "parent_id": A.id})
        self.assertEqual(self._fields(A), (0.0, 0.0, 0.0))
        self.topup(A, 100.0)
        self.topup(A, 30.0, credit_type="product", product=self.product)
        self.service._spend(A, 20.0, counterpart_account=self.clearing_account)

        balances = self.service._get_balances(A)
        self.assertAmount(balances["total"], 110.0)
        self.assertAmount(balances["generic"], 80.0)
        self.assertEqual(balances["currency_id"], self.currency.id)
        # the product-specific credit the customer holds, whatever the product
        self.assertAmount(balances["product"], 30.0, f"product-specific balance: {balances}")
        for partner in (A, contact):
            total, generic, product = self._fields(partner)
            self.assertAmount(total, 110.0)
            self.assertAmount(generic, 80.0)
            self.assertAmount(product, 30.0, "credit_product_balance")
        self.assert_invariant()

    def assertAvailableIsSpendable(self, partner, product=None):
        """``available`` is exactly what a spend (for ``product``) accepts now."""
        available = self.service._get_balances(partner, product=product)["available"]
        if self.currency.compare_amounts(available, 0.0) > 0:
            savepoint = self.env.cr.savepoint()
            try:
                self.service._spend(partner, available, product=product, counterpart_account=self.clearing_account)
            finally:
                savepoint.close(rollback=True)
        savepoint = self.env.cr.savepoint()
        try:
            with self.assertRaises(UserError, msg=f"available {available} but a spend of more is accepted"):
                self.service._spend(
                    partner,
                    self.currency.round(available + 0.01),
                    product=product,
                    counterpart_account=self.clearing_account,
                )
        finally:
            savepoint.close(rollback=True)
        return available

    def test_balances_available(self):
        A = self.partner_a
        self.topup(A, 100.0)
        self.topup(A, 30.0, credit_type="product", product=self.product)
        self.service._spend(A, 20.0, counterpart_account=self.clearing_account)
        for_product = self.service._get_balances(A, product=self.product)
        self.assertAmount(for_product["product"], 30.0)
        self.assertAmount(self.assertAvailableIsSpendable(A, self.product), 110.0)
        self.assertAmount(self.assertAvailableIsSpendable(A, self.other_product), 80.0)
        # without a product, a spend can only take generic credit
        self.assertAmount(self.assertAvailableIsSpendable(A), 80.0)

        A.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 50.0})
        self.assertAmount(self.assertAvailableIsSpendable(A), 130.0)
        self.service._spend(A, 100.0, counterpart_account=self.clearing_account)  # 80 from the lot, 20 overdraft
        balances = self.service._get_balances(A)
        self.assertAmount(balances["total"], 10.0)
        self.assertAmount(balances["generic"], -20.0)
        total, generic, __ = self._fields(A)
        self.assertAmount(total, 10.0)
        self.assertAmount(generic, -20.0)
        self.assertAmount(self.assertAvailableIsSpendable(A), 30.0)
        self.assertAmount(self.assertAvailableIsSpendable(A, self.product), 60.0)
        self.assert_invariant()

    def test_balances_exclude_lots_past_expiry(self):
        A = self.partner_a
        lot = self.lot_of(self.topup(A, 40.0, expiry_date=self.days(2)))
        self.topup(A, 10.0)
        lot.write({"expiry_date": self.days(-1)})
        balances = self.service._get_balances(A)
        self.assertAmount(balances["total"], 50.0)  # still on the books until it expires
        self.assertAmount(balances["generic"], 10.0)
        self.Lot._cron_expire()
        balances = self.service._get_balances(A)
        self.assertAmount(balances["total"], 10.0)
        self.assertAmount(balances["generic"], 10.0)
        self.assertAmount(self._fields(A)[0], 10.0)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestRandomSequence(MovementCase):
    OPERATIONS = 240

    def _cents(self, rng, high=120):
        return rng.randint(1, high * 100) / 100

    def test_random_sequence(self):
        rng = random.Random(42)
        Partner = self.env["res.partner"]
        self.company.credit_overdraft_limit = 25.0
        self.partner_b.credit_allow_overdraft = True  # company default limit
        partner_d = Partner.create(
            {
                "name": "Credit Customer D",
                "email": "d@example.com",
                "credit_allow_overdraft": True,
                "credit_overdraft_limit": 40.0,
            }
        )
        partners = [self.partner_a, self.partner_b, self.partner_c, partner_d]
        limits = {self.partner_a: 0.0, self.partner_b: 25.0, self.partner_c: 0.0, partner_d: 40.0}
        products = [self.product, self.other_product]
        spends = []

        def lots_of(states=None):
            domain = [("partner_id", "in", [p.id for p in partners])]
            if states:
                domain.append(("state", "in", states))
            return self.Lot.search(domain, order="id")

        def op_topup():
            partner = rng.choice(partners)
            amount = self._cents(rng)
            kwargs = {}
            roll = rng.random()
            if roll < 0.2:
                kwargs = {"credit_type": "product", "product": rng.choice(products)}
            if rng.random() < 0.3:
                kwargs["expiry_date"] = self.days(rng.randint(-2, 60))  # sometimes in the past: refused
            if rng.random() < 0.25:
                lines = self.service._topup(partner, amount, granted=True, **kwargs)
            else:
                journal = rng.choice([self.cash_journal, self.bank_journal])
                lines = self.service._topup(partner, amount, journal, **kwargs)
            return lines, {partner: amount}

        def op_spend():
            partner = rng.choice(partners)
            amount = self._cents(rng, 80)
            kwargs = {}
            if rng.random() < 0.4:
                kwargs["product"] = rng.choice(products)
            lines = self.service._spend(partner, amount, **kwargs, counterpart_account=self.clearing_account)
            spends.append(lines)
            return lines, {partner: -amount}

        def op_refund():
            if not spends:
                raise NothingToDo("refund yet")
            spent = rng.choice(spends)
            refundable = sum(line._refundable_amount() for line in spent)
            amount = None
            if rng.random() < 0.6:
                amount = self.currency.round(rng.uniform(0.01, max(refundable, 0.01) * 1.2))
            lines = self.service._refund(spent, amount)
            return lines, {spent.partner_id: refundable if amount is None else amount}

        def op_withdraw():
            partner = rng.choice(partners)
            amount = self._cents(rng, 60)
            journal = rng.choice([self.cash_journal, self.bank_journal])
            return self.service._withdraw(partner, amount, journal), {partner: -amount}

        def op_adjust():
            partner = rng.choice(partners)
            amount = self._cents(rng, 40) * rng.choice([1, -1])
            return self.service._adjust(partner, amount, f"Random adjustment {amount}"), {partner: amount}

        def op_transfer():
            source, target = rng.sample(partners, 2)
            amount = self._cents(rng, 50)
            return self.service._transfer(source, target, amount), {source: -amount, target: amount}

        def op_expire():
            lots = lots_of(["active", "used"])
            if not lots:
                raise NothingToDo("expire")
            lot = rng.choice(lots)
            balance = lot.balance
            return self.service._expire(lot), {lot.partner_id: -balance}

        def op_cancel():
            lots = lots_of()
            if not lots:
                raise NothingToDo("cancel")
            lot = rng.choice(lots)
            origin = self.Line.search([("operation_ref", "=", lot.line_ids.sorted("id")[:1].operation_ref)])
            expected = {}
            for line in origin:
                expected[line.partner_id] = expected.get(line.partner_id, 0.0) - line.amount
            return self.service._cancel(lot), expected

        def op_cron():
            lots = lots_of(["active"])
            if not lots:
                raise NothingToDo("age")
            lot = rng.choice(lots)
            balance = lot.balance
            lot.write({"expiry_date": self.days(-rng.randint(1, 30))})
            expired = self.Lot._cron_expire()
            self.assertIn(lot, expired)
            self.assertEqual(lot.state, "expired")
            self.assertFalse(self.Lot._cron_expire() & lots_of())  # idempotent
            return lot.line_ids.filtered(lambda line: line.kind == "expire"), {lot.partner_id: -balance}

        operations = [
            (op_topup, 6),
            (op_spend, 6),
            (op_refund, 3),
            (op_withdraw, 2),
            (op_adjust, 2),
            (op_transfer, 3),
            (op_expire, 1),
            (op_cancel, 2),
            (op_cron, 1),
        ]
        functions = [op for op, __ in operations]
        weights = [weight for __, weight in operations]
        stats = Counter()

        for step in range(self.OPERATIONS):
            operation = rng.choices(functions, weights)[0]
            name = operation.__name__
            before_balances = {partner: total for partner, (total, __) in self.ledger_totals(partners).items()}
            before = self.snapshot()
            try:
                with self.env.cr.savepoint():
                    try:
                        lines, expected = operation()
                    except UserError:
                        # a refused movement leaves no trace at all
                        self.assertEqual(self.snapshot(), before, f"step {step} {name} failed half-way")
                        raise
            except NothingToDo:
                stats[f"{name} skipped"] += 1
                continue
            except UserError:
                stats[f"{name} refused"] += 1
                for partner, (total, __) in self.ledger_totals(partners).items():
                    self.assertAmount(total, before_balances[partner], f"step {step} {name}")
                continue
            stats[name] += 1
            self._check_operation(step, name, lines, expected, before_balances, partners, limits)
            if step % 40 == 0:
                self.assert_invariant()

        # at least 200 movements tried, every kind of movement happened, and some were refused
        self.assertGreaterEqual(sum(count for key, count in stats.items() if not key.endswith("skipped")), 200, stats)
        for operation in functions:
            self.assertTrue(stats[operation.__name__], f"{operation.__name__} never succeeded: {stats}")
        self.assertGreater(sum(count for key, count in stats.items() if key.endswith("refused")), 10, stats)

        self.assert_invariant()
        for partner in partners:
            lots = self.Lot.search([("partner_id", "=", partner.id), ("company_id", "=", self.company.id)])
            lot_total = sum(lots.mapped("balance"))
            self.assertAmount(self.balance(partner), lot_total + self.overdraft(partner), partner.name)
            self.assertGreaterEqual(self.currency.compare_amounts(self.overdraft(partner), -limits[partner]), 0)
            for lot in lots:
                self.assertGreaterEqual(self.currency.compare_amounts(lot.balance, 0.0), 0, lot.name)
                if lot.end_state:
                    self.assertEqual(lot.state, lot.end_state)
                elif self.currency.compare_amounts(lot.balance, 0.0) > 0:
                    self.assertEqual(lot.state, "active", lot.name)
                else:
                    self.assertEqual(lot.state, "used", lot.name)
            balances = self.service._get_balances(partner)
            self.assertAmount(balances["total"], self.balance(partner))

    def _check_operation(self, step, name, lines, expected, before_balances, partners, limits):
        """What one successful movement must have done: ledger deltas and its own balanced entry."""
        msg = f"step {step} {name}"
        expected = {partner: amount for partner, amount in expected.items() if amount}
        got = {}
        for line in lines:
            got[line.partner_id] = got.get(line.partner_id, 0.0) + line.amount
        self.assertEqual(set(got), set(expected), msg)
        for partner, amount in expected.items():
            self.assertAmount(got[partner], amount, msg)
        totals = self.ledger_totals(partners)
        for partner, (total, overdraft) in totals.items():
            self.assertAmount(total, before_balances[partner] + expected.get(partner, 0.0), msg)
            self.assertGreaterEqual(self.currency.compare_amounts(overdraft, -limits[partner]), 0, f"{msg} overdraft")
        if not lines:
            return
        self.assertEqual(len(set(lines.mapped("operation_ref"))), 1, msg)
        move = lines.move_id
        self.assertEqual(len(move), 1, msg)
        self.assertEqual(move.state, "posted", msg)
        self.assertAmount(sum(move.line_ids.mapped("debit")), sum(move.line_ids.mapped("credit")), msg)
        for partner, amount in got.items():
            credit_lines = move.line_ids.filtered(
                lambda aml, p=partner: aml.account_id == self.credit_account and aml.partner_id == p
            )
            self.assertAmount(sum(credit_lines.mapped("balance")), -amount, msg)
        # running balances chain per partner
        for partner in got:
            chain = lines.filtered(lambda line, p=partner: line.partner_id == p).sorted("id")
            self.assertAmount(chain[0].partner_balance_before, before_balances[partner], msg)
            for previous, line in pairwise(chain):
                self.assertAmount(line.partner_balance_before, previous.partner_balance_after, msg)
            self.assertAmount(chain[-1].partner_balance_after, totals[partner][0], msg)
