"""An online till never takes a customer below the credit floor.

The payment screen of an online till sends the uuid of the order its cashier is validating in the
sync's context (``customer_credit_strict_orders``): that order's credit spend is refused beyond
the customer's credit (overdraft limit included) and the whole sync fails with a message for the
cashier. Orders validated offline and sent later keep being forced (overdraft + activity).
"""

import contextlib

from odoo.exceptions import UserError
from odoo.tests import tagged

from .pos_common import CustomerCreditPosCase, CustomerCreditPosTourCase


@tagged("post_install", "-at_install")
class TestPosOnlineFloor(CustomerCreditPosCase):
    customer_topup = 10.0
    session_methods = ("cash_pm1", "credit_pm")

    def order_data(self, credit, cash=0.0, qty=1):
        payments = [(self.credit_pm, credit)] + ([(self.cash_pm1, cash)] if cash else [])
        return self.create_ui_order_data([(self.product_a, qty)], customer=self.customer, payments=payments)

    def sync(self, data, strict=True):
        PosOrder = self.env["pos.order"]
        if strict:
            PosOrder = PosOrder.with_context(customer_credit_strict_orders=[data["uuid"]])
        result = PosOrder.sync_from_ui([data])
        return PosOrder.browse([order["id"] for order in result["pos.order"]])

    @contextlib.contextmanager
    def refused(self, pattern="has only"):
        """The sync raises for the cashier, and its RPC's transaction is rolled back (here a savepoint)."""
        with self.assertRaisesRegex(UserError, pattern), self.env.cr.savepoint():
            yield

    def assert_nothing_saved(self, data):
        self.assertFalse(self.env["pos.order"].search([("uuid", "=", data["uuid"])]))
        self.assertFalse(self.ledger(self.customer, kind="spend"))
        self.assertFalse(self.clearing_lines())
        self.assertEqual(self.balance(self.customer), 10.0)
        self.assertEqual(self.gl_balance(self.customer), -10.0)
        self.assert_invariant()

    # ------------------------------------------------------------------

    def test_strict_shortfall_refused(self):
        """More credit than the customer has: the sync raises for the cashier, nothing is saved."""
        data = self.order_data(30.0)
        activities = self.env["mail.activity"].search_count([])
        with self.refused(r"has only .*10\.00.* for .*30\.00.*Another till or the web shop"):
            self.sync(data)
        self.assert_nothing_saved(data)
        self.assertEqual(self.env["mail.activity"].search_count([]), activities, "no shortfall activity")

    def test_strict_refusal_fails_the_whole_sync(self):
        """Another (offline) order in the same batch is not saved either: it is sent again later."""
        offline = self.order_data(5.0, cash=25.0)
        online = self.order_data(30.0)
        PosOrder = self.env["pos.order"].with_context(customer_credit_strict_orders=[online["uuid"]])
        with self.refused():
            PosOrder.sync_from_ui([offline, online])
        self.assertFalse(self.env["pos.order"].search([("uuid", "in", [offline["uuid"], online["uuid"]])]))
        self.assertFalse(self.ledger(self.customer, kind="spend"))
        self.assert_invariant()

    def test_strict_only_refuses_a_shortfall(self):
        """Any other credit problem of the order being validated (here: no customer to spend from)
        is handled as at every sync: the order is saved and the credit managers get an activity."""
        data = self.create_ui_order_data([(self.product_a, 1)], payments=[(self.credit_pm, 30.0)])
        activities = self.env["mail.activity"].search_count([])
        order = self.sync(data)
        self.assertEqual(order.state, "paid")
        self.assertFalse(self.env["customer.credit.line"].search([("pos_order_id", "=", order.id)]))
        self.assertGreater(self.env["mail.activity"].search_count([]), activities)
        self.assertIn("could not be recorded", order.message_ids[:1].body)
        self.assert_invariant()

    def test_not_strict_is_overdraft(self):
        """The same order without the context (validated offline, sent later): saved, overdraft."""
        activities = self.env["mail.activity"].search_count([])
        order = self.sync(self.order_data(30.0), strict=False)
        self.assertEqual(order.state, "paid")
        self.assertEqual(self.ledger(self.customer, kind="spend").mapped("amount"), [-10.0, -20.0])
        self.assertEqual(self.balance(self.customer), -20.0)
        self.assertGreater(self.env["mail.activity"].search_count([]), activities)
        self.assert_invariant()

    def test_strict_for_another_order_only(self):
        """The context names other orders: this one is forced as before."""
        data = self.order_data(30.0)
        order = self.env["pos.order"].with_context(customer_credit_strict_orders=["another-uuid"]).sync_from_ui([data])
        self.assertEqual(len(order["pos.order"]), 1)
        self.assertEqual(self.balance(self.customer), -20.0)
        self.assert_invariant()

    def test_strict_enough_credit(self):
        order = self.sync(self.order_data(10.0, cash=20.0))
        self.assertEqual(order.state, "paid")
        spend = self.ledger(self.customer, kind="spend")
        self.assertEqual(spend.mapped("amount"), [-10.0])
        self.assertEqual((spend.pos_order_id, spend.pos_payment_id.payment_method_id), (order, self.credit_pm))
        self.assertEqual(self.balance(self.customer), 0.0)
        self.assertEqual(self.gl_balance(self.customer, account=self.clearing_account), -10.0)
        self.assert_invariant()

    def test_strict_overdraft_limit(self):
        """With an overdraft limit of 20.00 the floor is -20.00: down to it, never beyond."""
        self.allow_overdraft(self.customer, 20.0)
        order = self.sync(self.order_data(30.0))
        self.assertEqual(order.state, "paid")
        self.assertEqual(self.balance(self.customer), -20.0)
        data = self.order_data(0.01, cash=29.99)
        with self.refused():
            self.sync(data)
        self.assertFalse(self.env["pos.order"].search([("uuid", "=", data["uuid"])]))
        self.assertEqual(self.balance(self.customer), -20.0)
        self.assertEqual(min(self.ledger(self.customer).mapped("partner_balance_after")), -20.0)
        self.assert_invariant()

    def test_strict_refund_unaffected(self):
        """A refund's credit line gives the credit back as before, strict or not."""
        order = self.sync(self.order_data(10.0, cash=20.0))
        refund = self.create_ui_order_data(
            [{"product": self.product_a, "quantity": -1, "refunded_orderline_id": order.lines.id}],
            customer=self.customer,
            payments=[(self.credit_pm, -10.0), (self.cash_pm1, -20.0)],
        )
        self.sync(refund)
        self.assertEqual(self.ledger(self.customer, kind="refund").mapped("amount"), [10.0])
        self.assertEqual(self.balance(self.customer), 10.0)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestPosOnlineFloorTour(CustomerCreditPosTourCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service._topup(cls.alice, 10.0, cls.cash_journal)

    def test_stale_figure_refused_then_cash(self):
        """The till shows more credit than the server has: the credit payment is refused on the
        payment screen, the cashier takes cash; one order, no credit spent."""
        session = self.start_credit_tour("CustomerCreditPosOnlineFloorTour")
        orders = session.order_ids
        self.assertEqual(len(orders), 1)
        self.assertEqual(orders.state, "paid")
        self.assertEqual(orders.partner_id, self.alice)
        self.assertEqual(orders.payment_ids.payment_method_id.mapped("is_cash_count"), [True])
        self.assertEqual(orders.payment_ids.mapped("amount"), [30.0])
        self.assertFalse(self.ledger(self.alice, kind="spend"))
        self.assertEqual(self.balance(self.alice), 10.0)
        self.assertEqual(self.gl_balance(self.alice), -10.0)
        self.assert_invariant()
