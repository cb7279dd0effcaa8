"""Concurrent credit movements on the same customer, in real, separate database transactions.

Modelled on Odoo's ``account/tests/test_sequence_mixin.py`` ``TestSequenceMixinConcurrency`` and
``onboarding/tests/test_onboarding_concurrency.py``: the data is committed through
``registry.cursor()``, each movement runs in its own thread, cursor and ``api.Environment``, and
everything committed is removed again in a clean-up.

Each movement runs like an RPC does (``odoo.service.model.execute_cr`` / ``http._transactioning``):
through ``odoo.service.model.retrying``, which rolls back and calls it again on a serialization
failure, and commits when it returns.
"""

import re
import threading
from contextlib import closing, contextmanager

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged
from odoo.tools import float_compare, format_amount, mute_logger

BARRIER_TIMEOUT = 30
JOIN_TIMEOUT = 120


@tagged("post_install", "-at_install")
class TestCustomerCreditConcurrency(TransactionCase):
    """Two customers' transactions moving the same credit at the same time."""

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
            self.assertTrue(cash, "The company needs a cash journal for the top-ups.")
            self.company_id = company.id
            self.digits = company.currency_id.decimal_places
            self.credit_account_id = company.credit_account_id.id
            self.credit_journal_id = company.credit_journal_id.id
            self.cash_journal_id = cash.id

    # ------------------------------------------------------------------
    # Committed set-up, clean-up and fresh reads
    # ------------------------------------------------------------------

    @contextmanager
    def _fresh_env(self):
        """An environment on a new cursor: it sees what the other transactions committed."""
        with closing(self.registry.cursor()) as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    def _create_partner(self, name, topup=0.0, **vals):
        """Create (and commit) a customer, with a first top-up of ``topup`` paid in cash."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].create({"name": name, **vals})
            if topup:
                cash = env["account.journal"].browse(self.cash_journal_id)
                env["customer.credit.service"].sudo()._topup(partner, topup, cash)
        # Committed when the cursor's block ends.
        self.partner_ids.append(partner.id)
        return partner.id

    def _cleanup_committed(self):
        """Remove what the tests committed. Lots, ledger lines and journal entries refuse to be
        unlinked through the ORM (append-only, posted), so they are deleted in SQL."""
        if not self.partner_ids:
            return
        with self.registry.cursor() as cr:
            partners = tuple(self.partner_ids)
            cr.execute("SELECT id FROM customer_credit WHERE partner_id IN %s", [partners])
            lots = tuple(row[0] for row in cr.fetchall()) or (0,)
            cr.execute(
                """
                SELECT move_id FROM customer_credit_line WHERE partner_id IN %(p)s AND move_id IS NOT NULL
                 UNION SELECT move_id FROM customer_credit WHERE partner_id IN %(p)s AND move_id IS NOT NULL
                 UNION SELECT move_id FROM account_move_line WHERE partner_id IN %(p)s
                 UNION SELECT id FROM account_move WHERE partner_id IN %(p)s
                """,
                {"p": partners},
            )
            moves = tuple(row[0] for row in cr.fetchall()) or (0,)
            cr.execute(
                "SELECT DISTINCT full_reconcile_id FROM account_move_line WHERE move_id IN %s "
                "AND full_reconcile_id IS NOT NULL",
                [moves],
            )
            full_reconciles = tuple(row[0] for row in cr.fetchall()) or (0,)
            cr.execute(
                "DELETE FROM customer_credit_key WHERE operation_ref IN "
                "(SELECT operation_ref FROM customer_credit_line WHERE partner_id IN %s)",
                [partners],
            )
            cr.execute("DELETE FROM customer_credit_line WHERE partner_id IN %s", [partners])
            cr.execute("DELETE FROM customer_credit_balance WHERE partner_id IN %s", [partners])
            cr.execute("DELETE FROM customer_credit WHERE partner_id IN %s", [partners])
            cr.execute(
                """
                DELETE FROM account_partial_reconcile
                 WHERE debit_move_id IN (SELECT id FROM account_move_line WHERE move_id IN %(m)s)
                    OR credit_move_id IN (SELECT id FROM account_move_line WHERE move_id IN %(m)s)
                """,
                {"m": moves},
            )
            cr.execute("DELETE FROM account_move_line WHERE move_id IN %s", [moves])
            cr.execute("UPDATE account_move SET origin_payment_id = NULL WHERE id IN %s", [moves])
            cr.execute("DELETE FROM account_payment WHERE partner_id IN %s", [partners])
            cr.execute("DELETE FROM account_full_reconcile WHERE id IN %s", [full_reconciles])
            cr.execute("DELETE FROM account_move WHERE id IN %s", [moves])
            records = {"l": lots, "m": moves, "p": partners}
            cr.execute(
                """
                DELETE FROM mail_message
                 WHERE (model = 'customer.credit' AND res_id IN %(l)s)
                    OR (model = 'account.move' AND res_id IN %(m)s)
                    OR (model = 'res.partner' AND res_id IN %(p)s)
                """,
                records,
            )
            cr.execute(
                """
                DELETE FROM mail_followers
                 WHERE (res_model = 'customer.credit' AND res_id IN %(l)s)
                    OR (res_model = 'account.move' AND res_id IN %(m)s)
                    OR (res_model = 'res.partner' AND res_id IN %(p)s)
                """,
                records,
            )
            cr.execute(
                """
                DELETE FROM mail_activity
                 WHERE (res_model = 'customer.credit' AND res_id IN %(l)s)
                    OR (res_model = 'account.move' AND res_id IN %(m)s)
                    OR (res_model = 'res.partner' AND res_id IN %(p)s)
                """,
                records,
            )
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["res.partner"].browse(partners).unlink()

    # ------------------------------------------------------------------
    # Running movements concurrently
    # ------------------------------------------------------------------

    def _run_concurrently(self, partner_id, *operations):
        """Run each ``operation(env, partner)`` in its own thread and transaction, at the same time.

        Each thread first reads the customer's balance (so its snapshot is taken), waits at a
        barrier until every thread has done so, then runs its operation through Odoo's
        ``retrying``, as an RPC would. Returns one dict per operation: the balance it read
        (``seen``), its ``attempts`` and either its ``result`` or the ``error`` it ended with.
        """
        barrier = threading.Barrier(len(operations))
        outcomes = [{"attempts": 0} for _operation in operations]
        cursors = []

        def worker(operation, outcome):
            # Like the test runner's own thread: no real mail sending, no auto-commits.
            threading.current_thread().testing = True
            try:
                with closing(self.registry.cursor()) as cr:
                    cursors.append(cr)
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    partner = env["res.partner"].browse(partner_id)
                    outcome["seen"] = env["customer.credit.service"].sudo()._get_balances(partner)["total"]
                    barrier.wait(timeout=BARRIER_TIMEOUT)

                    def attempt():
                        outcome["attempts"] += 1
                        return operation(env, env["res.partner"].browse(partner_id))

                    outcome["result"] = retrying(attempt, env)
            except Exception as exc:  # reported to the main thread, asserted there
                outcome["error"] = exc

        threads = [
            threading.Thread(target=worker, args=(operation, outcome), name=f"customer_credit_concurrency_{index}")
            for index, (operation, outcome) in enumerate(zip(operations, outcomes, strict=True))
        ]
        with mute_logger("odoo.sql_db", "odoo.service.model"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=JOIN_TIMEOUT)
            hung = [thread.name for thread in threads if thread.is_alive()]
            if hung:
                # Free the database before failing, or the clean-up would wait on their locks.
                for cr in cursors:
                    if not cr.closed:
                        cr._cnx.cancel()
                for thread in threads:
                    thread.join(timeout=30)
                self.fail(f"Concurrent credit movements did not finish in {JOIN_TIMEOUT}s (deadlock?): {hung}")
        return outcomes

    @staticmethod
    def _spend(amount):
        def operation(env, partner):
            clearing = env.company.credit_clearing_account_id
            return env["customer.credit.service"].sudo()._spend(partner, amount, counterpart_account=clearing).ids

        return operation

    def _topup(self, amount):
        def operation(env, partner):
            journal = env["account.journal"].browse(self.cash_journal_id)
            return env["customer.credit.service"].sudo()._topup(partner, amount, journal).ids

        return operation

    def _lock_seq(self, partner_id):
        with self._fresh_env() as env:
            env.cr.execute("SELECT COALESCE(credit_lock_seq, 0) FROM res_partner WHERE id = %s", [partner_id])
            return env.cr.fetchone()[0]

    def assertAmount(self, got, expected, msg=None):
        self.assertEqual(float_compare(got, expected, precision_digits=self.digits), 0, msg or f"{got} != {expected}")

    def _assert_started_on(self, outcomes, balance):
        """Every thread read ``balance`` before any movement was committed: their snapshots overlap."""
        for outcome in outcomes:
            self.assertIn("seen", outcome, outcomes)
            self.assertAmount(outcome["seen"], balance, f"All must have started on {balance}: {outcomes}")

    def _split(self, outcomes):
        """(winners, losers), after checking that no operation ended with something unexpected."""
        for outcome in outcomes:
            self.assertTrue("result" in outcome or "error" in outcome, outcome)
            if "error" in outcome:
                self.assertIsInstance(
                    outcome["error"], UserError, f"A concurrent movement ended with an unexpected error: {outcome}"
                )
        return [o for o in outcomes if "result" in o], [o for o in outcomes if "error" in o]

    # ------------------------------------------------------------------
    # What the accountant sees
    # ------------------------------------------------------------------

    def _assert_books(self, env, partner, balance, lines, lots, moves):
        """The committed state of ``partner``: its balance everywhere, ``lines`` ledger lines
        chaining their before/after balances, ``lots`` lots each matching their lines, ``moves``
        posted entries in the Customer Credit journal and nothing else, GL == -balance."""
        Line = env["customer.credit.line"].sudo()
        ledger = Line.search([("partner_id", "=", partner.id), ("company_id", "=", self.company_id)], order="id")
        self.assertEqual(len(ledger), lines)
        self.assertAmount(sum(ledger.mapped("amount")), balance, f"ledger {ledger.mapped('amount')}")
        self.assertAmount(env["customer.credit.service"].sudo()._get_balances(partner)["total"], balance)
        self.assertAmount(partner.with_company(self.company_id).credit_balance, balance)

        # Every movement started from the balance the previous one left: none ran on stale data.
        running, lot_running = 0.0, {}
        for line in ledger:
            self.assertAmount(line.partner_balance_before, running, f"stale partner balance: {line.read()}")
            running = round(running + line.amount, self.digits)
            self.assertAmount(line.partner_balance_after, running, f"wrong partner balance: {line.read()}")
            if line.lot_id:
                lot_before = lot_running.get(line.lot_id, 0.0)
                self.assertAmount(line.lot_balance_before, lot_before, f"stale lot balance: {line.read()}")
                lot_running[line.lot_id] = round(lot_before + line.amount, self.digits)
                self.assertAmount(line.lot_balance_after, lot_running[line.lot_id], f"wrong lot balance: {line.read()}")

        partner_lots = env["customer.credit"].sudo().search([("partner_id", "=", partner.id)])
        self.assertEqual(len(partner_lots), lots)
        for lot in partner_lots:
            self.assertAmount(lot.balance, sum(lot.line_ids.mapped("amount")), f"lot {lot.name} != its lines")
            self.assertGreaterEqual(float_compare(lot.balance, 0.0, precision_digits=self.digits), 0, lot.name)

        # Exactly the movements' entries exist for this customer, all posted, in the credit journal.
        partner_moves = (
            env["account.move"]
            .sudo()
            .search(["|", ("partner_id", "=", partner.id), ("line_ids.partner_id", "=", partner.id)])
        )
        self.assertEqual(partner_moves, ledger.move_id)
        self.assertEqual(len(partner_moves), moves)
        self.assertEqual(set(partner_moves.mapped("state")), {"posted"})
        # paid top-ups are the customer's payments in the cash journal, the rest the credit journal's
        for line in ledger:
            paid = line.kind == "topup" and line.payment_id
            self.assertEqual(line.move_id.journal_id.id, self.cash_journal_id if paid else self.credit_journal_id)
        gl_lines = (
            env["account.move.line"]
            .sudo()
            .search(
                [
                    ("account_id", "=", self.credit_account_id),
                    ("partner_id", "=", partner.id),
                    ("parent_state", "=", "posted"),
                ]
            )
        )
        self.assertAmount(sum(gl_lines.mapped("balance")), -balance, "GL Customer Credit != -balance")
        return ledger

    def _assert_insufficient(self, error, partner_name, available, amount):
        """The refusal names the customer, what is left and what was asked, as the cashier sees them."""
        with self._fresh_env() as env:
            currency = env["res.company"].browse(self.company_id).currency_id
            available, amount = format_amount(env, available, currency), format_amount(env, amount, currency)
        message = error.args[0]
        self.assertIn(partner_name, message)
        self.assertIn("credit", message)
        self.assertRegex(message, rf"{re.escape(available)}.*{re.escape(amount)}", "available, then asked")

    # ------------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------------

    def test_concurrent_spends_cannot_spend_the_same_credit_twice(self):
        """100 of credit, two cash registers take 70 at once: one is paid, the other is refused."""
        partner_id = self._create_partner("Concurrent Spender", topup=100.0)
        seq_before = self._lock_seq(partner_id)

        outcomes = self._run_concurrently(partner_id, self._spend(70.0), self._spend(70.0))

        self._assert_started_on(outcomes, 100.0)
        winners, losers = self._split(outcomes)
        self.assertEqual(len(winners), 1, outcomes)
        self.assertEqual(len(losers), 1, outcomes)
        self.assertEqual(winners[0]["attempts"], 1, outcomes)
        self.assertGreaterEqual(
            losers[0]["attempts"], 2, "The late spend must fail to serialize and be retried on fresh data."
        )
        self._assert_insufficient(losers[0]["error"], "Concurrent Spender", 30.0, 70.0)
        # The loser's lock (and anything else it did) was rolled back.
        self.assertEqual(self._lock_seq(partner_id), seq_before + 1)

        with self._fresh_env() as env:
            partner = env["res.partner"].browse(partner_id)
            ledger = self._assert_books(env, partner, 30.0, lines=2, lots=1, moves=2)
            spend = ledger.filtered(lambda line: line.kind == "spend")
            self.assertEqual(len(spend), 1, "Exactly one spend was recorded.")
            self.assertEqual(spend.ids, winners[0]["result"])
            self.assertAmount(spend.amount, -70.0)
            self.assertAmount(spend.partner_balance_before, 100.0)
            self.assertAmount(spend.partner_balance_after, 30.0)
            self.assertAmount(spend.lot_id.balance, 30.0)
            self.assertEqual(spend.lot_id.state, "active")
            self.assertEqual(spend.move_id.state, "posted")
            self.assertEqual(spend.move_id.journal_id.id, self.credit_journal_id)

    def test_concurrent_overdraft_spends_respect_the_limit(self):
        """No lots at all, overdraft limit 50, two spends of 40 at once: only one goes through."""
        partner_id = self._create_partner(
            "Concurrent Overdrawer", credit_allow_overdraft=True, credit_overdraft_limit=50.0
        )
        seq_before = self._lock_seq(partner_id)

        outcomes = self._run_concurrently(partner_id, self._spend(40.0), self._spend(40.0))

        self._assert_started_on(outcomes, 0.0)
        winners, losers = self._split(outcomes)
        self.assertEqual(len(winners), 1, outcomes)
        self.assertEqual(len(losers), 1, outcomes)
        self.assertEqual(winners[0]["attempts"], 1, outcomes)
        self.assertGreaterEqual(
            losers[0]["attempts"], 2, "The late spend must fail to serialize on the customer row and be retried."
        )
        self._assert_insufficient(losers[0]["error"], "Concurrent Overdrawer", 10.0, 40.0)
        self.assertEqual(self._lock_seq(partner_id), seq_before + 1)

        with self._fresh_env() as env:
            partner = env["res.partner"].browse(partner_id)
            ledger = self._assert_books(env, partner, -40.0, lines=1, lots=0, moves=1)
            self.assertEqual(ledger.ids, winners[0]["result"])
            self.assertEqual(ledger.kind, "spend")
            self.assertFalse(ledger.lot_id, "An overdraft has no lot.")
            self.assertAmount(ledger.partner_balance_after, -40.0)
            self.assertGreaterEqual(float_compare(ledger.partner_balance_after, -50.0, precision_digits=self.digits), 0)

    def test_concurrent_topup_and_spend_both_count(self):
        """A top-up and a spend at once on the same customer: both go through, none is lost."""
        partner_id = self._create_partner("Concurrent Topper", topup=100.0)
        seq_before = self._lock_seq(partner_id)

        outcomes = self._run_concurrently(partner_id, self._topup(50.0), self._spend(70.0))

        self._assert_started_on(outcomes, 100.0)
        winners, losers = self._split(outcomes)
        self.assertEqual((len(winners), len(losers)), (2, 0), outcomes)
        self.assertEqual(min(o["attempts"] for o in outcomes), 1, outcomes)
        self.assertGreaterEqual(
            max(o["attempts"] for o in outcomes), 2, "The later movement must be retried on fresh data."
        )
        self.assertEqual(self._lock_seq(partner_id), seq_before + 2)

        with self._fresh_env() as env:
            partner = env["res.partner"].browse(partner_id)
            ledger = self._assert_books(env, partner, 80.0, lines=3, lots=2, moves=3)
            self.assertEqual(sorted(ledger.mapped("kind")), ["spend", "topup", "topup"])
            self.assertAmount(ledger.filtered(lambda line: line.kind == "spend").amount, -70.0)

    # ------------------------------------------------------------------
    # Races the channels will cause
    # ------------------------------------------------------------------

    def test_concurrent_transfers_both_ways_do_not_deadlock(self):
        """A→B and B→A at the same time: both customers are locked in id order, both go through."""
        a_id = self._create_partner("Transfer A", topup=100.0)
        b_id = self._create_partner("Transfer B", topup=100.0)

        def transfer(source_id, target_id, amount):
            def operation(env, partner):
                Partner = env["res.partner"]
                return (
                    env["customer.credit.service"]
                    .sudo()
                    ._transfer(Partner.browse(source_id), Partner.browse(target_id), amount)
                    .ids
                )

            return operation

        outcomes = self._run_concurrently(a_id, transfer(a_id, b_id, 60.0), transfer(b_id, a_id, 30.0))
        winners, losers = self._split(outcomes)
        self.assertEqual((len(winners), len(losers)), (2, 0), outcomes)
        with self._fresh_env() as env:
            a, b = env["res.partner"].browse(a_id), env["res.partner"].browse(b_id)
            self._assert_books(env, a, 70.0, lines=3, lots=2, moves=3)
            self._assert_books(env, b, 130.0, lines=3, lots=2, moves=3)

    def test_expiry_cron_racing_a_spend(self):
        """The expiry job expires one lot while a till spends from another: both are exact."""
        partner_id = self._create_partner("Expiring Spender", topup=50.0)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cash = env["account.journal"].browse(self.cash_journal_id)
            partner = env["res.partner"].browse(partner_id)
            old = env["customer.credit.service"].sudo()._topup(partner, 30.0, cash)
            cr.execute("UPDATE customer_credit SET expiry_date = CURRENT_DATE - 2 WHERE id = %s", [old.lot_id.id])

        def expire(env, partner):
            return env["customer.credit"].sudo()._cron_expire().ids

        outcomes = self._run_concurrently(partner_id, expire, self._spend(40.0))
        winners, losers = self._split(outcomes)
        self.assertEqual((len(winners), len(losers)), (2, 0), outcomes)
        with self._fresh_env() as env:
            partner = env["res.partner"].browse(partner_id)
            ledger = self._assert_books(env, partner, 10.0, lines=4, lots=2, moves=4)
            self.assertEqual(sorted(ledger.mapped("kind")), ["expire", "spend", "topup", "topup"])
            self.assertAmount(ledger.filtered(lambda line: line.kind == "expire").amount, -30.0)

    def test_two_refunds_of_one_spend(self):
        """Two refunds of 30 on a spend of 50 at once: one is given back, the other is refused."""
        partner_id = self._create_partner("Double Refund", topup=100.0)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].browse(partner_id)
            clearing = env.company.credit_clearing_account_id
            spend_ids = env["customer.credit.service"].sudo()._spend(partner, 50.0, counterpart_account=clearing).ids

        def refund(env, partner):
            return (
                env["customer.credit.service"].sudo()._refund(env["customer.credit.line"].browse(spend_ids), 30.0).ids
            )

        outcomes = self._run_concurrently(partner_id, refund, refund)
        winners, losers = self._split(outcomes)
        self.assertEqual((len(winners), len(losers)), (1, 1), outcomes)
        self.assertRegex(losers[0]["error"].args[0], r"At most .*20\.00.* can still be refunded")
        with self._fresh_env() as env:
            self._assert_books(env, env["res.partner"].browse(partner_id), 80.0, lines=3, lots=1, moves=3)

    def test_two_spends_on_one_invoice(self):
        """Two payments of 70 with credit on an invoice of 100 at once: the second sees 30 due."""
        partner_id = self._create_partner("Invoice Payer", topup=200.0)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            invoice = env["customer.credit.service"]._demo_invoice(env["res.partner"].browse(partner_id), 100.0)
            invoice_id = invoice.id

        def pay(env, partner):
            invoice = env["account.move"].browse(invoice_id)
            return env["customer.credit.service"].sudo()._spend(partner, 70.0, invoice=invoice).ids

        outcomes = self._run_concurrently(partner_id, pay, pay)
        winners, losers = self._split(outcomes)
        self.assertEqual((len(winners), len(losers)), (1, 1), outcomes)
        self.assertIn("more than the amount due", losers[0]["error"].args[0])
        with self._fresh_env() as env:
            invoice = env["account.move"].browse(invoice_id)
            self.assertAmount(invoice.amount_residual, 30.0)
            self.assertEqual(invoice.payment_state, "partial")
            partner = env["res.partner"].browse(partner_id)
            ledger = env["customer.credit.line"].search([("partner_id", "=", partner_id)])
            self.assertEqual(sorted(ledger.mapped("kind")), ["spend", "topup"])
            self.assertAmount(partner.with_company(self.company_id).credit_balance, 130.0)

    def test_same_key_in_two_transactions_spends_once(self):
        """A POS payment synced from two tabs at once: one spend, both calls get its lines."""
        partner_id = self._create_partner("Twice Synced", topup=100.0)

        def spend(env, partner):
            clearing = env.company.credit_clearing_account_id
            service = env["customer.credit.service"].sudo()
            return service._spend(partner, 60.0, counterpart_account=clearing, key="pos-payment-uuid-1").ids

        outcomes = self._run_concurrently(partner_id, spend, spend)
        winners, losers = self._split(outcomes)
        self.assertEqual((len(winners), len(losers)), (2, 0), outcomes)
        self.assertEqual(winners[0]["result"], winners[1]["result"], "both calls return the first movement")
        with self._fresh_env() as env:
            partner = env["res.partner"].browse(partner_id)
            ledger = self._assert_books(env, partner, 40.0, lines=2, lots=1, moves=2)
            self.assertEqual(ledger.filtered(lambda line: line.kind == "spend").ids, winners[0]["result"])

    def test_postings_of_different_customers_never_wait_for_each_other(self):
        """Every movement posts in the one Customer Credit journal. Odoo numbers an entry with the
        journal's last number + 1, so a second posting would wait on the unique index of names until
        the first transaction ends: two tills would queue behind each other. The credit journal takes
        its numbers from a database sequence instead: with a short lock timeout, a second customer's
        movements (the direct entry of a spend and an ORM-posted granted top-up) go through while the
        first customer's transaction is still open."""
        first_id = self._create_partner("Till One Customer", topup=100.0)
        second_id = self._create_partner("Till Two Customer", topup=100.0)
        first_posted, second_done = threading.Event(), threading.Event()
        outcome = {}

        def first_till():
            threading.current_thread().testing = True
            try:
                # (committed when the block ends, after the second till's postings)
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    service = env["customer.credit.service"].sudo()
                    partner = env["res.partner"].browse(first_id)
                    service._spend(partner, 10.0, counterpart_account=env.company.credit_clearing_account_id)
                    service.with_context(customer_credit_orm_post=True)._topup(partner, 5.0, granted=True)
                    first_posted.set()
                    second_done.wait(timeout=BARRIER_TIMEOUT)
            except Exception as exc:
                outcome["first_error"] = exc
                first_posted.set()

        thread = threading.Thread(target=first_till, name="customer_credit_first_till")
        thread.start()
        try:
            self.assertTrue(first_posted.wait(timeout=BARRIER_TIMEOUT))
            with self.registry.cursor() as cr, mute_logger("odoo.sql_db"):
                cr.execute("SET LOCAL lock_timeout = '3s'")
                env = api.Environment(cr, SUPERUSER_ID, {})
                service = env["customer.credit.service"].sudo()
                partner = env["res.partner"].browse(second_id)
                spend = service._spend(partner, 20.0, counterpart_account=env.company.credit_clearing_account_id)
                topup = service.with_context(customer_credit_orm_post=True)._topup(partner, 5.0, granted=True)
                names = (spend.move_id | topup.move_id).mapped("name")
        finally:
            second_done.set()
            thread.join(timeout=JOIN_TIMEOUT)
        self.assertNotIn("first_error", outcome)
        with self._fresh_env() as env:
            moves = env["account.move"].search(
                [("partner_id", "in", [first_id, second_id]), ("journal_id", "=", self.credit_journal_id)]
            )
            self.assertEqual(len(set(moves.mapped("name"))), len(moves), "every entry has its own number")
            self.assertTrue(set(names) <= set(moves.mapped("name")))
            self.assertEqual(set(moves.mapped("state")), {"posted"})
            for partner_id, balance in ((first_id, 95.0), (second_id, 85.0)):
                partner = env["res.partner"].browse(partner_id)
                self._assert_books(env, partner, balance, lines=3, lots=2, moves=3)
