"""Fault suite on real, separate database connections (run with ``make devpytest``): two tabs syncing
one order at once, a worker whose connection is killed in the middle of a spend, the database lost
between the till and the commit, a customer lock that times out, the expiry job racing a spend of the
same lot. After each: nothing half-written, no order lost, and the reconciliation report (Customer
Credit account vs ledger, per customer) is empty.

The committed set-up, threads and clean-up are those of ``test_concurrency.py`` (Odoo's
``TestSequenceMixinConcurrency`` model).
"""

import copy
import json
import re
import time
from contextlib import closing
from unittest.mock import patch

import psycopg2

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, retrying
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import mute_logger

from ..models.customer_credit_service import CreditBusy, CreditLockTimeout
from ..models.payment_transaction import PROCESS_URL
from . import test_concurrency as concurrency
from . import test_pos_concurrency as pos_concurrency
from . import test_website as website

BUSY_MESSAGE = (
    "The credit of this customer is being changed by another payment right now; "
    "nothing was recorded. Please try again in a moment."
)


class FaultThreadsCommon(TransactionCase):
    # the committed set-up, threads and clean-up of the service's concurrency tests (not their tests)
    _cleanup_committed = concurrency.TestCustomerCreditConcurrency._cleanup_committed
    _create_partner = concurrency.TestCustomerCreditConcurrency._create_partner
    _fresh_env = concurrency.TestCustomerCreditConcurrency._fresh_env
    _run_concurrently = concurrency.TestCustomerCreditConcurrency._run_concurrently
    _lock_seq = concurrency.TestCustomerCreditConcurrency._lock_seq
    _assert_books = concurrency.TestCustomerCreditConcurrency._assert_books
    assertAmount = concurrency.TestCustomerCreditConcurrency.assertAmount

    def setUp(self):
        super().setUp()
        self.partner_ids = []
        self.addCleanup(self._cleanup_committed)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.company
            if not company.credit_account_id or not company.credit_journal_id:
                company._customer_credit_setup_accounting()
            cash = env["account.journal"].search([("type", "=", "cash"), ("company_id", "=", company.id)], limit=1)
            self.company_id = company.id
            self.digits = company.currency_id.decimal_places
            self.credit_account_id = company.credit_account_id.id
            self.credit_journal_id = company.credit_journal_id.id
            self.clearing_account_id = company.credit_clearing_account_id.id
            self.cash_journal_id = cash.id

    def _spend(self, amount, key=None):
        def operation(env, partner):
            service = env["customer.credit.service"].sudo()
            clearing = env["account.account"].browse(self.clearing_account_id)
            return service._spend(partner, amount, counterpart_account=clearing, key=key).ids

        return operation

    def assert_books_reconcile(self):
        """The invariant, as the accountants' report computes it, over the committed database."""
        with self._fresh_env() as env:
            self.assertEqual(env["customer.credit.reconciliation"]._get_differences(), [])
            env.cr.execute("SELECT id FROM customer_credit_line WHERE lot_balance_after < 0 AND lot_id IS NOT NULL")
            self.assertFalse(env.cr.fetchall(), "no lot ever went below zero")

    def kill(self, cr):
        """Terminate the backend of ``cr`` from another connection (a crashed worker, a database
        restart), and wait until it is gone."""
        cr.execute("SELECT pg_backend_pid()")
        pid = cr.fetchone()[0]
        with closing(self.registry.cursor()) as killer:
            killer.execute("SELECT pg_terminate_backend(%s)", [pid])
            for _i in range(100):
                killer.rollback()  # a new snapshot of pg_stat_activity
                killer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
                if not killer.fetchone():
                    return
                time.sleep(0.05)
        self.fail(f"backend {pid} was not terminated")

    @staticmethod
    def discard(cr):
        """Close a cursor whose connection is dead (Odoo's pool drops dead connections)."""
        try:
            cr.close()
        except psycopg2.Error:
            cr._closed = True


