"""The cashier's credit flows in the real Point of Sale (headless Chromium), checked in the books."""

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon
from odoo.tests import tagged

from .test_pos import CustomerCreditPosMixin


@tagged("post_install", "-at_install")
class TestPosCustomerCreditTour(CustomerCreditPosMixin, TestPointOfSaleHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.main_pos_config.company_id
        cls.currency = cls.company.currency_id
        cls._setup_customer_credit_pos(cls.main_pos_config)
        cls.cash_journal = cls.env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", cls.company.id)], limit=1
        )
        Product = cls.env["product.product"]
        cls.widget = Product.create(
            {"name": "Credit Widget", "available_in_pos": True, "list_price": 30.0, "taxes_id": False}
        )
        cls.gadget = Product.create(
            {"name": "Credit Gadget", "available_in_pos": True, "list_price": 20.0, "taxes_id": False}
        )
        Partner = cls.env["res.partner"]
        # "AA" so that they are among the customers the till preloads (by name)
        cls.alice = Partner.create({"name": "AA Credit Alice"})
        cls.bob = Partner.create({"name": "AA Credit Bob"})
        cls.carol = Partner.create({"name": "AA Credit Carol"})
        service = cls.env["customer.credit.service"].sudo().with_company(cls.company)
        service._topup(cls.alice, 100.0, cls.cash_journal)
        service._topup(cls.bob, 5.0, cls.cash_journal)
        service._topup(cls.carol, 10.0, cls.cash_journal)
        cls.gadget_lot = service._topup(
            cls.carol, 25.0, cls.cash_journal, credit_type="product", product=cls.gadget
        ).lot_id

    def spent(self, partner):
        return self.ledger(partner, kind="spend").mapped("amount")

    def close_session(self):
        session = self.main_pos_config.current_session_id
        cash = sum(session.order_ids.payment_ids.filtered(lambda p: p.payment_method_id.is_cash_count).mapped("amount"))
        session.post_closing_cash_details(cash)
        session.close_session_from_ui()
        self.assertEqual(session.state, "closed")
        return session

    def test_pay_with_credit(self):
        """Partner list, full credit, credit + cash with the customer picked at payment, nothing left,
        more than available, more than due; receipts."""
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("CustomerCreditPosPayTour", login="pos_user")
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
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("CustomerCreditPosLotTour", login="pos_user")
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
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("CustomerCreditPosRefundTour", login="pos_user")
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
