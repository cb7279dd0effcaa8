"""Credit at a till that loses the network: orders taken offline, then synced."""

from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon
from odoo.tests import tagged

from .test_pos import CustomerCreditPosMixin


@tagged("post_install", "-at_install")
class TestPosCustomerCreditOfflineTour(CustomerCreditPosMixin, TestPointOfSaleHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.main_pos_config.company_id
        cls.currency = cls.company.currency_id
        cls._setup_customer_credit_pos(cls.main_pos_config)
        cls.cash_journal = cls.env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", cls.company.id)], limit=1
        )
        cls.widget = cls.env["product.product"].create(
            {"name": "Credit Widget", "available_in_pos": True, "list_price": 30.0, "taxes_id": False}
        )
        Partner = cls.env["res.partner"]
        # "AA" so that they are among the customers the till preloads (by name)
        cls.alice = Partner.create({"name": "AA Credit Alice"})
        cls.bob = Partner.create({"name": "AA Credit Bob"})
        service = cls.env["customer.credit.service"].sudo().with_company(cls.company)
        service._topup(cls.alice, 60.0, cls.cash_journal)
        service._topup(cls.bob, 5.0, cls.cash_journal)

    def test_offline_orders(self):
        """Two credit orders of one customer taken offline: the second can only spend what the
        first left of the cached balance; back online, both are synced and spent exactly once."""
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("CustomerCreditPosOfflineTour", login="pos_user")
        session = self.main_pos_config.current_session_id
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
        session.post_closing_cash_details(30.0)
        session.close_session_from_ui()
        self.assertEqual(session.state, "closed")
        self.assert_clearing_settled()
        self.assertEqual(self.balance(self.alice), 0.0)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestPosCustomerCreditOfflineSync(CustomerCreditPosMixin, TestPoSCommon):
    """What the server does with orders a till took offline (``sync_from_ui``, Odoo's queue)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = cls.basic_config
        cls._setup_customer_credit_pos(cls.config)
        cls.cash_journal = cls.company_data["default_journal_cash"]
        cls.product_a = cls.create_product("Offline Product A", cls.categ_basic, 30.0)
        cls.service = cls.env["customer.credit.service"].sudo()
        cls.service._topup(cls.customer, 50.0, cls.cash_journal)

    def setUp(self):
        super().setUp()
        self.currency = self.company.currency_id
        self.config.write({"payment_method_ids": [(6, 0, (self.cash_pm1 | self.credit_pm).ids)]})
        self.open_new_session()

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
        session = self.pos_session
        session.post_closing_cash_details(10.0)
        session.close_session_from_ui()
        self.assertEqual(session.state, "closed")
        self.assert_clearing_settled()
        self.assert_invariant()
