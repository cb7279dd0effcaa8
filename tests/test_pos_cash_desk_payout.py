"""The POS cash desk: credit paid out in cash (a cash out of the session) and refunds paid out as
store credit, through Odoo's own RPCs, sync (``sync_from_ui``) and session close."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from .pos_common import CustomerCreditPosCase


@tagged("post_install", "-at_install")
class TestPosCashDeskPayOut(CustomerCreditPosCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cashier = cls.new_pos_user("cc_pos_payout_cashier")

    def pay_out(self, amount, uuid="cc-payout-1", partner=None, user=None):
        session = self.pos_session.with_user(user) if user else self.pos_session
        return session.customer_credit_pay_out((partner or self.customer).id, amount, uuid)

    def assert_nothing_paid_out(self, balance=100.0):
        self.assertFalse(self.pos_session.statement_line_ids)
        self.assertFalse(self.ledger(self.customer, kind="withdraw"))
        self.assertEqual(self.balance(self.customer), balance)
        self.assert_invariant()

    # ------------------------------------------------------------------
    # Pay out
    # ------------------------------------------------------------------

    def test_pay_out_is_a_cash_out_and_a_withdrawal(self):
        session = self.pos_session
        info = session.customer_credit_pay_out_info(self.customer.id)
        self.assertEqual(info["payable"], 100.0)
        result = self.pay_out(40.0)
        self.assertEqual((result["amount"], result["balance"], result["payable"]), (40.0, 60.0, 60.0))

        # a cash out of the session, as Odoo's Cash In/Out makes it, with the customer's credit as counterpart
        st_line = session.statement_line_ids
        self.assertEqual(len(st_line), 1)
        self.assertEqual(st_line.id, result["statement_line_id"])
        self.assertEqual((st_line.amount, st_line.journal_id), (-40.0, session.cash_journal_id))
        self.assertEqual(st_line.partner_id, self.customer)
        self.assertIn(session.name, st_line.payment_ref)
        self.assertEqual(st_line.move_id.state, "posted")
        cash_account = session.cash_journal_id.default_account_id
        self.assertEqual(
            sorted(
                (line.account_id.id, line.partner_id.id, line.debit, line.credit) for line in st_line.move_id.line_ids
            ),
            sorted(
                [
                    (cash_account.id, self.customer.id, 0.0, 40.0),
                    (self.credit_account.id, self.customer.id, 40.0, 0.0),
                ]
            ),
        )
        # the ledger's withdrawal is that entry
        withdraw = self.ledger(self.customer, kind="withdraw")
        self.assertEqual(withdraw.mapped("amount"), [-40.0])
        self.assertEqual((withdraw.move_id, withdraw.statement_line_id), (st_line.move_id, st_line))
        self.assertEqual(self.balance(self.customer), 60.0)
        self.assertEqual(self.gl_balance(self.customer), -60.0)
        self.assert_invariant()

        # the closing cash count expects it
        data = session.get_closing_control_data()
        self.assertEqual(data["default_cash_details"]["amount"], -40.0)
        self.assertEqual([move["amount"] for move in data["default_cash_details"]["moves"]], [-40.0])

    def test_pay_out_once_per_uuid(self):
        first = self.pay_out(25.0, uuid="cc-payout-same")
        again = self.pay_out(25.0, uuid="cc-payout-same")
        self.assertEqual(again["statement_line_id"], first["statement_line_id"])
        self.assertEqual(len(self.pos_session.statement_line_ids), 1)
        self.assertEqual(len(self.ledger(self.customer, kind="withdraw")), 1)
        self.assertEqual(self.balance(self.customer), 75.0)
        # another pay-out is another uuid
        self.pay_out(25.0, uuid="cc-payout-other")
        self.assertEqual(len(self.pos_session.statement_line_ids), 2)
        self.assertEqual(self.balance(self.customer), 50.0)
        self.assert_invariant()

    def test_pay_out_is_quiet(self):
        """A pay-out is a movement of the till like the others: no movement mail to the customer, no
        chatter on the lots it takes the credit from (the ledger, the cash move and the receipt tell)."""
        self.customer.email = "cc.payout.customer@example.com"
        self.company.credit_send_mail = True
        Mail = self.env["mail.mail"].sudo()
        Message = self.env["mail.message"].sudo()
        to_customer = [("recipient_ids", "in", self.customer.ids)]
        lots = self.env["customer.credit"].sudo().search([("partner_id", "=", self.customer.id)])
        on_lots = [("model", "=", "customer.credit"), ("res_id", "in", lots.ids)]
        mails, lot_messages = Mail.search_count(to_customer), Message.search_count(on_lots)

        self.pay_out(40.0)
        withdraw = self.ledger(self.customer, kind="withdraw")
        self.assertEqual(withdraw.mapped("amount"), [-40.0])
        self.assertEqual(withdraw.lot_id, lots, "the pay-out takes the credit from the customer's lot")
        self.assertFalse(Mail.search([("model", "=", "customer.credit.line"), ("res_id", "in", withdraw.ids)]))
        self.assertEqual(Mail.search_count(to_customer), mails, "no mail to the customer")
        self.assertEqual(Message.search_count(on_lots), lot_messages, "no chatter on the lot")

        # the same movement made in the back office mails the customer and logs on the lot: the
        # silence above is the till's
        lines = self.service._withdraw(self.customer, 10.0, self.cash_journal)
        self.assertEqual(len(Mail.search([("model", "=", "customer.credit.line"), ("res_id", "in", lines.ids)])), 1)
        self.assertEqual(Mail.search_count(to_customer), mails + 1)
        self.assertGreater(Message.search_count(on_lots), lot_messages)
        self.assertEqual(self.balance(self.customer), 50.0)
        self.assert_invariant()

    def test_pay_out_refusals_change_nothing(self):
        # product credit is not paid out; an overdraft never
        self.service._topup(self.customer, 15.0, self.cash_journal, credit_type="product", product=self.product_a)
        self.assertEqual(self.pos_session.customer_credit_pay_out_info(self.customer.id)["payable"], 100.0)
        with self.assertRaisesRegex(UserError, "has only"):
            self.pay_out(100.01)
        for amount in (0.0, -5.0):
            with self.assertRaisesRegex(UserError, "positive"):
                self.pay_out(amount)
        with self.assertRaisesRegex(UserError, "Select the customer"):
            self.pos_session.customer_credit_pay_out(False, 10.0, "cc-payout-nobody")
        with self.assertRaisesRegex(UserError, "no reference"):
            self.pos_session.customer_credit_pay_out(self.customer.id, 10.0, "")
        self.assert_nothing_paid_out(balance=115.0)

        # a customer in overdraft has nothing to pay out
        self.service._spend(
            self.other_customer, 10.0, counterpart_account=self.clearing_account, force=True, company=self.company
        )
        self.assertEqual(self.pos_session.customer_credit_pay_out_info(self.other_customer.id)["payable"], 0.0)
        with self.assertRaisesRegex(UserError, "has only"):
            self.pay_out(5.0, partner=self.other_customer)
        self.assertEqual(self.balance(self.other_customer), -10.0)
        self.assertFalse(self.pos_session.statement_line_ids)
        self.assert_invariant()

    def test_pay_out_permission(self):
        self.assertFalse(self.config.credit_cashier_pay_out)
        with self.assertRaisesRegex(UserError, "Only credit managers"):
            self.pos_session.with_user(self.cashier).customer_credit_pay_out_info(self.customer.id)
        with self.assertRaisesRegex(UserError, "Only credit managers"):
            self.pay_out(10.0, user=self.cashier)
        self.assert_nothing_paid_out()

        # a credit manager may, whatever the setting
        manager = self.new_pos_user("cc_pos_payout_manager", "customer_credit.group_customer_credit_manager")
        self.pay_out(10.0, uuid="cc-payout-manager", user=manager)
        self.assertEqual(self.balance(self.customer), 90.0)

        # the POS setting lets every cashier do it (set as in the settings, Odoo's pos_ fields)
        self.env["res.config.settings"].create(
            {"pos_config_id": self.config.id, "pos_credit_cashier_pay_out": True}
        ).execute()
        self.assertTrue(self.config.credit_cashier_pay_out)
        self.pay_out(10.0, uuid="cc-payout-cashier", user=self.cashier)
        self.assertEqual(self.balance(self.customer), 80.0)
        self.assertEqual(len(self.pos_session.statement_line_ids), 2)
        self.assert_invariant()

    def test_pay_out_needs_cash_and_open_session(self):
        self.close_session(0.0)
        self.config.write({"payment_method_ids": [(6, 0, (self.bank_pm1 | self.credit_pm).ids)]})
        self.open_new_session()
        self.assertFalse(self.pos_session.cash_journal_id)
        with self.assertRaisesRegex(UserError, "no cash payment method"):
            self.pay_out(10.0)
        self.assertEqual(self.balance(self.customer), 100.0)
        self.close_session(0.0)
        with self.assertRaisesRegex(UserError, "open session"):
            self.pay_out(10.0)
        self.assert_nothing_paid_out()

    def test_pay_out_counted_at_close(self):
        """A cash sale of 60 and a pay-out of 40: the drawer holds 20, which the close expects."""
        self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 2)],
                "customer": self.other_customer,
                "payments": [(self.cash_pm1, 60.0)],
            }
        )
        self.pay_out(40.0)
        session = self.pos_session
        self.assertEqual(session.get_closing_control_data()["default_cash_details"]["amount"], 20.0)
        self.close_session(20.0)
        self.assertTrue(self.currency.is_zero(session.cash_register_difference))
        self.assertEqual(session.cash_real_transaction, -40.0)
        # no cash difference posted: the pay-out and the sale are all the drawer moved
        self.assertEqual(sorted(session.statement_line_ids.mapped("amount")), [-40.0, 60.0])
        cash_account = session.cash_journal_id.default_account_id
        cash_moves = session.statement_line_ids.move_id
        self.assertEqual(self.posted_balance(cash_account, moves=cash_moves), 20.0)
        # the closed session's entries per account: sales, and the customer's credit (pay-out only)
        self.assertEqual(self.posted_balance(self.credit_account, self.customer, moves=cash_moves), 40.0)
        self.assertEqual(
            self.posted_balance(self.sales_account, moves=session.move_id), -60.0, "the sale, not the pay-out"
        )
        self.assertFalse(session.move_id.line_ids.filtered(lambda line: line.account_id == self.credit_account))
        self.assertEqual(self.balance(self.customer), 60.0)
        self.assertEqual(self.gl_balance(self.customer), -60.0)
        self.assert_invariant()

    # ------------------------------------------------------------------
    # Refund to store credit
    # ------------------------------------------------------------------

    def test_refund_cash_order_to_store_credit(self):
        orders = self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 2)],
                "customer": self.customer,
                "payments": [(self.cash_pm1, 60.0)],
            }
        )
        order = next(iter(orders.values()))
        self.sync_refund(order, [(self.product_a, -1)], [(self.credit_pm, -30.0)], uuid="cc-store-credit")
        # the same refund synced again (a retry of the till) gives nothing more
        self.sync_refund(order, [(self.product_a, -1)], [(self.credit_pm, -30.0)], uuid="cc-store-credit")
        refund_order = self.env["pos.order"].search([("uuid", "=", "cc-store-credit")])
        self.assertEqual(len(refund_order), 1)
        refund_order._customer_credit_process_payments()

        lot_lines = self.ledger(self.customer, kind="topup", pos_order_id=refund_order.id)
        self.assertEqual(lot_lines.mapped("amount"), [30.0])
        self.assertEqual((lot_lines.lot_id.origin, lot_lines.lot_id.amount), ("refund", 30.0))
        self.assertEqual(lot_lines.pos_payment_id, refund_order.payment_ids)
        self.assertFalse(self.ledger(self.customer, kind="refund"), "nothing was paid with credit")
        self.assertEqual(self.balance(self.customer), 130.0)
        self.assertEqual(self.gl_balance(self.customer), -130.0)
        # Dr POS Credit Clearing / Cr Customer Credit
        self.assertEqual(self.posted_balance(self.clearing_account, self.customer, moves=lot_lines.move_id), 30.0)
        self.assert_invariant()

        # the drawer is untouched: 60 in, nothing out
        session = self.pos_session
        self.assertEqual(session.get_closing_control_data()["default_cash_details"]["amount"], 60.0)
        self.close_session(60.0)
        self.assertTrue(self.currency.is_zero(session.cash_register_difference))
        closing = session.move_id.line_ids.filtered(lambda line: line.account_id == self.clearing_account)
        self.assertEqual(sum(closing.mapped("balance")), -30.0)
        self.assert_clearing_settled()
        self.assertEqual(self.posted_balance(self.sales_account, moves=session.move_id), -30.0)
        self.assertEqual(self.balance(self.customer), 130.0)
        self.assert_invariant()

    def test_refund_beyond_the_credit_paid(self):
        """A refund of an order paid 20 by credit and 40 in cash, all as credit: 20 back to its
        lot, 40 as a new store credit lot."""
        orders = self.sync(
            {
                "pos_order_lines_ui_args": [(self.product_a, 2)],
                "customer": self.customer,
                "payments": [(self.credit_pm, 20.0), (self.cash_pm1, 40.0)],
            }
        )
        order = next(iter(orders.values()))
        self.assertEqual(self.balance(self.customer), 80.0)
        self.sync_refund(order, [(self.product_a, -2)], [(self.credit_pm, -60.0)])
        self.assertEqual(self.ledger(self.customer, kind="refund").mapped("amount"), [20.0])
        store = self.ledger(self.customer, kind="topup").filtered("pos_order_id")
        self.assertEqual(store.mapped("amount"), [40.0])
        self.assertEqual(store.lot_id.origin, "refund")
        self.assertEqual(self.balance(self.customer), 140.0)
        self.assert_invariant()
        self.close_session(40.0)
        self.assert_clearing_settled()
        self.assert_invariant()

    def test_refund_invoiced_to_store_credit(self):
        """An invoiced refund paid out as store credit: the store credit settles the credit note."""
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
        self.assertEqual(credit_note.move_type, "out_refund")
        store = self.ledger(self.customer, kind="topup").filtered("pos_order_id")
        self.assertEqual((store.amount, store.lot_id.origin), (30.0, "refund"))
        self.assertTrue(self.currency.is_zero(credit_note.amount_residual), credit_note.amount_residual)
        receivable = credit_note.line_ids.filtered(lambda line: line.account_type == "asset_receivable").account_id
        self.assertEqual(self.posted_balance(receivable, self.customer, moves=store.move_id), 30.0)
        self.assertFalse(store.move_id.line_ids.filtered(lambda line: line.account_id == self.clearing_account))
        self.assertEqual(self.balance(self.customer), 130.0)
        self.assert_invariant()
        self.close_session(30.0)
        self.assertEqual(self.balance(self.customer), 130.0)
        self.assert_invariant()