@tagged("post_install", "-at_install")
class TestServiceFaultThreads(FaultThreadsCommon):
    def test_worker_killed_in_the_middle_of_a_spend(self):
        """The worker's connection is killed once the spend's ledger lines and entry are written,
        before the commit: nothing of it remains; the retry with the same key spends once."""
        partner_id = self._create_partner("Killed Spender", topup=100.0)
        seq_before = self._lock_seq(partner_id)
        cr = self.registry.cursor()
        env = api.Environment(cr, SUPERUSER_ID, {})
        Service = type(env["customer.credit.service"])
        original = Service._notify
        written = {}

        def notify_then_killed(service, lines):
            original(service, lines)
            if service.env.cr is cr:
                service.env.cr.execute("SELECT COUNT(*) FROM customer_credit_line WHERE partner_id = %s", [partner_id])
                written["lines"] = service.env.cr.fetchone()[0]
                self.kill(cr)

        spend = self._spend(40.0, key="till-1/order-42")
        error = None
        try:
            with patch.object(Service, "_notify", notify_then_killed), mute_logger("odoo.sql_db", "odoo.service.model"):
                retrying(lambda: spend(env, env["res.partner"].browse(partner_id)), env)
        except psycopg2.Error as exc:
            error = exc
        finally:
            self.discard(cr)
        self.assertIsInstance(error, psycopg2.Error, "the commit failed: the connection is gone")
        self.assertEqual(written, {"lines": 2}, "killed with the spend's line written (after the top-up's)")

        # nothing half-written: no line, entry, key or lock bump of the dead spend
        self.assertEqual(self._lock_seq(partner_id), seq_before)
        with self._fresh_env() as env:
            partner = env["res.partner"].browse(partner_id)
            self._assert_books(env, partner, 100.0, lines=1, lots=1, moves=1)
            self.assertFalse(env["customer.credit.key"].search([("name", "=", "till-1/order-42")]))

        # the till retries: one spend; and once more: the same spend
        (first,) = self._run_concurrently(partner_id, spend)
        (second,) = self._run_concurrently(partner_id, spend)
        self.assertEqual(first["result"], second["result"], (first, second))
        with self._fresh_env() as env:
            ledger = self._assert_books(env, env["res.partner"].browse(partner_id), 60.0, lines=2, lots=1, moves=2)
            self.assertEqual(ledger.filtered(lambda line: line.kind == "spend").ids, first["result"])
        self.assert_books_reconcile()

    def test_lock_timeout_is_a_clear_retryable_error(self):
        """A customer's credit locked by a long movement: a spend with a lock timeout gets an error
        that says what happened and that Odoo retries; nothing is written; once the lock is free,
        the retry spends once."""
        partner_id = self._create_partner("Locked Customer", topup=100.0)
        seq_before = self._lock_seq(partner_id)
        holder = self.registry.cursor()
        self.addCleanup(self.discard, holder)
        holder_env = api.Environment(holder, SUPERUSER_ID, {})
        holder_env["customer.credit.service"].sudo()._lock(
            [holder_env["res.partner"].browse(partner_id)], holder_env.company
        )

        attempts = []
        spend = self._spend(30.0, key="web-tx-77")
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute("SET LOCAL lock_timeout = '300ms'")
            started = time.monotonic()
            error = None
            try:
                with mute_logger("odoo.sql_db"):
                    spend(env, env["res.partner"].browse(partner_id))
            except Exception as exc:
                error = exc
            self.assertLess(time.monotonic() - started, 10)
            self.assertIsInstance(error, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, "Odoo retries it")
            message = str(error)
            self.assertIn("credit", message)
            self.assertIn("try again", message)
            self.assertNotIn("relation", message, "no database jargon for the cashier")
            cr.rollback()

            # as an RPC runs it: the first attempt times out, then the lock is released, Odoo retries
            def attempt():
                attempts.append(len(attempts) + 1)
                cr.execute("SET LOCAL lock_timeout = '300ms'")
                if len(attempts) == 2:
                    holder.rollback()  # the long movement ends
                return spend(env, env["res.partner"].browse(partner_id))

            with mute_logger("odoo.sql_db", "odoo.service.model"), patch("odoo.service.model.time.sleep"):
                result = retrying(attempt, env)
        self.assertEqual(attempts, [1, 2])
        self.assertEqual(self._lock_seq(partner_id), seq_before + 1, "only the successful attempt counted")
        with self._fresh_env() as env:
            ledger = self._assert_books(env, env["res.partner"].browse(partner_id), 70.0, lines=2, lots=1, moves=2)
            self.assertEqual(ledger.filtered(lambda line: line.kind == "spend").ids, result)
        self.assert_books_reconcile()

    def test_spend_after_a_newer_commit_is_a_clear_retryable_error(self):
        """Transaction A takes its snapshot, the till B spends the same customer and commits, then A
        spends: A gets ``CreditBusy`` (a serialization failure, which Odoo retries) with words a
        customer can act on, and nothing of A is written; Odoo's retry then spends once, on fresh data."""
        partner_id = self._create_partner("Busy Customer", topup=100.0)

        def commit_spend_of_b(amount, key):
            with self.registry.cursor() as cr_b:  # committed when the block ends
                env_b = api.Environment(cr_b, SUPERUSER_ID, {})
                self._spend(amount, key=key)(env_b, env_b["res.partner"].browse(partner_id))

        spend_a = self._spend(30.0, key="web-tx-busy")
        with closing(self.registry.cursor()) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            service = env["customer.credit.service"].sudo()
            partner = env["res.partner"].browse(partner_id)
            self.assertAmount(service._get_balances(partner)["total"], 100.0)  # A's snapshot
            commit_spend_of_b(20.0, "till-1/busy-1")
            seq_after_b = self._lock_seq(partner_id)
            error = None
            try:
                with mute_logger("odoo.sql_db"):
                    spend_a(env, env["res.partner"].browse(partner_id))
            except Exception as exc:
                error = exc
            self.assertIsInstance(error, CreditBusy, error)
            self.assertIsInstance(error, psycopg2.errors.SerializationFailure)
            self.assertIsInstance(error, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, "Odoo retries it")
            self.assertEqual(str(error), BUSY_MESSAGE)
            self.assertNotIn("serialize", str(error), "no database jargon for the customer")
            cr.rollback()

            # nothing of A: B's spend only
            self.assertEqual(self._lock_seq(partner_id), seq_after_b)
            with self._fresh_env() as fresh:
                self._assert_books(fresh, fresh["res.partner"].browse(partner_id), 80.0, lines=2, lots=1, moves=2)
                self.assertFalse(fresh["customer.credit.key"].search([("name", "=", "web-tx-busy")]))

            # as a request runs it: the first try loses the race, Odoo retries on fresh data
            attempts = []

            def attempt():
                attempts.append(len(attempts) + 1)
                service = env["customer.credit.service"].sudo()
                service._get_balances(env["res.partner"].browse(partner_id))  # the snapshot
                if len(attempts) == 1:
                    commit_spend_of_b(10.0, "till-2/busy-2")
                return spend_a(env, env["res.partner"].browse(partner_id))

            with mute_logger("odoo.sql_db", "odoo.service.model"), patch("odoo.service.model.time.sleep"):
                result = retrying(attempt, env)
        self.assertEqual(attempts, [1, 2])
        with self._fresh_env() as env:
            ledger = self._assert_books(env, env["res.partner"].browse(partner_id), 40.0, lines=4, lots=1, moves=4)
            self.assertEqual(ledger[-1].ids, result, "A's spend, once, after both of B's")
        self.assert_books_reconcile()

    def test_expiry_job_racing_a_spend_of_the_same_lot(self):
        """The expiry job (run by a user whose day has already turned) expires a lot while a till,
        whose day has not, spends from that very lot: whichever commits first, the expiry takes only
        what is left, no lot goes below zero, and the books follow."""
        partner_id = self._create_partner("Expiry Racer", topup=100.0)
        spender_tz, cron_tz = "Etc/GMT+12", "Pacific/Kiritimati"  # UTC-12 and UTC+14: always two dates
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tz": spender_tz})
            today = fields.Date.context_today(env["customer.credit"])
            cash = env["account.journal"].browse(self.cash_journal_id)
            partner = env["res.partner"].browse(partner_id)
            lot = env["customer.credit.service"].sudo()._topup(partner, 50.0, cash, expiry_date=today).lot_id
            lot_id = lot.id
        with self._fresh_env() as env:
            cron_env = env(context={"tz": cron_tz})
            self.assertLess(today, fields.Date.context_today(cron_env["customer.credit"]))

        def expire(env, partner):
            return env(context={"tz": cron_tz})["customer.credit"]._cron_expire().ids

        def spend(env, partner):
            return self._spend(30.0)(env(context={"tz": spender_tz}), partner)

        outcomes = self._run_concurrently(partner_id, expire, spend)
        for outcome in outcomes:
            self.assertIn("result", outcome, outcomes)
        self.assertIn(lot_id, outcomes[0]["result"], "the job expired the lot")
        with self._fresh_env() as env:
            partner = env["res.partner"].browse(partner_id)
            lines = env["customer.credit.line"].search([("partner_id", "=", partner_id)], order="id")
            kinds = [line.kind for line in lines if line.kind in ("expire", "spend")]
            expired = -lines.filtered(lambda line: line.kind == "expire").amount
            if kinds == ["spend", "expire"]:  # the till first, from the expiring lot
                self.assertAmount(expired, 20.0)
                self.assertEqual(lines.filtered(lambda line: line.kind == "spend").lot_id.id, lot_id)
            else:  # the job first: the till spends the other lot
                self.assertEqual(kinds, ["expire", "spend"])
                self.assertAmount(expired, 50.0)
                self.assertNotEqual(lines.filtered(lambda line: line.kind == "spend").lot_id.id, lot_id)
            self._assert_books(env, partner, 150.0 - 30.0 - expired, lines=4, lots=2, moves=4)
            lot = env["customer.credit"].browse(lot_id)
            self.assertEqual((lot.state, lot.balance), ("expired", 0.0))
        self.assert_books_reconcile()


