"""Website and portal: paying a cart with credit, online top-ups, withdrawal requests, /my/credit."""

import re
import threading
from contextlib import closing
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.addons.payment.tests.common import PaymentCommon
from odoo.exceptions import AccessError, UserError
from odoo.service.model import retrying
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from . import test_concurrency
from .common import CustomerCreditCommon


class WebsiteCreditCommon(CustomerCreditCommon, PaymentCommon):
    """A customer with a portal user, the "Customer Credit" provider enabled, the demo provider for
    top-ups, a tax-free product sold at 10."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.enable_post_process_patcher = False  # the real post-processing: order confirmation, payments
        cls.currency = cls.company.currency_id
        cls.credit_provider = cls.env.ref("customer_credit.payment_provider_customer_credit")
        cls.credit_provider.write({"state": "enabled", "is_published": True})
        cls.credit_method = cls.env.ref("customer_credit.payment_method_customer_credit")
        cls.demo_provider = cls.env.ref("payment.payment_provider_demo")
        cls.demo_provider.write({"state": "test", "is_published": True})
        cls.demo_method = cls.env.ref("payment_demo.payment_method_demo")
        cls.product.write({"list_price": 10.0, "taxes_id": [Command.clear()], "invoice_policy": "order"})
        cls.portal_a = new_test_user(
            cls.env,
            login="cc_portal_a",
            groups="base.group_portal",
            partner_id=cls.partner_a.id,
            password="cc_portal_a",
        )
        cls.portal_b = new_test_user(
            cls.env,
            login="cc_portal_b",
            groups="base.group_portal",
            partner_id=cls.partner_b.id,
            password="cc_portal_b",
        )
        cls.receivable = cls.partner_a.property_account_receivable_id
        cls.company.write({"credit_topup_min": 5.0, "credit_topup_max": 500.0})

    # ---- helpers -------------------------------------------------------

    def _topup_cash(self, partner, amount):
        return self.service.sudo()._topup(partner, amount, self.cash_journal)

    def _order(self, partner, quantity=3):
        return self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [Command.create({"product_id": self.product.id, "product_uom_qty": quantity})],
            }
        )

    def _credit_tx(self, order, amount=None, **values):
        return (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": self.credit_provider.id,
                    "payment_method_id": self.credit_method.id,
                    "reference": self.env["payment.transaction"]._compute_reference(
                        "customer_credit", prefix=order.name
                    ),
                    "amount": order.amount_total if amount is None else amount,
                    "currency_id": order.currency_id.id,
                    "partner_id": order.partner_invoice_id.id,
                    "operation": "online_redirect",
                    "sale_order_ids": [Command.set(order.ids)],
                    **values,
                }
            )
        )

    def _notify(self, tx):
        tx._handle_notification_data("customer_credit", {"reference": tx.reference})
        tx._post_process()

    def _topup_tx(self, partner, amount):
        return (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": self.demo_provider.id,
                    "payment_method_id": self.demo_method.id,
                    "reference": self.env["payment.transaction"]._compute_reference("demo", prefix="CREDIT"),
                    "amount": amount,
                    "currency_id": self.currency.id,
                    "partner_id": partner.id,
                    "operation": "online_direct",
                    "is_credit_topup": True,
                }
            )
        )

    def _compatible(self, user, partner, amount, **kwargs):
        return (
            self.env["payment.provider"]
            .with_user(user)
            .sudo()
            ._get_compatible_providers(self.company.id, partner.id, amount, currency_id=self.currency.id, **kwargs)
        )


@tagged("post_install", "-at_install")
class TestWebsiteCredit(WebsiteCreditCommon):
    # ------------------------------------------------------------------
    # Checkout: the provider
    # ------------------------------------------------------------------

    def test_provider_offered_only_when_credit_covers_the_order(self):
        order = self._order(self.partner_a)  # 30
        self._topup_cash(self.partner_a, 20.0)
        self.assertNotIn(
            self.credit_provider, self._compatible(self.portal_a, self.partner_a, 30.0, sale_order_id=order.id)
        )
        self._topup_cash(self.partner_a, 10.0)
        self.assertIn(
            self.credit_provider, self._compatible(self.portal_a, self.partner_a, 30.0, sale_order_id=order.id)
        )
        # never to the public user, nor without an order, nor for someone else's order
        public = self.env.ref("base.public_user")
        self.assertNotIn(self.credit_provider, self._compatible(public, self.partner_a, 30.0, sale_order_id=order.id))
        self.assertNotIn(self.credit_provider, self._compatible(self.portal_a, self.partner_a, 30.0))
        self.assertNotIn(
            self.credit_provider, self._compatible(self.portal_b, self.partner_b, 30.0, sale_order_id=order.id)
        )
        # the demo provider stays offered in every case
        self.assertIn(self.demo_provider, self._compatible(self.portal_a, self.partner_a, 30.0))
        self.assert_invariant()

    def test_provider_counts_product_specific_credit_of_the_cart(self):
        order = self._order(self.partner_a)  # 3 x 10
        self.service.sudo()._topup(self.partner_a, 25.0, self.cash_journal, credit_type="product", product=self.product)
        self._topup_cash(self.partner_a, 5.0)
        self.assertIn(
            self.credit_provider, self._compatible(self.portal_a, self.partner_a, 30.0, sale_order_id=order.id)
        )
        tx = self._credit_tx(order)
        self._notify(tx)
        self.assertEqual(tx.state, "done")
        self.assertEqual(self.balance(self.partner_a), 0.0)
        self.assert_invariant()

    # ------------------------------------------------------------------
    # Checkout: paying
    # ------------------------------------------------------------------

    def test_pay_order_with_credit(self):
        self._topup_cash(self.partner_a, 100.0)
        order = self._order(self.partner_a)
        tx = self._credit_tx(order)
        self._notify(tx)

        self.assertEqual(tx.state, "done")
        self.assertEqual(order.state, "sale", "paying with credit confirms the order")
        spend = self.env["customer.credit.line"].search([("transaction_id", "=", tx.id)])
        self.assertEqual(spend.kind, "spend")
        self.assertEqual(spend.amount, -30.0)
        self.assertEqual(spend.sale_order_id, order)
        self.assertEqual(self.balance(self.partner_a), 70.0)
        # Dr Customer Credit / Cr the customer's receivable, and no account.payment for it
        self.assert_move_lines(
            spend.move_id,
            [(self.credit_account, self.partner_a, 30.0, 0.0), (self.receivable, self.partner_a, 0.0, 30.0)],
        )
        self.assertFalse(tx.payment_id)
        self.assertFalse(self.env["account.payment"].search([("payment_transaction_id", "=", tx.id)]))
        self.assertEqual(self.gl_balance(self.partner_a, account=self.receivable), -30.0)

        # the invoice is paid by the credit: the receivable is settled once, not twice
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(self.gl_balance(self.partner_a, account=self.receivable), 0.0)
        self.assert_invariant()

    def test_pay_order_with_credit_auto_invoice(self):
        """With automatic invoicing, the invoice is posted during post-processing and reconciled."""
        self.env["ir.config_parameter"].sudo().set_param("sale.automatic_invoice", True)
        self._topup_cash(self.partner_a, 100.0)
        order = self._order(self.partner_a)
        tx = self._credit_tx(order)
        with patch.object(type(tx), "_send_invoice", lambda self: None):
            self._notify(tx)
        self.assertEqual(order.state, "sale")
        self.assertTrue(tx.invoice_ids)
        self.assertEqual(tx.invoice_ids.payment_state, "paid")
        self.assertFalse(self.env["account.payment"].search([("payment_transaction_id", "=", tx.id)]))
        self.assertEqual(self.gl_balance(self.partner_a, account=self.receivable), 0.0)
        self.assert_invariant()

    def test_same_notification_twice_spends_once(self):
        self._topup_cash(self.partner_a, 100.0)
        order = self._order(self.partner_a)
        tx = self._credit_tx(order)
        self._notify(tx)
        moves = self.env["account.move"].search_count([])
        self._notify(tx)
        tx._customer_credit_pay()  # even straight into the processing: the transaction is done
        self.assertEqual(self.env["customer.credit.line"].search_count([("transaction_id", "=", tx.id)]), 1)
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertEqual(self.balance(self.partner_a), 70.0)
        self.assert_invariant()

    def test_second_transaction_of_a_paid_order_is_refused(self):
        """A second tab created its own transaction for the same cart: it must not pay again."""
        self._topup_cash(self.partner_a, 100.0)
        order = self._order(self.partner_a)
        first, second = self._credit_tx(order), self._credit_tx(order)
        self._notify(first)
        before = self._snapshot()
        second._handle_notification_data("customer_credit", {"reference": second.reference})
        self.assertEqual(second.state, "error")
        self.assertEqual(self._snapshot(), before)
        self.assertEqual(self.balance(self.partner_a), 70.0)
        self.assert_invariant()

    def test_not_enough_credit_at_payment_time(self):
        """Credit spent at a till between checkout and payment: error, nothing spent."""
        self._topup_cash(self.partner_a, 40.0)
        order = self._order(self.partner_a)
        tx = self._credit_tx(order)
        self.service.sudo()._spend(self.partner_a, 20.0, counterpart_account=self.clearing_account)
        before = self._snapshot()
        self._notify(tx)
        self.assertEqual(tx.state, "error")
        self.assertIn("Not enough credit", tx.state_message)
        self.assertIn("20.00", tx.state_message)
        self.assertIn(order.state, ("draft", "sent"))
        self.assertEqual(self._snapshot(), before, "nothing is spent")
        self.assert_invariant()

    def test_changed_cart_amount_is_refused(self):
        self._topup_cash(self.partner_a, 100.0)
        order = self._order(self.partner_a)
        tx = self._credit_tx(order, amount=10.0)
        before = self._snapshot()
        self._notify(tx)
        self.assertEqual(tx.state, "error")
        self.assertEqual(self._snapshot(), before)
        self.assertIn(order.state, ("draft", "sent"))

    # ------------------------------------------------------------------
    # Top-up online
    # ------------------------------------------------------------------

    def test_topup_done_creates_exactly_one_lot(self):
        tx = self._topup_tx(self.portal_a.partner_id, 50.0)
        tx._set_done()
        tx._post_process()
        tx._post_process()  # the cron or the status page may run it again
        lines = self.env["customer.credit.line"].search([("transaction_id", "=", tx.id)])
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines.kind, "topup")
        self.assertEqual(lines.amount, 50.0)
        self.assertEqual(lines.lot_id.origin, "website")
        self.assertEqual(self.balance(self.partner_a), 50.0)
        # Odoo's payment of the transaction is the lot's entry: Dr outstanding receipts / Cr Customer Credit
        payment = tx.payment_id
        self.assertTrue(payment)
        self.assertEqual(self.env["account.payment"].search([("payment_transaction_id", "=", tx.id)]), payment)
        self.assertEqual(lines.payment_id, payment)
        self.assertEqual(lines.move_id, payment.move_id)
        self.assertEqual(payment.destination_account_id, self.credit_account)
        outstanding = payment.move_id.line_ids.filtered(lambda line: line.account_id != self.credit_account)
        self.assertEqual(outstanding.debit, 50.0)
        self.assertTrue(outstanding.account_id.reconcile, "the bank side can be reconciled")
        self.assertEqual(self.gl_balance(self.partner_a), -50.0)
        # the customer is mailed (the movement template)
        self.assertTrue(
            self.env["mail.mail"].search([("recipient_ids", "in", self.partner_a.ids), ("subject", "ilike", "credit")])
        )
        self.assert_invariant()

    def test_topup_pending_or_cancelled_creates_nothing(self):
        before = self._snapshot()
        pending = self._topup_tx(self.partner_a, 50.0)
        pending._set_pending()
        pending._post_process()
        cancelled = self._topup_tx(self.partner_a, 30.0)
        cancelled._set_canceled()
        cancelled._post_process()
        self.assertEqual(self._snapshot(), before)
        self.assertFalse(
            self.env["account.payment"].search([("payment_transaction_id", "in", (pending | cancelled).ids)])
        )
        self.assert_invariant()

    # ------------------------------------------------------------------
    # Withdrawal requests
    # ------------------------------------------------------------------

    def _request(self, amount, note="IBAN BE71 0961 2345 6769", partner=None):
        return self.env["customer.credit.withdrawal"].sudo()._request(partner or self.partner_a, amount, note)

    def test_withdrawal_request_holds_then_approval_pays_out(self):
        self._topup_cash(self.partner_a, 100.0)
        request = self._request(40.0)
        self.assertEqual(request.state, "pending")
        self.assertEqual(self.service.sudo()._get_balances(self.partner_a)["held"], 40.0)
        self.assertEqual(self.partner_a.credit_available, 60.0)
        # the held amount cannot be spent meanwhile
        self.assert_rejected(
            UserError,
            "60.00",
            self.service.sudo()._spend,
            self.partner_a,
            70.0,
            counterpart_account=self.clearing_account,
        )
        # nor asked twice
        self.assert_rejected(UserError, "at most", self._request, 70.0)
        self.assertTrue(request.activity_ids, "the credit managers get a to-do")
        self.assertIn(self.partner_a, request.message_ids.partner_ids, "the customer is mailed")

        request = request.with_user(self.user_manager)
        request.journal_id = self.bank_journal
        request.action_approve()
        self.assertEqual(request.state, "paid")
        line = self.env["customer.credit.line"].search([("withdrawal_id", "=", request.id)])
        self.assertEqual(line.kind, "withdraw")
        self.assertEqual(line.amount, -40.0)
        self.assertEqual(self.balance(self.partner_a), 60.0)
        self.assertEqual(self.service.sudo()._get_balances(self.partner_a)["held"], 0.0)
        self.assertEqual(len(request.message_ids.filtered(lambda m: self.partner_a in m.partner_ids)), 2)
        self.assertFalse(request.activity_ids)
        # approving again pays nothing more
        with self.assertRaises(UserError):
            request.action_approve()
        self.assertEqual(self.balance(self.partner_a), 60.0)
        self.assert_invariant()

    def test_withdrawal_refusal_releases_the_amount(self):
        self._topup_cash(self.partner_a, 100.0)
        request = self._request(40.0).with_user(self.user_manager)
        before = self._snapshot()
        with self.assertRaisesRegex(UserError, "reason"):
            request.action_refuse()
        request.refuse_reason = "The IBAN is not in your name."
        request.action_refuse()
        self.assertEqual(request.state, "refused")
        self.assertEqual(self._snapshot(), before, "nothing is paid out")
        self.assertEqual(self.service.sudo()._get_balances(self.partner_a)["held"], 0.0)
        self.assertIn("not in your name", request.message_ids[0].body)
        self.assert_invariant()

    def test_withdrawal_only_by_credit_managers(self):
        self._topup_cash(self.partner_a, 100.0)
        request = self._request(40.0)
        request.journal_id = self.bank_journal
        with self.assertRaises(AccessError):
            request.with_user(self.user_credit).action_approve()
        with self.assertRaises(AccessError):
            request.with_user(self.portal_a).action_approve()
        self.assertEqual(request.state, "pending")
        self.assertEqual(self.balance(self.partner_a), 100.0)

    def test_withdrawal_request_validation(self):
        self._topup_cash(self.partner_a, 50.0)
        count = self.env["customer.credit.withdrawal"].search_count([])
        self.assert_rejected(UserError, "at most", self._request, 50.01)
        self.assert_rejected(UserError, "positive", self._request, -5.0)
        self.assert_rejected(UserError, "decimals", self._request, 1.234)
        self.assert_rejected(UserError, "number", self._request, "12")
        self.assertEqual(self.env["customer.credit.withdrawal"].search_count([]), count)

    def test_small_withdrawal_paid_immediately(self):
        self.company.write({"credit_withdrawal_auto_limit": 20.0, "credit_withdrawal_journal_id": self.bank_journal.id})
        self._topup_cash(self.partner_a, 100.0)
        small = self._request(15.0)
        self.assertEqual(small.state, "paid")
        self.assertEqual(self.balance(self.partner_a), 85.0)
        large = self._request(25.0)
        self.assertEqual(large.state, "pending")
        self.assertEqual(self.balance(self.partner_a), 85.0)
        self.assert_invariant()

    def test_statement_report_values(self):
        self._topup_cash(self.partner_a, 100.0)
        self.service.sudo()._spend(self.partner_a, 30.0, counterpart_account=self.clearing_account)
        report = self.env["report.customer_credit.report_customer_credit_statement"]
        values = report._get_report_values(self.partner_a.ids, {"company_id": self.company.id})
        statement = values["statements"][self.partner_a.id]
        self.assertEqual(statement["opening"], 0.0)
        self.assertEqual(statement["closing"], 70.0)
        self.assertEqual(len(statement["lines"]), 2)
        # a portal user prints only their own statement
        with self.assertRaises(AccessError):
            report.with_user(self.portal_a)._get_report_values(self.partner_b.ids, {})


@tagged("post_install", "-at_install")
class TestWebsiteCreditConcurrency(test_concurrency.TestCustomerCreditConcurrency):
    """Two notifications of the same credit transaction at once, in two real transactions (the
    committed set-up, threads and clean-up of the service's concurrency tests; their own tests run
    in their own class, not again here)."""

    test_concurrent_spends_cannot_spend_the_same_credit_twice = None
    test_concurrent_overdraft_spends_respect_the_limit = None
    test_concurrent_topup_and_spend_both_count = None

    def _cleanup_committed(self):
        """Also remove the committed orders, transactions, their keys and messages, and products."""
        if self.partner_ids:
            with self.registry.cursor() as cr:
                partners = tuple(self.partner_ids)
                cr.execute("SELECT id FROM sale_order WHERE partner_id IN %s", [partners])
                orders = tuple(row[0] for row in cr.fetchall()) or (0,)
                cr.execute("SELECT id FROM payment_transaction WHERE partner_id IN %s", [partners])
                txs = tuple(row[0] for row in cr.fetchall()) or (0,)
                cr.execute(
                    "DELETE FROM customer_credit_key WHERE name IN %s",
                    [tuple(f"payment.transaction,{tx}" for tx in txs)],
                )
                cr.execute("DELETE FROM mail_message WHERE model = 'sale.order' AND res_id IN %s", [orders])
                cr.execute("DELETE FROM mail_followers WHERE res_model = 'sale.order' AND res_id IN %s", [orders])
                cr.execute("DELETE FROM payment_transaction WHERE id IN %s", [txs])
                cr.execute("DELETE FROM sale_order_line WHERE order_id IN %s", [orders])
                cr.execute("DELETE FROM sale_order WHERE id IN %s", [orders])
        result = super()._cleanup_committed()
        if getattr(self, "product_tmpl_ids", None):
            with self.registry.cursor() as cr:
                api.Environment(cr, SUPERUSER_ID, {})["product.template"].browse(self.product_tmpl_ids).unlink()
        return result

    def _worker_env(self, cr):
        """An environment on ``cr`` without looking the registry up again: under ``odoo-bin
        --test-tags`` the test runner holds the registry lock, which a thread would wait for."""
        cr.transaction = api.Transaction(self.registry)
        return api.Environment(cr, SUPERUSER_ID, {})

    def test_concurrent_notifications_spend_once(self):
        partner_id = self._create_partner("Concurrent Web Buyer", topup=100.0)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            product = env["product.product"].create(
                {"name": "Concurrent Web Product", "list_price": 30.0, "taxes_id": [Command.clear()]}
            )
            self.product_tmpl_ids = product.product_tmpl_id.ids
            order = env["sale.order"].create(
                {"partner_id": partner_id, "order_line": [Command.create({"product_id": product.id})]}
            )
            tx = env["payment.transaction"].create(
                {
                    "provider_id": env.ref("customer_credit.payment_provider_customer_credit").id,
                    "payment_method_id": env.ref("customer_credit.payment_method_customer_credit").id,
                    "reference": f"CONC-{order.name}",
                    "amount": order.amount_total,
                    "currency_id": order.currency_id.id,
                    "partner_id": partner_id,
                    "operation": "online_redirect",
                    "sale_order_ids": [Command.set(order.ids)],
                }
            )
            tx_id, reference = tx.id, tx.reference
            self.assertAmount(order.amount_total, 30.0)

        barrier = threading.Barrier(2)
        outcomes = [{"attempts": 0}, {"attempts": 0}]

        def worker(outcome):
            threading.current_thread().testing = True
            try:
                with closing(self.registry.cursor()) as cr:
                    env = self._worker_env(cr)
                    outcome["seen"] = env["payment.transaction"].browse(tx_id).state  # the snapshot is taken
                    barrier.wait(timeout=30)

                    def attempt():
                        outcome["attempts"] += 1
                        tx = env["payment.transaction"].browse(tx_id)
                        tx._handle_notification_data("customer_credit", {"reference": reference})
                        return tx.state

                    outcome["result"] = retrying(attempt, env)
            except Exception as exc:
                outcome["error"] = exc

        threads = [threading.Thread(target=worker, args=(outcome,)) for outcome in outcomes]
        # ``retrying`` resets the transaction, which looks the registry up again: same lock as above
        with (
            mute_logger("odoo.sql_db", "odoo.service.model"),
            patch.object(api.Transaction, "reset", api.Transaction.clear),
        ):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        self.assertFalse([thread for thread in threads if thread.is_alive()], f"deadlock {outcomes}")
        self.assertEqual([o.get("seen") for o in outcomes], ["draft", "draft"], outcomes)
        self.assertEqual([o.get("result") for o in outcomes], ["done", "done"], outcomes)
        self.assertEqual(sorted(o["attempts"] for o in outcomes)[1], 2, "the late one is retried on fresh data")

        with self._fresh_env() as env:
            partner = env["res.partner"].browse(partner_id)
            lines = env["customer.credit.line"].search([("transaction_id", "=", tx_id)])
            self.assertEqual(len(lines), 1, "two notifications at once spend once")
            self.assertAmount(lines.amount, -30.0)
            self.assertEqual(env["payment.transaction"].browse(tx_id).state, "done")
            self._assert_books(env, partner, 70.0, lines=2, lots=1, moves=2)


@tagged("post_install", "-at_install")
class TestWebsiteCreditRoutes(WebsiteCreditCommon, HttpCase):
    """Each route: only the logged-in customer's credit, CSRF, validated amounts."""

    def _withdrawals(self):
        return self.env["customer.credit.withdrawal"].sudo().search_count([])

    def test_public_visitors_are_sent_to_login(self):
        for url in ("/my/credit", "/my/credit/topup?amount=10", "/my/credit/statement"):
            response = self.url_open(url, allow_redirects=False)
            self.assertIn(response.status_code, (302, 303), url)
            self.assertIn("/web/login", response.headers["Location"], url)

    def test_my_credit_page_shows_own_credit_only(self):
        self._topup_cash(self.partner_a, 123.45)
        self._topup_cash(self.partner_b, 999.0)
        self.authenticate("cc_portal_a", "cc_portal_a")
        response = self.url_open("/my/credit")
        self.assertEqual(response.status_code, 200)
        self.assertIn("123.45", response.text)
        self.assertNotIn("999.00", response.text)
        home = self.url_open("/my")
        self.assertIn("/my/credit", home.text)
        self.assertIn("123.45", home.text)

    def test_history_is_paginated(self):
        for __ in range(25):
            self._topup_cash(self.partner_a, 1.0)
        self.authenticate("cc_portal_a", "cc_portal_a")
        first = self.url_open("/my/credit")
        self.assertIn("/my/credit/page/2", first.text)
        self.assertEqual(first.text.count("<span>Credit top-up</span>"), 20)
        second = self.url_open("/my/credit/page/2")
        self.assertEqual(second.status_code, 200)
        self.assertEqual(second.text.count("<span>Credit top-up</span>"), 5)

    def test_withdraw_route(self):
        self._topup_cash(self.partner_a, 100.0)
        self.authenticate("cc_portal_a", "cc_portal_a")
        # no CSRF token: refused, nothing changed
        before, count = self._snapshot(), self._withdrawals()
        with mute_logger("odoo.http"):
            response = self.url_open("/my/credit/withdraw", data={"amount": "10", "note": "IBAN"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual((self._snapshot(), self._withdrawals()), (before, count))
        # bad amounts: a clear message on the page, nothing changed
        bad = {
            "0": "more than zero",
            "-5": "positive number",
            "nan": "positive number",
            "inf": "positive number",
            "ten": "positive number",
            "1e3": "positive number",
            "1.234": "at most 2 decimals",
            "100.01": "at most",
        }
        for amount, message in bad.items():
            response = self.url_open(
                "/my/credit/withdraw", data={"amount": amount, "note": "IBAN", "csrf_token": self._csrf()}
            )
            self.assertEqual(response.status_code, 200, amount)
            self.assertIn("o_customer_credit_error", response.text, amount)
            self.assertIn(message, response.text, amount)
            self.assertEqual((self._snapshot(), self._withdrawals()), (before, count), amount)
        # a valid request
        response = self.url_open(
            "/my/credit/withdraw", data={"amount": "40.50", "note": "IBAN BE71", "csrf_token": self._csrf()}
        )
        self.assertEqual(response.status_code, 200)
        request = self.env["customer.credit.withdrawal"].sudo().search([("partner_id", "=", self.partner_a.id)])
        self.assertEqual(request.amount, 40.5)
        self.assertEqual(request.state, "pending")
        self.assertIn("set aside", response.text)

    def test_cancel_someone_elses_withdrawal_is_not_found(self):
        self._topup_cash(self.partner_b, 100.0)
        other = self.env["customer.credit.withdrawal"].sudo()._request(self.partner_b, 30.0, "IBAN")
        self.authenticate("cc_portal_a", "cc_portal_a")
        with mute_logger("odoo.http"):
            response = self.url_open(f"/my/credit/withdrawal/{other.id}/cancel", data={"csrf_token": self._csrf()})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(other.state, "pending")
        # the customer cancels their own
        self._topup_cash(self.partner_a, 100.0)
        own = self.env["customer.credit.withdrawal"].sudo()._request(self.partner_a, 30.0, "IBAN")
        with mute_logger("odoo.http"):
            response = self.url_open(f"/my/credit/withdrawal/{own.id}/cancel", data={"reason": "no token"})
        self.assertEqual(response.status_code, 400, "no CSRF token")
        self.assertEqual(own.state, "pending")
        response = self.url_open(f"/my/credit/withdrawal/{own.id}/cancel", data={"csrf_token": self._csrf()})
        self.assertEqual(response.status_code, 200)
        own.invalidate_recordset()
        self.assertEqual(own.state, "cancelled")

    def test_topup_amounts_are_validated(self):
        self.authenticate("cc_portal_a", "cc_portal_a")
        bad = {
            "0": "more than zero",
            "-5": "positive number",
            "NaN": "positive number",
            "abc": "positive number",
            "1.234": "at most 2 decimals",
            "1": "at least",
            "500.01": "at most",
        }
        for amount, message in bad.items():
            response = self.url_open(f"/my/credit/topup?amount={amount}")
            self.assertEqual(response.status_code, 200, amount)
            self.assertIn("o_customer_credit_error", response.text, amount)
            self.assertIn(message, response.text, amount)
        response = self.url_open("/my/credit/topup?amount=25")
        self.assertIn('data-payment-method-code="demo"', response.text)
        self.assertNotIn('data-payment-method-code="customer_credit"', response.text)

    def test_topup_transaction_route(self):
        self.authenticate("cc_portal_a", "cc_portal_a")
        partner = self.portal_a.partner_id
        route = "/my/credit/topup/transaction"

        def call(amount, provider, method, token_amount=None):
            access_token = self._generate_test_access_token(
                partner.id, token_amount if token_amount is not None else amount, self.currency.id
            )
            return self.make_jsonrpc_request(
                route,
                {
                    "amount": amount,
                    "access_token": access_token,
                    "provider_id": provider.id,
                    "payment_method_id": method.id,
                    "token_id": None,
                    "flow": "direct",
                    "tokenization_requested": False,
                    "landing_route": "/elsewhere",
                    "is_validation": False,
                },
            )

        Tx = self.env["payment.transaction"].sudo()
        count = Tx.search_count([])
        for amount, provider, method, token_amount in (
            (900.0, self.demo_provider, self.demo_method, None),  # above the maximum
            (25.0, self.credit_provider, self.credit_method, None),  # credit with credit
            (25.0, self.demo_provider, self.demo_method, 10.0),  # tampered amount
        ):
            with mute_logger("odoo.http"), self.assertRaises(Exception):  # noqa: B017 (the JSON-RPC error)
                call(amount, provider, method, token_amount)
            self.assertEqual(Tx.search_count([]), count)
        call(25.0, self.demo_provider, self.demo_method)
        tx = Tx.search([], order="id desc", limit=1)
        self.assertTrue(tx.is_credit_topup)
        self.assertEqual(tx.partner_id, partner)
        self.assertEqual(tx.amount, 25.0)
        self.assertEqual(tx.landing_route, "/my/credit")

    def test_process_route_security(self):
        self._topup_cash(self.partner_b, 100.0)
        order = self._order(self.partner_b)
        tx = self._credit_tx(order)
        before = self._snapshot()
        self.authenticate("cc_portal_a", "cc_portal_a")
        with mute_logger("odoo.http"):
            # someone else's transaction
            response = self.url_open(
                "/payment/customer_credit/process", data={"reference": tx.reference, "csrf_token": self._csrf()}
            )
            self.assertEqual(response.status_code, 404)
            # no CSRF token
            self.authenticate("cc_portal_b", "cc_portal_b")
            response = self.url_open("/payment/customer_credit/process", data={"reference": tx.reference})
            self.assertEqual(response.status_code, 400)
        self.assertEqual(tx.state, "draft")
        self.assertEqual(self._snapshot(), before)
        # the owner pays it
        response = self.url_open(
            "/payment/customer_credit/process",
            data={"reference": tx.reference, "csrf_token": self._csrf()},
            allow_redirects=False,
        )
        self.assertIn(response.status_code, (302, 303))
        tx.invalidate_recordset()
        self.assertEqual(tx.state, "done")
        self.assertEqual(self.balance(self.partner_b), 70.0)
        self.assert_invariant()

    def test_statement_download(self):
        self._topup_cash(self.partner_a, 100.0)
        self._topup_cash(self.partner_b, 55.55)
        self.authenticate("cc_portal_a", "cc_portal_a")
        response = self.url_open("/my/credit/statement")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Credit Statement", response.text)
        self.assertIn(self.partner_a.name, response.text)
        self.assertNotIn(self.partner_b.name, response.text)
        self.assertNotIn("55.55", response.text)
        response = self.url_open("/my/credit/statement?date_from=2026-13-01")
        self.assertIn("YYYY-MM-DD", response.text)
        response = self.url_open("/my/credit/statement?date_from=2026-02-01&date_to=2026-01-01")
        self.assertIn("start before it ends", response.text)

    def test_statement_pdf_renders(self):
        """The real PDF, rendered by wkhtmltopdf."""
        self._topup_cash(self.partner_a, 100.0)
        report = self.env.ref("customer_credit.action_report_customer_credit_statement")
        content, content_type = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(report.report_name, self.partner_a.ids, data={"company_id": self.company.id})
        )
        self.assertEqual(content_type, "pdf")
        self.assertTrue(content.startswith(b"%PDF"))

    def _csrf(self):
        response = self.url_open("/my/credit")
        return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)
