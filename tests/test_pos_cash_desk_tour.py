"""The POS cash desk in the real Point of Sale (headless Chromium), checked in the books: a credit
top-up paid cash, paying later within the overdraft limit, settling the dues."""

from odoo.tests import tagged

from .pos_common import CustomerCreditPosTourCase

INCOME_TYPES = ("income", "income_other")


@tagged("post_install", "-at_install")
class TestPosCustomerCreditCashDeskTour(CustomerCreditPosTourCase):
    tour_label = "Desk"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"credit_topup_min": 5.0, "credit_topup_max": 1000.0})
        cls.topup_product = cls.env.ref("customer_credit.product_credit_topup")
        cls.allow_overdraft(cls.bob, 100.0)
        cls.service._topup(cls.alice, 20.0, cls.cash_journal)
        cls.service._topup(cls.bob, 10.0, cls.cash_journal)

    def closing_income(self, session):
        lines = session.move_id.line_ids.filtered(lambda line: line.account_id.account_type in INCOME_TYPES)
        return self.currency.round(sum(lines.mapped("balance")))

    def test_topup_paid_cash(self):
        self.start_credit_tour("CustomerCreditPosTopupTour")
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
        self.start_credit_tour("CustomerCreditPosSettleDuesTour")
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
