"""Fault suite, in one transaction: a sync replayed, a request that dies before its commit, a payment
notification replayed. After each fault nothing is half-written, no order is lost, and the books
follow the ledger (the invariant).

A request that dies before its commit is emulated by a savepoint rolled back around it, as the
database rolls the transaction back when the connection is lost; the same faults on real, separate
cursors (connections killed, locks held) are in ``test_faults_threads.py``.
"""

from unittest.mock import patch

import psycopg2

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CustomerCreditCommon
from .pos_common import CustomerCreditPosCase
from .test_website import WebsiteCreditCommon

LOST = "server closed the connection unexpectedly"


class RequestLost(Exception):
    """Raised by the test around a request whose transaction is rolled back (never committed)."""


class FaultMixin:
    _snapshot = CustomerCreditCommon._snapshot

    def run_lost(self, func, *args, **kwargs):
        """Run ``func`` as a request whose connection is lost before it commits: everything it did
        is rolled back (a savepoint stands for the transaction). Returns what it raised."""
        try:
            with self.env.cr.savepoint():
                func(*args, **kwargs)
                raise RequestLost("the request ended without an error: the fault was not injected")
        except psycopg2.OperationalError as error:
            self.env.invalidate_all()
            return error

    def assert_nothing_written(self, before):
        self.env.invalidate_all()
        self.assertEqual(self._snapshot(), before, "a request that never committed must leave nothing")


