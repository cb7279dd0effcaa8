"""The POS cash desk in the real Point of Sale (headless Chromium), checked in the books: credit paid
out in cash (counted at closing) and a cash order refunded as store credit."""

from odoo.tests import tagged

from .pos_common import CustomerCreditPosTourCase


@tagged("post_install", "-at_install")
class TestPosPayOutTour(CustomerCreditPosTourCase):
    tour_label = "Payout"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the tour's cashier is no credit manager: the till's setting lets cashiers pay out
        cls.main_pos_config.credit_cashier_pay_out = True
        cls.service._topup(cls.alice, 100.0, cls.cash_journal)
        cls.service._topup(cls.alice, 15.0, cls.cash_journal, credit_type="product", product=cls.widget)

    def close_session(self, counted=None):
        session = super().close_session(counted)
        self.assertTrue(self.currency.is_zero(session.cash_register_difference), session.cash_register_difference)
        return session

    def test_pay_out(self):
        session = self.start_credit_tour("CustomerCreditPosPayOutTour")

        withdraw = self.ledger(self.alice, kind="withdraw")
        self.assertEqual(withdraw.mapped("amount"), [-40.0])
        st_line = session.statement_line_ids
        self.assertEqual(len(st_line), 1)
        self.assertEqual((st_line.amount, st_line.partner_id, withdraw.statement_line_id), (-40.0, self.alice, st_line))
        self.assertIn("Credit pay-out: AA Payout Alice", st_line.payment_ref)
        cash_account = session.cash_journal_id.default_account_id
        self.assertEqual(self.posted_balance(self.credit_account, self.alice, st_line.move_id), 40.0)
        self.assertEqual(self.posted_balance(cash_account, self.alice, st_line.move_id), -40.0)
        self.assertEqual(self.balance(self.alice), 75.0)
        self.assertEqual(self.gl_balance(self.alice), -75.0)
        self.assertEqual(len(self.ledger(self.alice, kind="withdraw")), 1)
        self.assert_invariant()

        # the cash count at closing expects the sale less the pay-out
        self.assertEqual(session.get_closing_control_data()["default_cash_details"]["amount"], 20.0)
        self.close_session(20.0)
        self.assertEqual(sorted(session.statement_line_ids.mapped("amount")), [-40.0, 60.0])
        self.assertEqual(self.posted_balance(cash_account, moves=session.statement_line_ids.move_id), 20.0)
        self.assertFalse(session.move_id.line_ids.filtered(lambda line: line.account_id == self.credit_account))
        self.assertEqual(self.balance(self.alice), 75.0)
        self.assert_invariant()

    def test_refund_to_store_credit(self):
        session = self.start_credit_tour("CustomerCreditPosStoreCreditTour")

        refund_order = session.order_ids.filtered(lambda order: order.amount_total < 0)
        self.assertEqual(len(refund_order), 1)
        store = self.ledger(self.bob)
        self.assertEqual(store.mapped("kind"), ["topup"])
        self.assertEqual(store.mapped("amount"), [30.0])
        self.assertEqual((store.lot_id.origin, store.pos_order_id), ("refund", refund_order))
        self.assertEqual(store.pos_payment_id, refund_order.payment_ids)
        self.assertEqual(self.posted_balance(self.clearing_account, self.bob, store.move_id), 30.0)
        self.assertEqual(self.posted_balance(self.credit_account, self.bob), -30.0)
        self.assertEqual(self.balance(self.bob), 30.0)
        self.assert_invariant()

        # the drawer is untouched: only the sale's cash
        self.assertEqual(session.get_closing_control_data()["default_cash_details"]["amount"], 60.0)
        self.close_session(60.0)
        self.assertEqual(session.statement_line_ids.mapped("amount"), [60.0])
        closing = session.move_id.line_ids.filtered(lambda line: line.account_id == self.clearing_account)
        self.assertEqual(sum(closing.mapped("balance")), -30.0)
        self.assert_clearing_settled()
        self.assertEqual(self.balance(self.bob), 30.0)
        self.assert_invariant()
