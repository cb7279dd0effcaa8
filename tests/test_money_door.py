"""The money door as the tills and the web shop will use it: payments an accountant can reconcile,
idempotent movements, store roles, and the calls the channels make."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .test_movements import MovementCase


@tagged("post_install", "-at_install")
class TestPayments(MovementCase):
    def test_topup_by_bank_is_a_payment_matched_by_the_statement(self):
        lines = self.service._topup(self.partner_a, 100.0, self.bank_journal)
        payment = lines.payment_id
        self.assertTrue(payment, "the ledger line links the customer's payment")
        self.assertEqual(
            (payment.payment_type, payment.partner_type, payment.partner_id, payment.state),
            ("inbound", "customer", self.partner_a, "in_process"),
        )
        self.assertEqual(payment.destination_account_id, self.credit_account)
        self.assertEqual(lines.move_id, payment.move_id)
        self.assertEqual(lines.lot_id.move_id, payment.move_id)
        outstanding = payment.outstanding_account_id
        self.assertEqual(outstanding, self.receipts_account)
        self.assert_move_lines(
            payment.move_id,
            [(outstanding, self.partner_a, 100.0, 0.0), (self.credit_account, self.partner_a, 0.0, 100.0)],
        )
        # the bank statement line of 100 matches the payment, as in Odoo's own flow
        st_line = self.env["account.bank.statement.line"].create(
            {"journal_id": self.bank_journal.id, "partner_id": self.partner_a.id, "amount": 100.0, "payment_ref": "x"}
        )
        __, suspense, __ = st_line.with_context(skip_account_move_synchronization=True)._seek_for_lines()
        suspense.account_id = outstanding
        liquidity = payment.move_id.line_ids.filtered(lambda aml: aml.account_id == outstanding)
        (suspense | liquidity).reconcile()
        self.assertTrue(payment.is_matched)
        self.assertAmount(self.balance(self.partner_a), 100.0)
        self.assert_invariant()

    def test_credit_payment_cannot_be_reset_or_cancelled_by_hand(self):
        """The customer's payment of a top-up is the credit's entry: Reset to Draft on it is refused."""
        lines = self.service._topup(self.partner_a, 30.0, self.cash_journal)
        payment = lines.payment_id.with_user(self.env.ref("base.user_admin"))
        self.assert_rejected(UserError, "cannot be reset to draft", payment.action_draft)
        self.assertEqual(payment.move_id.state, "posted")
        self.assert_invariant()

    def test_withdrawal_is_an_outbound_payment(self):
        self.topup(self.partner_a, 100.0)
        lines = self.service._withdraw(self.partner_a, 40.0, self.bank_journal)
        payment = lines.payment_id
        self.assertEqual((payment.payment_type, payment.partner_id), ("outbound", self.partner_a))
        self.assertEqual(payment.destination_account_id, self.credit_account)
        self.assert_move_lines(
            lines.move_id,
            [(self.credit_account, self.partner_a, 40.0, 0.0), (self.payments_account, self.partner_a, 0.0, 40.0)],
        )
        self.assertAmount(self.balance(self.partner_a), 60.0)
        self.assert_invariant()

    def test_refund_of_an_invoice_spend_goes_with_the_credit_note(self):
        self.topup(self.partner_a, 150.0)
        invoice = self.service._demo_invoice(self.partner_a, 100.0)
        spent = self.service._spend(self.partner_a, 100.0, invoice=invoice)
        self.assertEqual(invoice.payment_state, "paid")
        self.assert_rejected(UserError, "refund it with the invoice's credit note", self.service._refund, spent, 40.0)
        credit_note = self.service._demo_invoice(self.partner_a, 40.0, "out_refund")
        refund = self.service._refund(spent, 40.0, credit_note=credit_note)
        self.assertEqual(refund.invoice_id, credit_note)
        receivable = self.partner_a.property_account_receivable_id
        self.assert_move_lines(
            refund.move_id,
            [(receivable, self.partner_a, 40.0, 0.0), (self.credit_account, self.partner_a, 0.0, 40.0)],
        )
        self.assertAmount(credit_note.amount_residual, 0.0)
        self.assertAmount(invoice.amount_residual, 0.0)
        ar_lines = (invoice | credit_note | spent.move_id | refund.move_id).line_ids.filtered(
            lambda aml: aml.account_id == receivable
        )
        self.assertTrue(all(ar_lines.mapped("reconciled")), "every receivable line ends reconciled")
        self.assertAmount(self.gl_balance(self.partner_a, account=receivable), 0.0)
        self.assertAmount(self.balance(self.partner_a), 90.0)
        self.assert_invariant()
        # not more than the credit note leaves open, nor on another customer's note
        other_note = self.service._demo_invoice(self.partner_b, 10.0, "out_refund")
        self.assert_rejected(
            UserError, "not one of this customer's", self.service._refund, spent, 5.0, credit_note=other_note
        )
        note = self.service._demo_invoice(self.partner_a, 5.0, "out_refund")
        self.assert_rejected(UserError, "more than what is open", self.service._refund, spent, 6.0, credit_note=note)

    def test_refund_of_a_receivable_spend_needs_the_credit_note(self):
        """A spend that credited the customer's receivable (the web shop's) is not refunded onto it
        blindly: that would show a debt with nothing to settle."""
        self.topup(self.partner_a, 50.0)
        receivable = self.partner_a.property_account_receivable_id
        spent = self.service._spend(self.partner_a, 30.0, counterpart_account=receivable)
        self.assert_rejected(UserError, "refund it with the customer's credit note", self.service._refund, spent, 5.0)
        note = self.service._demo_invoice(self.partner_a, 5.0, "out_refund")
        refund = self.service._refund(spent, 5.0, credit_note=note)
        self.assertAmount(note.amount_residual, 0.0)
        self.assertEqual(refund.invoice_id, note)
        self.assert_invariant()

    def test_matched_topup_cannot_be_cancelled(self):
        """Cancelling reverses the entry: not once the bank matched the payment (the money arrived)."""
        lines = self.service._topup(self.partner_a, 100.0, self.bank_journal)
        st_line = self.env["account.bank.statement.line"].create(
            {"journal_id": self.bank_journal.id, "partner_id": self.partner_a.id, "amount": 100.0, "payment_ref": "y"}
        )
        __, suspense, __ = st_line.with_context(skip_account_move_synchronization=True)._seek_for_lines()
        outstanding = lines.payment_id.outstanding_account_id
        suspense.account_id = outstanding
        (suspense | lines.move_id.line_ids.filtered(lambda aml: aml.account_id == outstanding)).reconcile()
        self.assert_rejected(UserError, "already matched with the bank", self.service._cancel, lines.lot_id)
        self.assertTrue(lines.payment_id.is_matched)
        self.assert_invariant()

    def test_refund_to_a_named_counterpart(self):
        self.topup(self.partner_a, 50.0)
        spent = self.service._spend(self.partner_a, 30.0, counterpart_account=self.clearing_account)
        refund = self.service._refund(spent, 10.0, counterpart_account=self.clearing_account)
        self.assert_move_lines(
            refund.move_id,
            [(self.clearing_account, self.partner_a, 10.0, 0.0), (self.credit_account, self.partner_a, 0.0, 10.0)],
        )
        self.assert_rejected(
            UserError,
            "Customer Credit account itself",
            self.service._refund,
            spent,
            5.0,
            counterpart_account=self.credit_account,
        )
        self.assert_invariant()

    def test_topup_and_withdraw_link_an_entry_of_odoos_own_flow(self):
        """A cash-out statement line made by the session (here: by a factory the service runs under
        its lock) records the withdrawal: no second entry is posted."""
        self.topup(self.partner_a, 100.0)
        moves_before = self.env["account.move"].search_count([])

        def cash_out(env):
            return (
                env["account.bank.statement.line"]
                .create(
                    {
                        "journal_id": self.cash_journal.id,
                        "amount": -25.0,
                        "partner_id": self.partner_a.id,
                        "payment_ref": "Credit paid out",
                        "counterpart_account_id": self.credit_account.id,
                    }
                )
                .move_id
            )

        lines = self.service._withdraw(self.partner_a, 25.0, move_factory=cash_out)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before + 1)
        self.assertTrue(lines.statement_line_id)
        self.assertEqual(lines.move_id, lines.statement_line_id.move_id)
        self.assertAmount(self.balance(self.partner_a), 75.0)
        self.assert_invariant()

        # the same entry cannot record a second movement
        self.assert_rejected(
            UserError, "already records", self.service._withdraw, self.partner_a, 25.0, move=lines.move_id
        )

        # a top-up paid by Odoo's payment flow (as the web shop's transaction makes it)
        def web_payment(env):
            payment = env["account.payment"].create(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": self.partner_a.id,
                    "amount": 20.0,
                    "journal_id": self.bank_journal.id,
                    "destination_account_id": self.credit_account.id,
                }
            )
            payment.action_post()
            return payment.move_id

        lines = self.service._topup(self.partner_a, 20.0, move_factory=web_payment)
        self.assertEqual(lines.payment_id.state, "in_process")
        self.assertEqual(lines.move_id, lines.payment_id.move_id)
        self.assertAmount(self.balance(self.partner_a), 95.0)
        self.assert_invariant()

        # a factory's entry must hold exactly this movement, of this customer
        self.assert_rejected(UserError, "must move", self.service._topup, self.partner_a, 25.0, move_factory=cash_out)
        self.assert_rejected(
            UserError, "must move", self.service._withdraw, self.partner_a, 30.0, move_factory=cash_out
        )
        self.assert_rejected(
            UserError,
            "one payment journal",
            self.service._topup,
            self.partner_a,
            20.0,
            self.cash_journal,
            move_factory=web_payment,
        )


@tagged("post_install", "-at_install")
class TestIdempotency(MovementCase):
    def test_every_movement_kind_is_idempotent(self):
        A, B = self.partner_a, self.partner_b
        calls = [
            ("topup", lambda key: self.service._topup(A, 100.0, self.cash_journal, key=key)),
            ("spend", lambda key: self.service._spend(A, 10.0, counterpart_account=self.clearing_account, key=key)),
            ("withdraw", lambda key: self.service._withdraw(A, 5.0, self.cash_journal, key=key)),
            ("adjust", lambda key: self.service._adjust(A, 2.0, "Goodwill", key=key)),
            ("transfer", lambda key: self.service._transfer(A, B, 3.0, key=key)),
        ]
        for kind, call in calls:
            with self.subTest(kind=kind):
                first = call("order-line-1")
                before = self.snapshot()
                again = call("order-line-1")
                self.assertEqual(again, first)
                self.assertEqual(self.snapshot(), before, "a repeated key changes nothing")
        spent = self.Line.search([("kind", "=", "spend"), ("partner_id", "=", A.id)])
        first = self.service._refund(spent, 4.0, key="refund-1")
        before = self.snapshot()
        self.assertEqual(self.service._refund(spent, 4.0, key="refund-1"), first)
        self.assertEqual(self.snapshot(), before)
        # one key per kind: the same key names another kind's movement freely
        self.assertEqual(len(self.env["customer.credit.key"].sudo().search([("name", "=", "order-line-1")])), 5)
        self.assertAmount(self.balance(A), 100.0 - 10.0 - 5.0 + 2.0 - 3.0 + 4.0)
        self.assert_invariant()

    def test_a_key_names_one_movement(self):
        """A key already used for one customer or amount is refused for another: a till cannot get
        someone else's earlier payment back as its own."""
        self.topup(self.partner_a, 50.0)
        self.topup(self.partner_b, 50.0)
        self.service._spend(self.partner_a, 20.0, counterpart_account=self.clearing_account, key="pos.payment:u1")
        for partner, amount in ((self.partner_b, 20.0), (self.partner_a, 25.0)):
            with self.subTest(partner=partner.name, amount=amount):
                self.assert_rejected(
                    UserError,
                    "already recorded another credit movement",
                    self.service._spend,
                    partner,
                    amount,
                    counterpart_account=self.clearing_account,
                    key="pos.payment:u1",
                )
        self.assert_invariant()

    def test_a_retried_invoice_payment_replays(self):
        """The invoice is paid by the first call; its retry returns that payment, not an error."""
        self.topup(self.partner_a, 50.0)
        invoice = self.service._demo_invoice(self.partner_a, 30.0)
        first = self.service._spend(self.partner_a, 30.0, invoice=invoice, key="web-tx-1")
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(self.service._spend(self.partner_a, 30.0, invoice=invoice, key="web-tx-1"), first)

    def test_record_keys_and_bad_keys(self):
        self.topup(self.partner_a, 50.0)
        invoice = self.service._demo_invoice(self.partner_a, 30.0)
        first = self.service._spend(self.partner_a, 10.0, invoice=invoice, key=invoice)
        self.assertEqual(self.service._spend(self.partner_a, 10.0, invoice=invoice, key=invoice), first)
        self.assertAmount(invoice.amount_residual, 20.0)
        for key in ("", "   ", "x" * 129, 12, invoice | self.service._demo_invoice(self.partner_a, 1.0)):
            with self.subTest(key=key):
                self.assert_rejected(
                    UserError,
                    "key of a credit movement",
                    self.service._spend,
                    self.partner_a,
                    1.0,
                    counterpart_account=self.clearing_account,
                    key=key,
                )
        self.assert_invariant()

    def test_a_replay_is_returned_even_when_the_balance_moved_on(self):
        """A retried POS sync after the credit was spent elsewhere still gets its own first spend."""
        self.topup(self.partner_a, 50.0)
        first = self.service._spend(self.partner_a, 50.0, counterpart_account=self.clearing_account, key="pay-1")
        before = self.snapshot()
        self.assertEqual(
            self.service._spend(self.partner_a, 50.0, counterpart_account=self.clearing_account, key="pay-1"), first
        )
        self.assertEqual(self.snapshot(), before)