@tagged("post_install", "-at_install")
class TestCreditBusyUserError(TransactionCase):
    """What a request answers once Odoo gave up retrying a credit movement that lost the race."""

    def test_concurrency_errors_become_user_errors(self):
        IrHttp = self.env.registry["ir.http"]
        for error_class in (CreditBusy, CreditLockTimeout):
            error = error_class(BUSY_MESSAGE)
            converted = IrHttp._customer_credit_user_error(error)
            self.assertIsInstance(converted, UserError, error_class)
            self.assertEqual(converted.args[0], BUSY_MESSAGE)
            self.assertIs(converted.__cause__, error)

    def test_other_errors_unchanged(self):
        IrHttp = self.env.registry["ir.http"]
        for error in (
            psycopg2.errors.SerializationFailure("could not serialize access due to concurrent update"),
            psycopg2.errors.LockNotAvailable("could not obtain lock"),
            UserError("Not enough credit"),
            ValueError("boom"),
        ):
            self.assertIs(IrHttp._customer_credit_user_error(error), error)


@tagged("post_install", "-at_install")
class TestCreditBusyRoutes(website.WebsiteCreditCommon, HttpCase):
    """A request whose credit movement lost the race on every try Odoo made: the website customer
    sees Odoo's error page with the message (400, not a 500), an RPC caller gets a UserError."""

    @staticmethod
    def _always_busy(*args, **kwargs):
        raise CreditBusy(BUSY_MESSAGE)

    def test_website_payment_losing_the_race_shows_the_message(self):
        self._topup_cash(self.partner_a, 100.0)
        tx = self._credit_tx(self._order(self.partner_a))
        before = self._snapshot()
        self.authenticate("cc_portal_a", "cc_portal_a")
        page = self.url_open("/my/credit")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        Service = type(self.env["customer.credit.service"])
        with (
            patch.object(Service, "_lock", side_effect=self._always_busy) as lock,
            patch("odoo.service.model.time.sleep"),
            mute_logger("odoo.http", "odoo.service.model"),
        ):
            response = self.url_open(PROCESS_URL, data={"reference": tx.reference, "csrf_token": csrf})
        self.assertEqual(lock.call_count, 5, "Odoo retried it")
        self.assertEqual(response.status_code, 400, response.text[:500])
        self.assertIn("being changed by another payment", response.text)
        self.assertNotIn("could not serialize", response.text)
        self.assertEqual(self._snapshot(), before, "nothing recorded")
        tx.invalidate_recordset()
        self.assertEqual(tx.state, "draft", "the customer can pay again")
        self.assert_invariant()

    def test_rpc_losing_the_race_gets_a_user_error(self):
        Partner = type(self.env["res.partner"])
        self.authenticate("admin", "admin")
        with (
            patch.object(Partner, "cc_busy_probe", self._always_busy, create=True),
            patch("odoo.service.model.time.sleep"),
            mute_logger("odoo.http", "odoo.service.model"),
        ):
            response = self.url_open(
                "/web/dataset/call_kw/res.partner/cc_busy_probe",
                data=json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "method": "call",
                        "id": 1,
                        "params": {
                            "model": "res.partner",
                            "method": "cc_busy_probe",
                            "args": [self.partner_a.ids],
                            "kwargs": {},
                        },
                    }
                ),
                headers={"Content-Type": "application/json"},
            )
        self.assertEqual(response.status_code, 200)
        error = response.json()["error"]["data"]
        self.assertEqual(error["name"], "odoo.exceptions.UserError")
        self.assertEqual(error["message"], BUSY_MESSAGE)


