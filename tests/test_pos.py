"""Customer credit at the Point of Sale, through Odoo's own sync (``sync_from_ui``) and session close."""

from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .pos_common import (
    CustomerCreditPosCase,
    CustomerCreditPosMixin,  # noqa: F401  (re-exported: other test modules import it from here)
)


@tagged("post_install", "-at_install")
class TestPosCustomerCredit(CustomerCreditPosCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_b = cls.create_product("Credit Product B", cls.categ_basic, 20.0)

    # ------------------------------------------------------------------

    def test_set_up_is_validated(self):
        """A credit method must use the Customer Credit journal, not split, clearing as receivable."""
        with self.assertRaisesRegex(ValidationError, "Identify Customer: off"):
            self.credit_pm.copy({"split_transactions": True, "config_ids": []})
        with self.assertRaisesRegex(ValidationError, "Intermediary Account"):
            self.credit_pm.copy({"receivable_account_id": self.pos_receivable_bank.id})
        with self.assertRaisesRegex(ValidationError, "Journal: "):
            self.env["pos.payment.method"].create(
                {
                    "name": "Wrong credit",
                    "is_credit_method": True,
                    "journal_id": self.cash_journal.id,
                    "receivable_account_id": self.clearing_account.id,
                }
            )

    def test_loader_gives_credit_fields(self):
        self.service._topup(self.customer, 15.0, self.cash_journal, credit_type="product", product=self.product_a)
        fields_list = self.env["res.partner"]._load_pos_data_fields(self.config.id)
        for fname in ("credit_available", "credit_due", "credit_pos_lots"):
            self.assertIn(fname, fields_list)
        # a cashier (no credit group) reads them, and a customer found by search gets them in the
        # same response
        cashier = self.new_pos_user("cc_pos_cashier")
        (found,) = (
            self.env["res.partner"]
            .with_user(cashier)
            .with_company(self.company)
            .search_read([("id", "=", self.customer.id)], fields_list, load=False)
        )
        self.assertEqual(found["credit_available"], 100.0)
        self.assertEqual(found["credit_due"], 0.0)
        self.assertEqual(
            [(lot["product_id"], lot["balance"]) for lot in found["credit_pos_lots"]], [(self.product_a.id, 15.0)]
        )

    def test_full_credit_order_and_close(self):
        orders = self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 1)],
                "customer": self.customer,
                "payments": [(self.credit_pm, 30.0)],
            }
        )
        order = next(iter(orders.values()))
        payment = order.payment_ids
        spend = self.ledger(self.customer, kind="spend")
        self.assertEqual(spend.mapped("amount"), [-30.0])
        self.assertEqual((spend.pos_order_id, spend.pos_payment_id), (order, payment))
        self.assertEqual(self.balance(self.customer), 70.0)
        self.assertEqual(self.gl_balance(self.customer), -70.0)
        self.assertEqual(self.gl_balance(self.customer, account=self.clearing_account), -30.0)
        self.assert_invariant()

        session = self.close_session()
        closing = session.move_id.line_ids.filtered(lambda line: line.account_id == self.clearing_account)
        self.assertEqual((closing.debit, closing.credit, closing.partner_id.id), (30.0, 0.0, False))
        self.assertFalse(session.customer_credit_reconcile_pending, "a small session is reconciled by its close")
        self.assert_clearing_settled()
        self.assertEqual(self.balance(self.customer), 70.0)
        self.assertEqual(len(self.ledger(self.customer, kind="spend")), 1, "the close posts nothing on credit")
        self.assert_invariant()

    def test_big_session_reconciled_in_background(self):
        """Over the close's limit of clearing items, the close leaves their reconciliation to the
        scheduled action it triggers; the books already agree with the ledger, and the job settles
        POS Credit Clearing once, an order invoiced in between on its own."""
        self.env["ir.config_parameter"].sudo().set_param("customer_credit.pos_close_reconcile_limit", "2")
        cron = self.env.ref("customer_credit.ir_cron_customer_credit_pos_reconcile")
        orders = self.sync(
            *(
                {
                    "pos_order_lines_ui_args": [(self.product_a, 1)],
                    "customer": self.customer,
                    "payments": [(self.credit_pm, 30.0)],
                }
                for _i in range(2)
            ),
            {
                "pos_order_lines_ui_args": [(self.product_a, 1), (self.product_b, 1)],
                "customer": self.customer,
                "payments": [(self.cash_pm1, 20.0), (self.credit_pm, 30.0)],
            },
        )
        triggers = self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)])
        session = self.close_session()
        # 3 spends + the closing entry's debit: over the limit of 2
        self.assertTrue(session.customer_credit_reconcile_pending)
        self.assertTrue(self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)]) - triggers)
        open_lines = self.clearing_lines().filtered(lambda line: not line.reconciled)
        self.assertEqual(sorted(open_lines.mapped("balance")), [-30.0, -30.0, -30.0, 90.0])
        self.assertEqual(self.balance(self.customer), 10.0)
        self.assert_invariant()

        # invoiced before the job runs: settled with the reversal of its part of the closing entry
        late = next(order for order in orders.values() if len(order.payment_ids) == 2)
        late.action_pos_order_invoice()
        self.assertTrue(late.account_move.currency_id.is_zero(late.account_move.amount_residual))

        self.assertEqual(self.env["pos.session"]._cron_customer_credit_reconcile(), session)
        self.assertFalse(session.customer_credit_reconcile_pending)
        self.assert_clearing_settled()
        self.assertEqual(self.balance(self.customer), 10.0)
        self.assertEqual(len(self.ledger(self.customer, kind="spend")), 3, "reconciling posts nothing on credit")
        self.assert_invariant()
        self.assertFalse(self.env["pos.session"]._cron_customer_credit_reconcile(), "nothing left to do")

    def close_one_credit_order(self, limit):
        """Sync one order paid 30.00 by credit and close the session, the close's limit at ``limit``."""
        self.env["ir.config_parameter"].sudo().set_param("customer_credit.pos_close_reconcile_limit", str(limit))
        self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 1)],
                "customer": self.customer,
                "payments": [(self.credit_pm, 30.0)],
            }
        )
        return self.close_session()

    def test_close_reconciles_itself_without_its_scheduled_action(self):
        """With the scheduled action switched off, nothing would reconcile a flagged session: the close
        reconciles its items itself, whatever their number."""
        self.env.ref("customer_credit.ir_cron_customer_credit_pos_reconcile").active = False
        session = self.close_one_credit_order(limit=0)
        self.assertFalse(session.customer_credit_reconcile_pending)
        self.assert_clearing_settled()
        self.assert_invariant()

    def test_background_reconcile_failure_keeps_the_session_flagged(self):
        """A session whose clearing cannot be reconciled is logged and stays flagged; the job's next
        run reconciles it."""
        session = self.close_one_credit_order(limit=0)
        self.assertTrue(session.customer_credit_reconcile_pending)
        Session = type(self.env["pos.session"])
        with (
            patch.object(Session, "_customer_credit_reconcile", side_effect=UserError("boom"), autospec=True),
            self.assertLogs("odoo.addons.customer_credit.models.pos_session", "WARNING") as logs,
        ):
            self.assertFalse(self.env["pos.session"]._cron_customer_credit_reconcile())
        self.assertIn("could not be reconciled: boom", logs.output[0])
        self.assertTrue(session.customer_credit_reconcile_pending)
        self.assertTrue(self.clearing_lines().filtered(lambda line: not line.reconciled))
        self.assertEqual(self.env["pos.session"]._cron_customer_credit_reconcile(), session)
        self.assertFalse(session.customer_credit_reconcile_pending)
        self.assert_clearing_settled()
        self.assert_invariant()

    def test_credit_and_cash_product_lot(self):
        """Credit plus cash; the product lot pays only its product's lines, generic credit the rest."""
        lot_lines = self.service._topup(
            self.customer, 25.0, self.cash_journal, credit_type="product", product=self.product_b
        )
        self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 1), (self.product_b, 1)],
                "customer": self.customer,
                "payments": [(self.cash_pm1, 10.0), (self.credit_pm, 40.0)],
            }
        )
        spend = self.ledger(self.customer, kind="spend")
        by_lot = {line.lot_id: line.amount for line in spend}
        self.assertEqual(by_lot[lot_lines.lot_id], -20.0, "the lot pays at most its product's line")
        self.assertEqual(sum(spend.mapped("amount")), -40.0)
        self.assertEqual(lot_lines.lot_id.balance, 5.0)
        self.assertEqual(self.balance(self.customer), 85.0)
        self.close_session()
        self.assert_clearing_settled()
        self.assert_invariant()

    def test_same_order_synced_twice(self):
        params = {
            "pos_order_lines_ui_args": [(self.product_a, 1)],
            "customer": self.customer,
            "payments": [(self.credit_pm, 30.0)],
            "uuid": "cc-pos-twice",
        }
        data = self.create_ui_order_data(**params)
        self.env["pos.order"].sync_from_ui([data])
        self.env["pos.order"].sync_from_ui([self.create_ui_order_data(**params)])
        self.assertEqual(self.env["pos.order"].search_count([("uuid", "=", "cc-pos-twice")]), 1)
        self.assertEqual(len(self.ledger(self.customer, kind="spend")), 1)
        # the same payment processed again (a retried RPC) spends nothing more
        order = self.env["pos.order"].search([("uuid", "=", "cc-pos-twice")])
        order._customer_credit_process_payments()
        self.assertEqual(len(self.ledger(self.customer, kind="spend")), 1)
        self.assertEqual(self.balance(self.customer), 70.0)
        self.assert_invariant()

    def test_shortfall_at_sync_is_overdraft(self):
        """An order the till took offline with more credit than the customer has is saved."""
        self.service._topup(self.other_customer, 10.0, self.cash_journal)
        activities = self.env["mail.activity"].search_count([])
        orders = self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 1)],
                "customer": self.other_customer,
                "payments": [(self.credit_pm, 30.0)],
            }
        )
        order = next(iter(orders.values()))
        self.assertEqual(order.state, "paid")
        self.assertEqual(self.balance(self.other_customer), -20.0)
        self.assertGreater(self.env["mail.activity"].search_count([]), activities)
        self.close_session()
        self.assert_clearing_settled()
        self.assert_invariant()

    @mute_logger("odoo.addons.customer_credit.models.pos_order")
    def test_sync_never_fails_for_credit(self):
        """A credit payment that cannot be recorded (no customer) still saves the order."""
        orders = self.sync({"pos_order_lines_ui_args": [(self.product_a, 1)], "payments": [(self.credit_pm, 30.0)]})
        order = next(iter(orders.values()))
        self.assertEqual(order.state, "paid")
        self.assertFalse(self.env["customer.credit.line"].sudo().search([("pos_order_id", "=", order.id)]))
        self.assertIn("could not be recorded", order.message_ids[:1].body)
        self.assert_invariant()

    def test_invoiced_at_sync(self):
        orders = self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 1), (self.product_b, 1)],
                "customer": self.customer,
                "is_invoiced": True,
                "payments": [(self.cash_pm1, 20.0), (self.credit_pm, 30.0)],
            }
        )
        order = next(iter(orders.values()))
        invoice = order.account_move
        self.assertTrue(invoice)
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual), "cash and credit pay the invoice")
        spend = self.ledger(self.customer, kind="spend")
        self.assertEqual(spend.invoice_id, invoice)
        self.assertEqual(self.balance(self.customer), 70.0)
        self.close_session()
        self.assertTrue(self.currency.is_zero(sum(self.clearing_lines().mapped("balance"))))
        self.assert_invariant()

    def test_invoiced_after_close(self):
        orders = self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 1), (self.product_b, 1)],
                "customer": self.customer,
                "payments": [(self.cash_pm1, 20.0), (self.credit_pm, 30.0)],
            }
        )
        order = next(iter(orders.values()))
        self.close_session()
        self.assert_clearing_settled()
        order.action_pos_order_invoice()
        invoice = order.account_move
        self.assertEqual(invoice.amount_total, 50.0)
        self.assertTrue(invoice.currency_id.is_zero(invoice.amount_residual), invoice.amount_residual)
        self.assert_clearing_settled()
        self.assertEqual(self.balance(self.customer), 70.0)
        self.assertEqual(len(self.ledger(self.customer, kind="spend")), 1)
        self.assert_invariant()

    def test_partial_refund(self):
        orders = self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 2)],
                "customer": self.customer,
                "payments": [(self.credit_pm, 60.0)],
            }
        )
        order = next(iter(orders.values()))
        self.assertEqual(self.balance(self.customer), 40.0)
        refund_order = self.sync_refund(order, [(self.product_a, -1)], [(self.credit_pm, -30.0)])
        given_back = self.ledger(self.customer, kind="refund")
        self.assertEqual(given_back.mapped("amount"), [30.0])
        self.assertEqual(given_back.pos_order_id, refund_order)
        self.assertEqual(given_back.refunded_line_id, self.ledger(self.customer, kind="spend"))
        self.assertEqual(self.balance(self.customer), 70.0)
        self.assert_invariant()
        session = self.close_session()
        closing = session.move_id.line_ids.filtered(lambda line: line.account_id == self.clearing_account)
        self.assertEqual(sum(closing.mapped("balance")), 30.0)
        self.assert_clearing_settled()
        self.assert_invariant()