@tagged("post_install", "-at_install")
class TestChannelCalls(MovementCase):
    def test_spend_split_by_product(self):
        """Product lots pay only their product's lines, capped at those lines' amount."""
        A = self.partner_a
        pen_lot = self.lot_of(self.topup(A, 30.0, credit_type="product", product=self.product))
        generic = self.lot_of(self.topup(A, 100.0))
        other_lot = self.lot_of(self.topup(A, 10.0, credit_type="product", product=self.other_product))
        lines = self.service._spend(
            A, 50.0, product_amounts={self.product: 20.0}, counterpart_account=self.clearing_account
        ).sorted("id")
        self.assertEqual(lines.lot_id, pen_lot | generic)
        self.assertAmount(lines.filtered(lambda line: line.lot_id == pen_lot).amount, -20.0)
        self.assertAmount(lines.filtered(lambda line: line.lot_id == generic).amount, -30.0)
        self.assertAmount(other_lot.balance, 10.0, "a lot of a product not in the cart is not touched")
        # both products in the cart
        lines = self.service._spend(
            A,
            25.0,
            product_amounts={self.product: 5.0, self.other_product: 15.0},
            counterpart_account=self.clearing_account,
        )
        self.assertAmount(pen_lot.balance, 5.0)
        self.assertAmount(other_lot.balance, 0.0)
        self.assertAmount(generic.balance, 60.0)
        self.assertAmount(sum(lines.mapped("amount")), -25.0)
        # what the cart cannot take from product lots must be covered by generic credit
        self.assert_rejected(
            UserError,
            r"has only .*65\.00",
            self.service._spend,
            A,
            66.0,
            product_amounts={self.product: 66.0},
            counterpart_account=self.clearing_account,
        )
        self.assert_rejected(
            UserError,
            "given per product",
            self.service._spend,
            A,
            1.0,
            product_amounts={"pen": 1.0},
            counterpart_account=self.clearing_account,
        )
        self.assert_invariant()

    def test_forced_spend_records_the_shortfall_and_tells_the_managers(self):
        """An order the till already took is never refused: the shortfall becomes overdraft."""
        A = self.partner_a
        self.topup(A, 20.0)
        activities_before = self.env["mail.activity"].search_count([("res_model", "=", "res.partner")])
        # refused without force...
        self.assert_rejected(
            UserError, "has only", self.service._spend, A, 50.0, counterpart_account=self.clearing_account
        )
        # ...recorded with it
        lines = self.service._spend(A, 50.0, counterpart_account=self.clearing_account, force=True, key="offline-1")
        self.assertAmount(sum(lines.mapped("amount")), -50.0)
        self.assertAmount(self.balance(A), -30.0)
        self.assertAmount(self.overdraft(A), -30.0)
        activity = self.env["mail.activity"].search([("res_model", "=", "res.partner"), ("res_id", "=", A.id)])
        self.assertEqual(len(activity), 1)
        self.assertEqual(
            self.env["mail.activity"].search_count([("res_model", "=", "res.partner")]), activities_before + 1
        )
        self.assertIn("beyond the overdraft limit", activity.note)
        self.assertTrue(activity.user_id.has_group("customer_credit.group_customer_credit_manager"))
        self.assert_move_lines(
            lines.move_id,
            [(self.credit_account, A, 50.0, 0.0), (self.clearing_account, A, 0.0, 50.0)],
        )
        # a forced spend within the balance schedules nothing
        self.topup(A, 100.0)
        self.service._spend(A, 10.0, counterpart_account=self.clearing_account, force=True)
        self.assertEqual(
            self.env["mail.activity"].search_count([("res_model", "=", "res.partner")]), activities_before + 1
        )
        self.assert_invariant()

    def test_links_are_checked_against_the_customer_and_company(self):
        self.topup(self.partner_a, 50.0)
        invoice_b = self.service._demo_invoice(self.partner_b, 10.0)
        for links in ({"invoice_id": invoice_b.id}, {"invoice_id": 10**9}, {"invoice_id": "1"}, {"user_id": 1}):
            with self.subTest(links=links):
                self.assert_rejected(
                    UserError,
                    None,
                    self.service._spend,
                    self.partner_a,
                    5.0,
                    counterpart_account=self.clearing_account,
                    links=links,
                )
        invoice_a = self.service._demo_invoice(self.partner_a, 10.0)
        lines = self.service._spend(
            self.partner_a, 5.0, counterpart_account=self.clearing_account, links={"invoice_id": invoice_a.id}
        )
        self.assertEqual(lines.invoice_id, invoice_a)
        self.assert_invariant()

    def test_huge_amounts_are_refused(self):
        for amount in (1e13, 1e20, 1e300):
            with self.subTest(amount=amount):
                self.assert_rejected(
                    UserError, "too large", self.service._topup, self.partner_a, amount, self.cash_journal
                )

    def test_balance_readable_by_every_pos_user(self):
        """A cashier outside the credit groups (and the POS loader) reads the available credit."""
        self.topup(self.partner_a, 40.0)
        self.partner_b.with_company(self.company).sudo().write(
            {"credit_allow_overdraft": True, "credit_overdraft_limit": 25.0}
        )
        self.service._spend(self.partner_b, 10.0, counterpart_account=self.clearing_account)
        cashier = new_test_user(self.env, login="cc_cashier_plain", groups="base.group_user")
        self.assertFalse(cashier.has_group("customer_credit.group_customer_credit_user"))
        partners = (self.partner_a | self.partner_b).with_user(cashier)
        values = {p["id"]: p for p in partners.read(["credit_available", "credit_due"])}
        self.assertAmount(values[self.partner_a.id]["credit_available"], 40.0)
        self.assertAmount(values[self.partner_a.id]["credit_due"], 0.0)
        self.assertAmount(values[self.partner_b.id]["credit_available"], 15.0)
        self.assertAmount(values[self.partner_b.id]["credit_due"], 10.0)
        with self.assertRaises(AccessError):
            partners.read(["credit_balance"])
        # a customer without any movement: only the overdraft room, read without one query per customer
        self.partner_c.with_company(self.company).sudo().write(
            {"credit_allow_overdraft": True, "credit_overdraft_limit": 12.0}
        )
        fresh = self.env["res.partner"].create({"name": "No Credit Yet"})
        values = {
            p["id"]: p for p in (self.partner_c | fresh).with_user(cashier).read(["credit_available", "credit_due"])
        }
        self.assertAmount(values[self.partner_c.id]["credit_available"], 12.0)
        self.assertAmount(values[fresh.id]["credit_available"], 0.0)
        self.assertAmount(values[fresh.id]["credit_due"], 0.0)