@tagged("post_install", "-at_install")
class TestPosFaultThreads(FaultThreadsCommon):
    _cleanup_pos = pos_concurrency.TestPosCustomerCreditConcurrency._cleanup_pos
    _order_data = pos_concurrency.TestPosCustomerCreditConcurrency._order_data

    def setUp(self):
        super().setUp()
        self.addCleanup(self._cleanup_pos)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.company
            method = env["pos.payment.method"].create(
                {
                    "name": "CC Fault Credit",
                    "is_credit_method": True,
                    "journal_id": company.credit_journal_id.id,
                    "receivable_account_id": company.credit_clearing_account_id.id,
                    "company_id": company.id,
                }
            )
            config = env["pos.config"].create(
                {"name": "CC Fault Shop", "company_id": company.id, "payment_method_ids": [(6, 0, method.ids)]}
            )
            product = env["product.product"].create(
                {
                    "name": "CC Fault Product",
                    "type": "service",
                    "available_in_pos": True,
                    "list_price": 30.0,
                    "taxes_id": False,
                }
            )
            config.open_ui()
            self.method_id, self.config_id, self.product_id = method.id, config.id, product.id
            self.session_id = config.current_session_id.id
            self.pricelist_id = config.pricelist_id.id

    def _sync(self, data):
        def operation(env, partner):
            return env["pos.order"].sync_from_ui([copy.deepcopy(data)])["pos.order"]

        return operation

    def assert_one_order_one_spend(self, data, partner_id):
        with self._fresh_env() as env:
            orders = env["pos.order"].search([("uuid", "=", data["uuid"])])
            self.assertEqual(len(orders), 1, "the order is saved, once")
            self.assertEqual(orders.state, "paid")
            partner = env["res.partner"].browse(partner_id)
            ledger = self._assert_books(env, partner, 70.0, lines=2, lots=1, moves=2)
            spend = ledger.filtered(lambda line: line.kind == "spend")
            self.assertEqual((spend.pos_order_id, spend.pos_payment_id), (orders, orders.payment_ids))
        self.assert_books_reconcile()

    def test_same_order_from_two_tabs_then_again(self):
        partner_id = self._create_partner("Two Tabs", topup=100.0)
        data = self._order_data(partner_id)
        outcomes = self._run_concurrently(partner_id, self._sync(data), self._sync(data))
        for outcome in outcomes:
            self.assertIn("result", outcome, outcomes)
        (again,) = self._run_concurrently(partner_id, self._sync(data))
        self.assertIn("result", again)
        self.assert_one_order_one_spend(data, partner_id)

    def test_database_restart_between_till_and_sync(self):
        """The sync is processed, then the database goes away before the commit: the till gets an
        error and keeps the order; nothing of it was saved. The next sync saves it once."""
        partner_id = self._create_partner("Restarted", topup=100.0)
        seq_before = self._lock_seq(partner_id)
        data = self._order_data(partner_id)
        cr = self.registry.cursor()
        env = api.Environment(cr, SUPERUSER_ID, {})
        error = None
        try:
            with mute_logger("odoo.sql_db", "odoo.service.model"):

                def sync_then_restart():
                    result = self._sync(data)(env, None)
                    self.kill(cr)
                    return result

                retrying(sync_then_restart, env)
        except psycopg2.Error as exc:
            error = exc
        finally:
            self.discard(cr)
        self.assertIsInstance(error, psycopg2.Error, "the commit failed: the connection is gone")
        self.assertEqual(self._lock_seq(partner_id), seq_before)
        with self._fresh_env() as env:
            self.assertFalse(env["pos.order"].search([("uuid", "=", data["uuid"])]), "not saved: the till keeps it")
            self._assert_books(env, env["res.partner"].browse(partner_id), 100.0, lines=1, lots=1, moves=1)

        for __ in range(2):
            (outcome,) = self._run_concurrently(partner_id, self._sync(data))
            self.assertIn("result", outcome, outcome)
        self.assert_one_order_one_spend(data, partner_id)
