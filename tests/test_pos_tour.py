"""The cashier's credit flows in the real Point of Sale (headless Chromium), checked in the books."""

from odoo.tests import tagged

from .pos_common import CustomerCreditPosTourCase


@tagged("post_install", "-at_install")
class TestPosCustomerCreditTour(CustomerCreditPosTourCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gadget = cls.env["product.product"].create(
            {"name": "Credit Gadget", "available_in_pos": True, "list_price": 20.0, "taxes_id": False}
        )
        cls.carol = cls.env["res.partner"].create({"name": "AA Credit Carol"})
        cls.service._topup(cls.alice, 100.0, cls.cash_journal)
        cls.service._topup(cls.bob, 5.0, cls.cash_journal)
        cls.service._topup(cls.carol, 10.0, cls.cash_journal)
        cls.gadget_lot = cls.service._topup(
            cls.carol, 25.0, cls.cash_journal, credit_type="product", product=cls.gadget
        ).lot_id

    def spent(self, partner):
        return self.ledger(partner, kind="spend").mapped("amount")

    def test_pay_with_credit(self):
        """Partner list, full credit, credit + cash with the customer picked at payment, nothing left,
        more than available, more than due; receipts."""
        self.start_credit_tour("CustomerCreditPosPayTour")
        orders = self.main_pos_config.current_session_id.order_ids
        self.assertEqual(len(orders), 4)
        self.assertEqual(self.spent(self.alice), [-30.0, -8.0])
        self.assertEqual(self.spent(self.bob), [-5.0])
        self.assertEqual(self.ledger(self.alice, kind="spend").pos_order_id.mapped("amount_total"), [30.0, 90.0])
        self.assertTrue(all(self.ledger(self.alice, kind="spend").mapped("pos_payment_id")))
        self.assertEqual((self.balance(self.alice), self.balance(self.bob)), (62.0, 0.0))
        self.assertEqual(self.gl_balance(self.alice), -62.0)
        self.assertEqual(self.gl_balance(self.alice, account=self.clearing_account), -38.0)
        self.assertEqual(self.gl_balance(self.bob, account=self.clearing_account), -5.0)
        self.assert_invariant()

        session = self.close_session()
        closing = session.move_id.line_ids.filtered(lambda line: line.account_id == self.clearing_account)
        self.assertEqual(sum(closing.mapped("debit")), 43.0)
        self.assert_clearing_settled()
        self.assertEqual((self.balance(self.alice), self.balance(self.bob)), (62.0, 0.0))
        self.assert_invariant()

    def test_product_lot(self):
        self.start_credit_tour("CustomerCreditPosLotTour")
        spend = self.ledger(self.carol, kind="spend")
        self.assertEqual(sum(spend.mapped("amount")), -30.0)
        self.assertEqual(spend.filtered(lambda line: line.lot_id == self.gadget_lot).amount, -20.0)
        self.assertEqual(self.gadget_lot.balance, 5.0)
        self.assertEqual(self.balance(self.carol), 5.0)
        self.assert_invariant()
        self.close_session()
        self.assert_clearing_settled()
        self.assert_invariant()

    def test_refund(self):
        self.start_credit_tour("CustomerCreditPosRefundTour")
        self.assertEqual(self.spent(self.alice), [-60.0])
        refund = self.ledger(self.alice, kind="refund")
        self.assertEqual(refund.mapped("amount"), [30.0])
        self.assertTrue(refund.pos_order_id.amount_total < 0)
        self.assertEqual(self.balance(self.alice), 70.0)
        self.assert_invariant()
        session = self.close_session()
        closing = session.move_id.line_ids.filtered(lambda line: line.account_id == self.clearing_account)
        self.assertEqual(sum(closing.mapped("balance")), 30.0)
        self.assert_clearing_settled()
        self.assert_invariant()