@tagged("post_install", "-at_install")
class TestStoreRoles(MovementCase):
    def test_spending_is_for_every_credit_user_managing_for_managers(self):
        user = self.service.with_user(self.user_credit)
        self.topup(self.partner_a, 100.0)
        # a credit user takes paid top-ups and spends
        user._topup(self.partner_a, 10.0, self.cash_journal)
        spent = user._spend(self.partner_a, 5.0, counterpart_account=self.clearing_account)
        user._refund(spent, 1.0)
        # ...but does not give credit away, move it between customers, or pay it out
        lot = self.lot_of(self.topup(self.partner_b, 20.0))
        for name, call in [
            ("granted", lambda: user._topup(self.partner_a, 10.0, granted=True)),
            ("transfer", lambda: user._transfer(self.partner_a, self.partner_b, 10.0)),
            ("withdraw", lambda: user._withdraw(self.partner_a, 10.0, self.cash_journal)),
            ("adjust", lambda: user._adjust(self.partner_a, 10.0, "Gift")),
            ("cancel", lambda: user._cancel(lot)),
            ("expire", lambda: user._expire(lot)),
        ]:
            with self.subTest(kind=name):
                self.assert_rejected(AccessError, "not allowed", call)
        manager = self.service.with_user(self.user_manager)
        manager._transfer(self.partner_a, self.partner_b, 10.0)
        manager._topup(self.partner_a, 10.0, granted=True)
        self.assert_invariant()

    def test_service_is_not_callable_over_rpc(self):
        """The service's methods are private: Odoo's RPC refuses to call them."""
        from odoo.service.model import execute_kw  # noqa: PLC0415

        for method in ("_topup", "_spend", "_transfer", "_get_balances"):
            with self.subTest(method=method), self.assertRaises(AccessError):
                execute_kw(self.env.cr.dbname, self.user_manager.id, "customer.credit.service", method, [], {})
        public = [
            name
            for name in dir(type(self.service))
            if not name.startswith("_") and callable(getattr(type(self.service), name, None))
        ]
        base_public = {name for name in dir(type(self.env["base"])) if not name.startswith("_")}
        self.assertFalse(set(public) - base_public, "the service has no public method of its own")

    def test_balances_of_another_company_refused(self):
        company2 = self.env["res.company"].create({"name": "Door Co 2", "currency_id": self.currency.id})
        with self.assertRaisesRegex(UserError, "cannot record credit in the company"):
            self.service.with_user(self.user_credit)._get_balances(self.partner_a, company2)

    def test_balances_check_access(self):
        self.topup(self.partner_a, 30.0)
        portal = new_test_user(self.env, login="cc_portal_door", groups="base.group_portal")
        with self.assertRaises(AccessError):
            self.service.with_user(portal)._get_balances(self.partner_a)
        own = self.service.with_user(portal)._get_balances(portal.partner_id)
        self.assertAmount(own["total"], 0.0)
        self.assertAmount(self.service.with_user(self.user_credit)._get_balances(self.partner_a)["total"], 30.0)
