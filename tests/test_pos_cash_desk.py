"""The POS cash desk: credit top-ups sold at the till, settling dues, paying later within the overdraft
limit; through Odoo's own sync (``sync_from_ui``) and session close, checked in the books."""

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .pos_common import CustomerCreditPosCase

INCOME_TYPES = ("income", "income_other")


@tagged("post_install", "-at_install")
class TestPosCustomerCreditCashDesk(CustomerCreditPosCase):
    customer_topup = 0.0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.topup_product = cls.env.ref("customer_credit.product_credit_topup")

    # ---- helpers -------------------------------------------------------

    def topup_data(self, amount, customer, payments=None, uuid=None, **params):
        """The till's data of an order with one credit top-up line of ``amount`` (its price, as the
        top-up dialog sets it)."""
        self.topup_product.lst_price = amount
        return self.create_ui_order_data(
            [(self.topup_product, 1)],
            customer=customer,
            payments=payments if payments is not None else [(self.cash_pm1, amount)],
            uuid=uuid,
            **params,
        )

    def sync_topup(self, amount, customer, **params):
        result = self.env["pos.order"].sync_from_ui([self.topup_data(amount, customer, **params)])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])

    def lines_by_account(self, move):
        totals = {}
        for line in move.line_ids:
            totals[line.account_id] = self.currency.round(totals.get(line.account_id, 0.0) + line.balance)
        return totals

    # ---- tests ---------------------------------------------------------

    def test_topup_product_setup(self):
        """A tax-free service booked on the (non-receivable, reconcilable) top-up clearing account,
        loaded in every till but kept out of its product grid."""
        self.assertTrue(self.topup_account.reconcile)
        self.assertNotIn(self.topup_account.account_type, ("asset_receivable", "liability_payable", *INCOME_TYPES))
        self.assertFalse(self.topup_product.taxes_id)
        self.assertEqual(self.topup_product.type, "service")
        self.assertTrue(self.topup_product.available_in_pos)
        accounts = self.topup_product.with_company(self.company)._get_product_accounts()
        self.assertEqual(accounts["income"], self.topup_account)
        self.assertIn(self.topup_product, self.env["pos.config"]._get_special_products())
        self.assertEqual(self.config.credit_topup_product_id, self.topup_product)
        fields_list = self.env["res.company"]._load_pos_data_fields(self.config.id)
        self.assertIn("credit_topup_min", fields_list)
        self.assertIn("credit_topup_max", fields_list)

    def test_topup_clearing_account_is_checked(self):
        """Top-up lines are booked on this account by Odoo's own flows: never Customer Credit, never a
        receivable (Odoo refuses it on invoice lines)."""
        for account in (self.credit_account, self.clearing_account):
            with self.assertRaisesRegex(ValidationError, "Top-up Clearing account must be"):
                with self.env.cr.savepoint():
                    self.company.credit_topup_clearing_account_id = account
                    self.company.flush_recordset()
        self.company.invalidate_recordset(["credit_topup_clearing_account_id"])
        self.assertEqual(self.company.credit_topup_clearing_account_id, self.topup_account)

    def test_topup_creates_one_lot_once(self):
        """A top-up line paid cash becomes one lot, keyed by the order line: syncing the same order
        again, or processing it again, adds nothing."""
        data = self.topup_data(50.0, self.customer, uuid="cc-topup-twice")
        self.env["pos.order"].sync_from_ui([data])
        self.env["pos.order"].sync_from_ui([self.topup_data(50.0, self.customer, uuid="cc-topup-twice")])
        order = self.env["pos.order"].search([("uuid", "=", "cc-topup-twice")])
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "paid")
        topup = self.ledger(self.customer, kind="topup")
        self.assertEqual(topup.mapped("amount"), [50.0])
        self.assertEqual(topup.pos_order_id, order)
        lot = topup.lot_id
        self.assertEqual((len(lot), lot.origin, lot.amount, lot.balance), (1, "pos", 50.0, 50.0))
        # processed again (a retried sync): the order line's key answers with the first lot
        order._customer_credit_process_topups()
        self.assertEqual(len(self.ledger(self.customer)), 1)
        self.assertEqual(len(self.env["customer.credit"].search([("partner_id", "=", self.customer.id)])), 1)
        self.assertEqual(self.balance(self.customer), 50.0)
        self.assertEqual(order.credit_balance_after, 50.0)
        # the entry at sync: Dr top-up clearing / Cr Customer Credit, both with the customer
        self.assertEqual(
            {(line.account_id, line.partner_id, line.balance) for line in topup.move_id.line_ids},
            {(self.topup_account, self.customer, 50.0), (self.credit_account, self.customer, -50.0)},
        )
        self.assertEqual(self.gl_balance(self.customer), -50.0)
        self.assert_invariant()

        session = self.close_session()
        by_account = self.lines_by_account(session.move_id)
        self.assertEqual(by_account[self.topup_account], -50.0, "the closing entry credits the top-up clearing")
        self.assertFalse(
            [
                (account.code, balance)
                for account, balance in by_account.items()
                if account.account_type in INCOME_TYPES
            ],
            "no revenue for a top-up",
        )
        self.assertNotIn(self.credit_account, by_account, "the close posts nothing on Customer Credit")
        self.assertEqual(sum(balance for balance in by_account.values() if balance > 0), 50.0, "the cash")
        self.assert_topup_clearing_settled()
        self.assertEqual(self.balance(self.customer), 50.0)
        self.assertEqual(self.gl_balance(self.customer), -50.0)
        self.assert_invariant()

    def test_topup_with_goods_and_a_sale_paid_with_credit(self):
        """One session: a top-up sold with goods, then goods paid with credit; each clearing account
        nets to zero and only the goods are revenue."""
        self.topup_product.lst_price = 40.0
        self.sync(
            {
                "pos_order_lines_ui_args": [(self.topup_product, 1), (self.product_a, 1)],
                "customer": self.customer,
                "payments": [(self.cash_pm1, 70.0)],
            }
        )
        self.assertEqual(self.balance(self.customer), 40.0)
        self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 1)],
                "customer": self.customer,
                "payments": [(self.credit_pm, 30.0)],
            }
        )
        self.assertEqual(self.balance(self.customer), 10.0)
        session = self.close_session()
        by_account = self.lines_by_account(session.move_id)
        income = sum(balance for account, balance in by_account.items() if account.account_type in INCOME_TYPES)
        self.assertEqual(income, -60.0, "revenue: the two products only")
        self.assertEqual(by_account[self.topup_account], -40.0)
        self.assert_topup_clearing_settled()
        self.assert_clearing_settled()
        self.assert_invariant()

    def test_topup_clearing_reconciled_in_background(self):
        """Over the close's limit, the scheduled action settles both clearing accounts, an invoiced
        top-up's invoice included."""
        self.env["ir.config_parameter"].sudo().set_param("customer_credit.pos_close_reconcile_limit", "1")
        self.sync_topup(25.0, self.customer, is_invoiced=True)
        self.topup_product.lst_price = 40.0
        self.sync(
            {
                "pos_order_lines_ui_args": [(self.topup_product, 1), (self.product_a, 1)],
                "customer": self.customer,
                "payments": [(self.cash_pm1, 70.0)],
            },
            {
                "pos_order_lines_ui_args": [(self.product_a, 1)],
                "customer": self.customer,
                "payments": [(self.credit_pm, 30.0)],
            },
        )
        session = self.close_session()
        self.assertTrue(session.customer_credit_reconcile_pending)
        closing = session.move_id.line_ids.filtered(lambda line: line.account_id == self.topup_account)
        self.assertEqual((closing.balance, closing.reconciled), (-40.0, False))
        self.assert_invariant()
        self.assertEqual(self.env["pos.session"]._cron_customer_credit_reconcile(), session)
        self.assertFalse(session.customer_credit_reconcile_pending)
        self.assert_topup_clearing_settled()
        self.assert_clearing_settled()
        self.assertEqual(self.balance(self.customer), 35.0)
        self.assert_invariant()

    def test_settle_dues(self):
        """A customer in overdraft pays the amount due with a top-up: the balance is back to zero and
        no lot is made (the top-up settles the overdraft first)."""
        self.allow_overdraft(self.customer, 100.0)
        self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 1)],
                "customer": self.customer,
                "payments": [(self.credit_pm, 30.0)],
            }
        )
        self.assertEqual(self.balance(self.customer), -30.0)
        self.customer.invalidate_recordset(["credit_due", "credit_available"])
        self.assertEqual(self.customer.with_company(self.company).credit_due, 30.0)

        order = self.sync_topup(30.0, self.customer)
        settle = self.ledger(self.customer, kind="topup")
        self.assertEqual(settle.mapped("amount"), [30.0])
        self.assertFalse(settle.lot_id, "all of it settles the overdraft")
        self.assertEqual(settle.pos_order_id, order)
        self.assertEqual(self.balance(self.customer), 0.0)
        self.assertEqual(order.credit_balance_after, 0.0)
        self.customer.invalidate_recordset(["credit_due", "credit_available"])
        self.assertEqual(self.customer.with_company(self.company).credit_due, 0.0)
        self.assert_invariant()
        self.close_session()
        self.assert_topup_clearing_settled()
        self.assert_clearing_settled()
        self.assertEqual(self.gl_balance(self.customer), 0.0)
        self.assert_invariant()

    def test_pay_later_within_limit(self):
        """A customer allowed an overdraft pays beyond the balance, up to the limit: no shortfall to
        check; the order says what is now due."""
        self.allow_overdraft(self.customer, 50.0)
        self.service._topup(self.customer, 10.0, self.cash_journal)
        partner = self.customer.with_company(self.company)
        partner.invalidate_recordset(["credit_available", "credit_due"])
        self.assertEqual(partner.credit_available, 60.0, "the balance and the overdraft room")
        activities = self.env["mail.activity"].search_count([])
        orders = self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 1)],
                "customer": self.customer,
                "payments": [(self.credit_pm, 30.0)],
            }
        )
        order = next(iter(orders.values()))
        self.assertEqual(self.balance(self.customer), -20.0)
        self.assertEqual(order.credit_balance_after, -20.0)
        self.assertEqual(sorted(self.ledger(self.customer, kind="spend").mapped("amount")), [-20.0, -10.0])
        self.assertEqual(self.env["mail.activity"].search_count([]), activities, "within the limit")
        partner.invalidate_recordset(["credit_available", "credit_due"])
        self.assertEqual((partner.credit_available, partner.credit_due), (30.0, 20.0))
        self.close_session()
        self.assert_clearing_settled()
        self.assert_invariant()

    def test_invoiced_topup(self):
        """An invoiced top-up: its invoice line is on the top-up clearing account too (a receivable
        account could not be on an invoice line), and nothing is revenue."""
        order = self.sync_topup(25.0, self.customer, is_invoiced=True)
        invoice = order.account_move
        self.assertTrue(invoice)
        product_line = invoice.invoice_line_ids.filtered(lambda line: line.product_id == self.topup_product)
        self.assertEqual(product_line.account_id, self.topup_account)
        self.assertEqual(self.balance(self.customer), 25.0)
        self.close_session()
        self.assert_topup_clearing_settled()
        self.assert_invariant()

    def test_refunded_topup_withdraws(self):
        """Refunding a top-up line in cash takes the credit back (Dr Customer Credit / Cr top-up
        clearing), keyed by the refund line."""
        order = self.sync_topup(50.0, self.customer)
        refund = self.topup_data(50.0, self.customer, payments=[(self.cash_pm1, -50.0)])
        refund["lines"][0][2].update(qty=-1, price_subtotal=-50.0, price_subtotal_incl=-50.0)
        refund["lines"][0][2]["refunded_orderline_id"] = order.lines.id
        refund.update(amount_total=-50.0, amount_paid=-50.0)
        self.env["pos.order"].sync_from_ui([refund])
        self.assertEqual(self.ledger(self.customer, kind="withdraw").mapped("amount"), [-50.0])
        self.assertEqual(self.balance(self.customer), 0.0)
        self.close_session()
        self.assert_topup_clearing_settled()
        self.assert_invariant()

    @mute_logger("odoo.addons.customer_credit.models.pos_order")
    def test_topup_without_customer_never_fails_sync(self):
        """A top-up line without a customer (or any other failure) still saves the order, and tells
        the credit managers."""
        activities = self.env["mail.activity"].search_count([])
        order = self.sync_topup(20.0, False)
        self.assertEqual(order.state, "paid")
        self.assertFalse(self.env["customer.credit.line"].search([("pos_order_id", "=", order.id)]))
        self.assertIn("could not be recorded", order.message_ids[:1].body)
        self.assertGreater(self.env["mail.activity"].search_count([]), activities)
        self.assert_invariant()