@tagged("post_install", "-at_install")
class TestPosFaults(FaultMixin, CustomerCreditPosCase):
    session_methods = ("cash_pm1", "credit_pm")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # what ``_snapshot`` watches
        cls.partner_a, cls.partner_b = cls.customer, cls.other_customer
        cls.partner_c = cls.env["res.partner"].create({"name": "Fault Bystander"})

    def order_data(self, uuid):
        """What the till sends for a paid order: the order's and its payment's uuids never change."""
        data = self.create_ui_order_data(
            [(self.product_a, 1)], customer=self.customer, payments=[(self.credit_pm, 30.0)], uuid=uuid
        )
        data["payment_ids"][0][2]["uuid"] = f"{uuid}-payment"
        return data

    def orders(self, uuid):
        return self.env["pos.order"].search([("uuid", "=", uuid)])

    def assert_one_order_one_spend(self, uuid, balance=70.0):
        order = self.orders(uuid)
        self.assertEqual(len(order), 1, "the order is saved, once")
        self.assertIn(order.state, ("paid", "done"))
        spend = self.ledger(self.customer, kind="spend")
        self.assertEqual(spend.mapped("amount"), [-30.0], "one spend")
        self.assertEqual((spend.pos_order_id, spend.pos_payment_id), (order, order.payment_ids))
        self.assertEqual(len(spend.move_id), 1)
        self.assertEqual(self.balance(self.customer), balance)
        self.assertEqual(self.gl_balance(self.customer), -balance)
        self.assertEqual(self.gl_balance(self.customer, account=self.clearing_account), -30.0)
        self.assert_invariant()
        return order

    # ------------------------------------------------------------------

    def test_same_order_synced_twice(self):
        """Synced, then the till did not get the answer and sends it again, even in one batch."""
        self.env["pos.order"].sync_from_ui([self.order_data("fault-twice")])
        self.env["pos.order"].sync_from_ui([self.order_data("fault-twice")])
        self.env["pos.order"].sync_from_ui([self.order_data("fault-twice"), self.order_data("fault-twice")])
        self.assert_one_order_one_spend("fault-twice")

    def test_same_order_twice_in_one_batch(self):
        """Two tabs' pending orders merged into one sync: the order comes twice in one RPC."""
        result = self.env["pos.order"].sync_from_ui([self.order_data("fault-batch"), self.order_data("fault-batch")])
        self.assertEqual(len(result["pos.order"]), 1)
        self.assert_one_order_one_spend("fault-batch")

    def test_draft_then_paid_then_again(self):
        """Saved as a draft first (no credit moves), then paid (the credit moves once), then replayed."""
        draft = self.create_ui_order_data([(self.product_a, 1)], customer=self.customer, payments=[], uuid="fault-d")
        draft["state"] = "draft"
        self.env["pos.order"].sync_from_ui([draft])
        self.assertEqual(self.orders("fault-d").state, "draft")
        self.assertFalse(self.ledger(self.customer, kind="spend"), "a draft order spends nothing")
        paid = self.order_data("fault-d")
        paid.update(id=self.orders("fault-d").id, lines=[])  # its line is saved already
        self.env["pos.order"].sync_from_ui([paid])
        self.env["pos.order"].sync_from_ui([self.order_data("fault-d")])
        self.assert_one_order_one_spend("fault-d")

    def test_synced_again_after_the_session_closed(self):
        self.env["pos.order"].sync_from_ui([self.order_data("fault-closed")])
        session = self.pos_session
        session.post_closing_cash_details(0.0)
        session.close_session_from_ui()
        self.assertEqual(session.state, "closed")
        self.open_new_session()
        self.env["pos.order"].sync_from_ui([self.order_data("fault-closed")])
        self.assertEqual(self.orders("fault-closed").session_id, session)
        self.assert_one_order_one_spend("fault-closed")
        self.assert_clearing_settled()

    @mute_logger("odoo.sql_db")
    def test_database_restart_between_till_and_sync(self):
        """The server loses its database after the order was processed, before the commit: the till
        gets an error and keeps the order; nothing of it is saved. Synced again later: saved once."""
        before = self._snapshot()
        orders_before = self.env["pos.order"].search_count([])
        with patch.object(
            type(self.env["pos.order"]),
            "_ensure_access_token",
            side_effect=psycopg2.OperationalError(LOST),
            autospec=True,
        ):
            error = self.run_lost(self.env["pos.order"].sync_from_ui, [self.order_data("fault-restart")])
        self.assertIn(LOST, str(error))
        self.assert_nothing_written(before)
        self.assertEqual(self.env["pos.order"].search_count([]), orders_before)
        self.assertFalse(self.orders("fault-restart"))

        self.env["pos.order"].sync_from_ui([self.order_data("fault-restart")])
        self.env["pos.order"].sync_from_ui([self.order_data("fault-restart")])
        self.assert_one_order_one_spend("fault-restart")

    @mute_logger("odoo.sql_db")
    def test_connection_lost_inside_the_spend(self):
        """The connection drops inside the credit spend of a sync (after its ledger lines are
        written): the error is not swallowed as a credit failure, the whole sync is rolled back,
        and the order syncs later with one spend."""
        before = self._snapshot()
        Service = type(self.env["customer.credit.service"])
        original = Service._notify

        def notify_then_lose(service, lines):
            original(service, lines)
            self.assertTrue(lines, "the ledger lines are written when the connection drops")
            raise psycopg2.OperationalError(LOST)

        with patch.object(Service, "_notify", notify_then_lose):
            self.run_lost(self.env["pos.order"].sync_from_ui, [self.order_data("fault-inside")])
        self.assert_nothing_written(before)
        self.assertFalse(self.orders("fault-inside"), "not saved without its spend")

        self.env["pos.order"].sync_from_ui([self.order_data("fault-inside")])
        self.assert_one_order_one_spend("fault-inside")


