"""Invoices of orders paid partly by customer credit: the POS setting "Full amount / without credit"."""

from odoo.tests import Form, tagged

from .pos_common import CustomerCreditPosCase


@tagged("post_install", "-at_install")
class TestPosCreditInvoiceSetting(CustomerCreditPosCase):
    # each test opens its session once it has chosen the mode
    open_session = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice_clearing = cls.company.credit_invoice_clearing_account_id
        # 22.00 tax included: 20.00 + 2.00 of tax
        cls.product_t = cls.create_product(
            "Credit Invoice Taxed", cls.categ_basic, 22.0, tax_ids=cls.taxes["tax10"].ids
        )
        cls.income_account = cls.product_a._get_product_accounts()["income"]
        cls.tax_account = cls.tax_received_account

    def setUp(self):
        super().setUp()
        self.env.flush_all()
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM account_move_line")
        self.last_aml = self.env.cr.fetchone()[0]

    # ---- helpers -------------------------------------------------------

    def sell(self, mode, to_invoice):
        """One order of 52.00 (30.00 untaxed + 22.00 tax included), 22.00 cash and 30.00 credit."""
        self.config.credit_invoice_mode = mode
        self.open_new_session()
        orders = self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 1), (self.product_t, 1)],
                "customer": self.customer,
                "is_invoiced": to_invoice,
                "payments": [(self.cash_pm1, 22.0), (self.credit_pm, 30.0)],
            }
        )
        return next(iter(orders.values()))

    def new_lines(self, account):
        """Posted lines of ``account`` written by this test."""
        return (
            self.env["account.move.line"]
            .sudo()
            .search([("account_id", "=", account.id), ("parent_state", "=", "posted"), ("id", ">", self.last_aml)])
        )

    def posted(self, account):
        """``{partner name: balance}`` of the posted lines of ``account`` written by this test."""
        result = {}
        for line in self.new_lines(account):
            key = line.partner_id.name or ""
            result[key] = self.currency.round(result.get(key, 0.0) + line.balance)
        return result

    def assert_settled(self, account):
        lines = self.new_lines(account)
        self.assertTrue(self.currency.is_zero(sum(lines.mapped("balance"))), lines.mapped("balance"))
        self.assertTrue(all(lines.mapped("reconciled")), [(line.move_id.name, line.balance) for line in lines])
        return lines

    def assert_books(self, invoice, income):
        """What every mode must end with: revenue booked once, credit spent once, the intermediary
        accounts and the customer's receivable net to zero and reconciled."""
        customer = self.customer.name
        self.assertEqual(self.posted(self.income_account), income)
        self.assertEqual(sum(self.posted(self.income_account).values()), -50.0, "the sale is booked once")
        self.assertEqual(sum(self.posted(self.tax_account).values()), -2.0)
        self.assertEqual(self.posted(self.credit_account), {customer: 30.0})
        self.assertEqual(self.balance(self.customer), 70.0)
        self.assertEqual(self.gl_balance(self.customer), -70.0)
        spend = self.ledger(self.customer, kind="spend")
        self.assertEqual(spend.mapped("amount"), [-30.0], "the credit is spent once")
        for account in (self.clearing_account, self.invoice_clearing, self.c1_receivable):
            self.assert_settled(account)
        self.assertTrue(self.currency.is_zero(invoice.amount_residual), invoice.amount_residual)
        self.assertEqual(invoice.payment_state, "paid")
        self.assert_invariant()

    def credit_line(self, invoice):
        return invoice.invoice_line_ids.filtered(lambda line: line.account_id == self.invoice_clearing)

    # ---- the setting ---------------------------------------------------

    def test_setting(self):
        """A POS setting, 'Full amount' by default."""
        self.assertEqual(self.config.credit_invoice_mode, "full")
        self.assertEqual(self.env["pos.config"].create({"name": "Other shop"}).credit_invoice_mode, "full")
        settings = Form(
            self.env["res.config.settings"].with_context(active_model="pos.config", active_id=self.config.id)
        )
        self.assertEqual(settings.pos_credit_invoice_mode, "full")
        settings.pos_credit_invoice_mode = "without_credit"
        settings.save().execute()
        self.assertEqual(self.config.credit_invoice_mode, "without_credit")
        # the intermediary account of the invoices: reconcilable, not a receivable (it is on an invoice line)
        self.assertTrue(self.invoice_clearing.reconcile)
        self.assertNotIn(self.invoice_clearing.account_type, ("asset_receivable", "liability_payable"))

    # ---- invoiced at the till ------------------------------------------

    def test_invoiced_at_till_full_amount(self):
        order = self.sell("full", to_invoice=True)
        invoice = order.account_move
        self.assertEqual((invoice.amount_total, invoice.amount_tax), (52.0, 2.0))
        self.assertFalse(self.credit_line(invoice))
        spend = self.ledger(self.customer, kind="spend")
        self.assertEqual(spend.invoice_id, invoice)
        # the credit pays the invoice: its receivable line is reconciled with the spend's
        receivable = invoice.line_ids.filtered(lambda line: line.account_id == self.c1_receivable)
        spend_receivable = spend.move_id.line_ids.filtered(lambda line: line.account_id == self.c1_receivable)
        self.assertEqual(spend_receivable.credit, 30.0)
        self.assertIn(spend_receivable, receivable.matched_credit_ids.credit_move_id)
        self.assertEqual(self.posted(self.c1_receivable), {self.customer.name: 0.0})
        self.assert_invariant()
        self.close_session()
        self.assertFalse(self.new_lines(self.clearing_account), "an invoiced order's credit never hits clearing")
        self.assertFalse(self.new_lines(self.invoice_clearing))
        self.assert_books(invoice, {self.customer.name: -50.0})

    def test_invoiced_at_till_without_credit(self):
        order = self.sell("without_credit", to_invoice=True)
        invoice = order.account_move
        # the invoice shows only what was not paid by credit; its tax is still on the whole sale
        self.assertEqual((invoice.amount_total, invoice.amount_tax), (22.0, 2.0))
        credit_line = self.credit_line(invoice)
        self.assertEqual(
            (credit_line.name, credit_line.price_unit, credit_line.tax_ids.ids),
            ("Paid with customer credit", -30.0, []),
        )
        self.assertEqual(credit_line.debit, 30.0)
        spend = self.ledger(self.customer, kind="spend")
        self.assertFalse(spend.invoice_id)
        spend_lines = spend.move_id.line_ids
        self.assertEqual(
            sorted((line.account_id.id, line.partner_id.id, line.debit, line.credit) for line in spend_lines),
            sorted(
                [
                    (self.credit_account.id, self.customer.id, 30.0, 0.0),
                    (self.invoice_clearing.id, self.customer.id, 0.0, 30.0),
                ]
            ),
        )
        # the credit part of the invoice is reconciled with the spend
        self.assertTrue(credit_line.reconciled)
        self.assertEqual(credit_line.matched_credit_ids.credit_move_id.move_id, spend.move_id)
        self.assertEqual(self.posted(self.invoice_clearing), {self.customer.name: 0.0})
        self.assert_invariant()
        self.close_session()
        self.assertFalse(self.new_lines(self.clearing_account))
        self.assert_books(invoice, {self.customer.name: -50.0})

    # ---- invoiced from the backend after the session closed ------------

    def test_invoiced_after_close_full_amount(self):
        order = self.sell("full", to_invoice=False)
        self.assertEqual(self.posted(self.clearing_account), {self.customer.name: -30.0})
        session = self.close_session()
        closing = session.move_id.line_ids.filtered(lambda line: line.account_id == self.clearing_account)
        self.assertEqual((closing.debit, closing.partner_id.id), (30.0, False))
        self.assert_settled(self.clearing_account)
        order.action_pos_order_invoice()
        invoice = order.account_move
        self.assertEqual((invoice.amount_total, invoice.amount_tax), (52.0, 2.0))
        self.assertFalse(self.credit_line(invoice))
        receivable = invoice.line_ids.filtered(lambda line: line.account_id == self.c1_receivable)
        self.assertTrue(receivable.reconciled)
        # Dr Clearing / Cr receivable pays the invoice with the credit spent at sync
        settle = receivable.matched_credit_ids.credit_move_id.filtered(lambda line: line.credit == 30.0).move_id
        self.assertEqual(
            sorted((line.account_id.id, line.debit, line.credit) for line in settle.line_ids),
            sorted([(self.clearing_account.id, 30.0, 0.0), (self.c1_receivable.id, 0.0, 30.0)]),
        )
        self.assertFalse(self.new_lines(self.invoice_clearing))
        # the closing entry's sale (no partner), the invoice's and the reversal of the closing entry's
        self.assert_books(invoice, {"": -50.0, self.customer.name: 0.0})

    def test_invoiced_after_close_without_credit(self):
        order = self.sell("without_credit", to_invoice=False)
        self.close_session()
        self.assert_settled(self.clearing_account)
        order.action_pos_order_invoice()
        invoice = order.account_move
        self.assertEqual((invoice.amount_total, invoice.amount_tax), (22.0, 2.0))
        credit_line = self.credit_line(invoice)
        self.assertEqual((credit_line.price_unit, credit_line.debit), (-30.0, 30.0))
        self.assertTrue(credit_line.reconciled)
        settle = credit_line.matched_credit_ids.credit_move_id.move_id
        self.assertEqual(
            sorted((line.account_id.id, line.debit, line.credit) for line in settle.line_ids),
            sorted([(self.clearing_account.id, 30.0, 0.0), (self.invoice_clearing.id, 0.0, 30.0)]),
        )
        self.assertEqual(self.posted(self.invoice_clearing), {self.customer.name: 0.0})
        self.assertEqual(len(self.ledger(self.customer)), 2, "the top-up and the one spend: nothing more")
        self.assert_books(invoice, {"": -50.0, self.customer.name: 0.0})

    # ---- invoiced from the backend while the session is open ----------

    def test_invoiced_before_close_without_credit(self):
        """Invoiced later but before the close (ticket screen, backend): the closing entry skips
        invoiced orders, so the credit spent at sync on clearing pays the invoice at once."""
        order = self.sell("without_credit", to_invoice=False)
        order.action_pos_order_invoice()
        invoice = order.account_move
        self.assertEqual(invoice.amount_total, 22.0)
        self.assertTrue(self.credit_line(invoice).reconciled)
        self.assert_settled(self.clearing_account)
        self.assert_invariant()
        session = self.close_session()
        self.assertFalse(session.move_id.line_ids.filtered(lambda line: line.account_id == self.clearing_account))
        self.assert_books(invoice, {self.customer.name: -50.0})

    def test_invoiced_before_close_full_amount(self):
        order = self.sell("full", to_invoice=False)
        order.action_pos_order_invoice()
        invoice = order.account_move
        self.assertEqual(invoice.amount_total, 52.0)
        self.assert_settled(self.clearing_account)
        self.close_session()
        self.assert_books(invoice, {self.customer.name: -50.0})

    # ---- refunds --------------------------------------------------------

    def test_refund_invoiced_at_till_without_credit(self):
        """The credit note of a refund also leaves the credit part out; the credit given back
        clears its 'Paid with customer credit' line."""
        order = self.sell("without_credit", to_invoice=True)
        refund_order = self.sync_refund(
            order,
            [(self.product_a, -1), (self.product_t, -1)],
            [(self.cash_pm1, -22.0), (self.credit_pm, -30.0)],
            is_invoiced=True,
        )
        credit_note = refund_order.account_move
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual((credit_note.amount_total, credit_note.amount_tax), (22.0, 2.0))
        credit_line = self.credit_line(credit_note)
        self.assertEqual((credit_line.price_unit, credit_line.credit), (-30.0, 30.0))
        self.assertTrue(credit_line.reconciled)
        given_back = self.ledger(self.customer, kind="refund")
        self.assertEqual(given_back.mapped("amount"), [30.0])
        self.assertEqual(credit_line.matched_debit_ids.debit_move_id.move_id, given_back.move_id)
        self.assertEqual(self.balance(self.customer), 100.0)
        self.assert_invariant()
        self.close_session()
        self.assertEqual(self.posted(self.income_account), {self.customer.name: 0.0})
        self.assertEqual(self.posted(self.credit_account), {self.customer.name: 0.0})
        for account in (self.clearing_account, self.invoice_clearing, self.c1_receivable):
            self.assert_settled(account)
        self.assert_invariant()

    def test_refund_to_store_credit_invoiced_without_credit(self):
        """A cash order refunded as store credit on an invoice without the credit part: the credit
        note's 'Paid with customer credit' line is cleared by the new store credit."""
        self.config.credit_invoice_mode = "without_credit"
        self.open_new_session()
        orders = self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 1)],
                "customer": self.customer,
                "payments": [(self.cash_pm1, 30.0)],
            }
        )
        order = next(iter(orders.values()))
        refund_order = self.sync_refund(order, [(self.product_a, -1)], [(self.credit_pm, -30.0)], is_invoiced=True)
        credit_note = refund_order.account_move
        self.assertEqual((credit_note.move_type, credit_note.amount_total), ("out_refund", 0.0))
        credit_line = self.credit_line(credit_note)
        self.assertEqual(credit_line.credit, 30.0)
        self.assertTrue(credit_line.reconciled)
        store = self.ledger(self.customer, kind="topup").filtered("pos_order_id")
        self.assertEqual(store.mapped("amount"), [30.0])
        self.assertEqual(credit_line.matched_debit_ids.debit_move_id.move_id, store.move_id)
        self.assertEqual(self.balance(self.customer), 130.0)
        self.assert_invariant()
        self.close_session()
        self.assert_settled(self.invoice_clearing)
        self.assertEqual(self.posted(self.credit_account), {self.customer.name: -30.0})
        self.assert_invariant()
