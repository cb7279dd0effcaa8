"""Credit at a till that loses the network: orders taken offline, then synced."""

from odoo.tests import tagged

from .pos_common import CustomerCreditPosCase, CustomerCreditPosTourCase


@tagged("post_install", "-at_install")
class TestPosCustomerCreditOfflineTour(CustomerCreditPosTourCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service._topup(cls.alice, 60.0, cls.cash_journal)
        cls.service._topup(cls.bob, 5.0, cls.cash_journal)

    def test_offline_orders(self):
        """Two credit orders of one customer taken offline: the second can only spend what the
        first left of the cached balance; back online, both are synced and spent exactly once."""
        session = self.start_credit_tour("CustomerCreditPosOfflineTour")
        orders = session.order_ids.sorted("id")
        self.assertEqual(len(orders), 2)
        self.assertEqual(orders.mapped("state"), ["paid", "paid"])
        spend = self.ledger(self.alice, kind="spend")
        self.assertEqual(spend.mapped("amount"), [-30.0, -30.0], "exactly two spends, no duplicate")
        self.assertEqual(spend.pos_order_id, orders)
        self.assertEqual(len(spend.pos_payment_id), 2)
        self.assertEqual(
            orders[1].payment_ids.filtered(lambda p: not p.payment_method_id.is_credit_method).amount, 30.0
        )
        self.assertEqual((self.balance(self.alice), self.balance(self.bob)), (0.0, 5.0))
        self.assertFalse(self.ledger(self.bob, kind="spend"))
        self.assertEqual(self.gl_balance(self.alice, account=self.clearing_account), -60.0)
        self.assert_invariant()
        self.close_session(30.0)
        self.assert_clearing_settled()
        self.assertEqual(self.balance(self.alice), 0.0)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestPosCustomerCreditOfflineSync(CustomerCreditPosCase):
    """What the server does with orders a till took offline (``sync_from_ui``, Odoo's queue)."""

    customer_topup = 50.0
    session_methods = ("cash_pm1", "credit_pm")

    def offline_orders(self):
        """Two orders of one customer, paid 30.00 and 20.00 with credit, as the till queued them."""
        return [
            self.create_ui_order_data(
                [(self.product_a, 1)], customer=self.customer, payments=[(self.credit_pm, 30.0)], uuid="cc-offline-1"
            ),
            self.create_ui_order_data(
                [(self.product_a, 1)],
                customer=self.customer,
                payments=[(self.credit_pm, 20.0), (self.cash_pm1, 10.0)],
                uuid="cc-offline-2",
            ),
        ]

    def test_double_sync_spends_twice(self):
        """The queue sends the same two orders again (the answer was lost): each is spent once, in order."""
        self.env["pos.order"].sync_from_ui(self.offline_orders())
        self.env["pos.order"].sync_from_ui(self.offline_orders())
        orders = self.env["pos.order"].search([("uuid", "in", ["cc-offline-1", "cc-offline-2"])], order="id")
        self.assertEqual(len(orders), 2)
        spend = self.ledger(self.customer, kind="spend")
        self.assertEqual(spend.mapped("amount"), [-30.0, -20.0])
        self.assertEqual(spend.pos_order_id, orders)
        self.assertEqual(self.balance(self.customer), 0.0)
        self.assertEqual(self.gl_balance(self.customer), 0.0)
        self.assert_invariant()

    def test_shortfall_at_sync_is_overdraft_with_activity(self):
        """Spent elsewhere while the till was offline: the orders are saved anyway, the shortfall
        is an overdraft and the credit managers get an activity."""
        self.service._spend(self.customer, 40.0, counterpart_account=self.sales_account)
        self.assertEqual(self.balance(self.customer), 10.0)
        activities_before = self.env["mail.activity"].search([])
        self.env["pos.order"].sync_from_ui(self.offline_orders())
        orders = self.env["pos.order"].search([("uuid", "in", ["cc-offline-1", "cc-offline-2"])], order="id")
        self.assertEqual(orders.mapped("state"), ["paid", "paid"])
        spend = self.ledger(self.customer, kind="spend").filtered("pos_order_id")
        self.assertEqual(sum(spend.mapped("amount")), -50.0, "every order the till took is spent in full")
        self.assertEqual(self.balance(self.customer), -40.0, "the shortfall is an overdraft")
        self.assertEqual(self.env["res.partner"].browse(self.customer.id).credit_due, 40.0)
        activities = self.env["mail.activity"].search([]) - activities_before
        self.assertTrue(activities, "the credit managers are told")
        self.assertEqual(activities.user_id, self.service._credit_manager(self.company))
        self.assertIn(("res.partner", self.customer.id), [(a.res_model, a.res_id) for a in activities])
        self.assert_invariant()
        self.close_session(10.0)
        self.assert_clearing_settled()
        self.assert_invariant()