@tagged("post_install", "-at_install")
class TestServiceFaults(FaultMixin, CustomerCreditCommon):
    @mute_logger("odoo.sql_db")
    def test_worker_killed_in_the_middle_of_a_spend(self):
        """The worker dies after the spend's ledger lines and entry are written, before the commit:
        nothing is left, and the retry with the same key records the spend exactly once."""
        service = self.service.sudo()
        service._topup(self.partner_a, 100.0, self.cash_journal)
        before = self._snapshot()
        Service = type(service)
        original = Service._notify
        written = {}

        def notify_then_die(self_, lines):
            original(self_, lines)
            written["lines"] = len(lines)
            written["moves"] = self.env["account.move"].sudo().search_count([("id", "in", lines.move_id.ids)])
            raise psycopg2.OperationalError(LOST)

        def spend():
            return service._spend(self.partner_a, 40.0, counterpart_account=self.clearing_account, key="till-1/42")

        with patch.object(Service, "_notify", notify_then_die):
            self.run_lost(spend)
        self.assertEqual(written, {"lines": 1, "moves": 1}, "it died with its lines and entry written")
        self.assert_nothing_written(before)
        self.assertFalse(self.env["customer.credit.key"].sudo().search([("name", "=", "till-1/42")]))

        first = spend()
        again = spend()
        self.assertEqual(again, first, "the same key again returns the first spend")
        spends = self.env["customer.credit.line"].search(
            [("partner_id", "=", self.partner_a.id), ("kind", "=", "spend")]
        )
        self.assertEqual(spends, first)
        self.assertEqual(spends.mapped("amount"), [-40.0])
        self.assertEqual(self.balance(self.partner_a), 60.0)
        self.assertEqual(self.gl_balance(self.partner_a), -60.0)
        self.assert_invariant()

    def test_expiry_and_spend_of_the_same_lot_in_turn(self):
        """Spend from a lot, then it expires: the expiry takes only what is left; a spend after the
        expiry cannot take from it."""
        service = self.service.sudo()
        today = fields.Date.context_today(service)
        lot = service._topup(self.partner_a, 50.0, self.cash_journal, expiry_date=today).lot_id
        service._spend(self.partner_a, 30.0, counterpart_account=self.clearing_account)
        self.assertEqual(lot.balance, 20.0)
        expired = service._expire(lot)
        self.assertEqual(expired.mapped("amount"), [-20.0])
        self.assertEqual((lot.balance, lot.state), (0.0, "expired"))
        self.assert_rejected(
            UserError,
            "credit available",
            service._spend,
            self.partner_a,
            5.0,
            counterpart_account=self.clearing_account,
        )
        self.assertEqual(self.balance(self.partner_a), 0.0)
        self.assert_invariant()


@tagged("post_install", "-at_install")
class TestWebsiteFaults(FaultMixin, WebsiteCreditCommon):
    def test_replayed_notification_spends_once(self):
        """The provider's notification replayed, the done state set again, the post-processing run
        again (the cron, the status page), and the notification once more after the invoice."""
        self._topup_cash(self.partner_a, 100.0)
        order = self._order(self.partner_a)
        tx = self._credit_tx(order)
        self._notify(tx)
        self.assertEqual(tx.state, "done")
        moves = self.env["account.move"].search_count([])
        for __ in range(2):
            tx._handle_notification_data("customer_credit", {"reference": tx.reference})
            tx._set_done()
            tx._post_process()
        invoice = order._create_invoices()
        invoice.action_post()
        self._notify(tx)
        tx._post_process()
        self.assertEqual(invoice.payment_state, "paid")
        spends = self.env["customer.credit.line"].search([("transaction_id", "=", tx.id)])
        self.assertEqual(spends.mapped("amount"), [-30.0])
        self.assertEqual(self.env["account.move"].search_count([]), moves + 1, "only the invoice was added")
        self.assertEqual(self.balance(self.partner_a), 70.0)
        self.assertEqual(self.gl_balance(self.partner_a, account=self.receivable), 0.0)
        self.assertEqual(order.state, "sale")
        self.assert_invariant()

    @mute_logger("odoo.sql_db")
    def test_notification_lost_before_commit_is_replayed(self):
        """The first notification's request dies after the spend, before its commit: the provider
        sends it again, and the credit is spent once."""
        self._topup_cash(self.partner_a, 100.0)
        order = self._order(self.partner_a)
        tx = self._credit_tx(order)
        before = self._snapshot()
        Service = type(self.env["customer.credit.service"])
        original = Service._notify

        def notify_then_lose(service, lines):
            original(service, lines)
            raise psycopg2.OperationalError(LOST)

        with patch.object(Service, "_notify", notify_then_lose):
            self.run_lost(self._notify, tx)
        self.assert_nothing_written(before)
        self.assertEqual(tx.state, "draft")
        self.assertIn(order.state, ("draft", "sent"))

        self._notify(tx)
        self._notify(tx)
        self.assertEqual(tx.state, "done")
        spends = self.env["customer.credit.line"].search([("transaction_id", "=", tx.id)])
        self.assertEqual(spends.mapped("amount"), [-30.0])
        self.assertEqual(self.balance(self.partner_a), 70.0)
        self.assert_invariant()
