"""The POS cash desk in the real Point of Sale (headless Chromium), checked in the books: a credit
top-up paid cash, paying later within the overdraft limit, settling the dues."""

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon
from odoo.tests import tagged

from .test_pos import CustomerCreditPosMixin

INCOME_TYPES = ("income", "income_other")


@tagged("post_install", "-at_install")
class TestPosCustomerCreditCashDeskTour(CustomerCreditPosMixin, TestPointOfSaleHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.main_pos_config.company_id
        cls.currency = cls.company.currency_id
        cls._setup_customer_credit_pos(cls.main_pos_config)
        cls.company.write({"credit_topup_min": 5.0, "credit_topup_max": 1000.0})
        cls.topup_account = cls.company.credit_topup_clearing_account_id
        cls.topup_product = cls.env.ref("customer_credit.product_credit_topup")
        cls.cash_journal = cls.env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", cls.company.id)], limit=1
        )
        cls.widget = cls.env["product.product"].create(
            {"name": "Desk Widget", "available_in_pos": True, "list_price": 30.0, "taxes_id": False}
        )
        Partner = cls.env["res.partner"]
        # "AA" so that they are among the customers the till preloads (by name)
        cls.alice = Partner.create({"name": "AA Desk Alice"})
        cls.bob = Partner.create({"name": "AA Desk Bob"})
        cls.bob.with_company(cls.company).sudo().write(
            {"credit_allow_overdraft": True, "credit_overdraft_limit": 100.0}
        )
        service = cls.env["customer.credit.service"].sudo().with_company(cls.company)
        service._topup(cls.alice, 20.0, cls.cash_journal)
        service._topup(cls.bob, 10.0, cls.cash_journal)

    def close_session(self):
        session = self.main_pos_config.current_session_id
        cash = sum(session.order_ids.payment_ids.filtered(lambda p: p.payment_method_id.is_cash_count).mapped("amount"))
        session.post_closing_cash_details(cash)
        session.close_session_from_ui()
        self.assertEqual(session.state, "closed")
        return session

    def closing_income(self, session):
        lines = session.move_id.line_ids.filtered(lambda line: line.account_id.account_type in INCOME_TYPES)
        return self.currency.round(sum(lines.mapped("balance")))

    def assert_topup_clearing_settled(self):
        lines = self.env["account.move.line"].search(
            [("account_id", "=", self.topup_account.id), ("parent_state", "=", "posted")]
        )
        self.assertTrue(lines)
        self.assertTrue(self.currency.is_zero(sum(lines.mapped("balance"))), lines.mapped("balance"))
        self.assertTrue(all(lines.mapped("reconciled")), [(line.move_id.name, line.balance) for line in lines])

    def test_topup_paid_cash(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("CustomerCreditPosTopupTour", login="pos_user")
        orders = self.main_pos_config.current_session_id.order_ids.filtered(lambda order: order.state != "draft")
        self.assertEqual(len(orders), 1, "the refused amount added nothing")
        topup = self.ledger(self.alice, kind="topup")
        self.assertEqual(topup.mapped("amount"), [20.0, 50.0])
        line = topup[-1]
        self.assertEqual(line.pos_order_id, orders)
        self.assertEqual((line.lot_id.origin, line.lot_id.balance), ("pos", 50.0))
        self.assertEqual(orders.lines.product_id, self.topup_product)
        self.assertEqual(orders.payment_ids.payment_method_id.mapped("is_cash_count"), [True])
        self.assertEqual(self.balance(self.alice), 70.0)
        self.assertEqual(self.gl_balance(self.alice), -70.0)
        self.assertEqual(self.gl_balance(self.alice, account=self.topup_account), 50.0)
        self.assert_invariant()

        session = self.close_session()
        self.assertEqual(self.closing_income(session), 0.0, "a top-up is no revenue")
        closing = session.move_id.line_ids.filtered(lambda line: line.account_id == self.topup_account)
        self.assertEqual(sum(closing.mapped("balance")), -50.0)
        self.assert_topup_clearing_settled()
        self.assertEqual(self.balance(self.alice), 70.0)
        self.assert_invariant()

    def test_settle_dues(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("CustomerCreditPosSettleDuesTour", login="pos_user")
        spend = self.ledger(self.bob, kind="spend")
        self.assertEqual(sorted(spend.mapped("amount")), [-20.0, -10.0], "10.00 of credit, 20.00 of overdraft")
        settle = self.ledger(self.bob, kind="topup")[1:]
        self.assertEqual(settle.mapped("amount"), [20.0])
        self.assertFalse(settle.lot_id, "the top-up settled the overdraft")
        self.assertEqual(settle.pos_order_id.lines.product_id, self.topup_product)
        self.assertEqual(self.balance(self.bob), 0.0)
        self.bob.invalidate_recordset(["credit_due"])
        self.assertEqual(self.bob.with_company(self.company).credit_due, 0.0)
        self.assert_invariant()

        session = self.close_session()
        self.assertEqual(self.closing_income(session), -30.0, "the widget only")
        self.assert_topup_clearing_settled()
        self.assert_clearing_settled()
        self.assertEqual(self.gl_balance(self.bob), 0.0)
        self.assert_invariant()
