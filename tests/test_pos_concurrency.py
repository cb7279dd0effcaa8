"""The same POS order synced by two browser tabs (or a retried RPC) at the same time, in two real,
separate transactions: the credit is spent once.

Built on the committed set-up, threads and clean-up of ``test_concurrency.py`` (Odoo's
``TestSequenceMixinConcurrency`` model).
"""

import copy
import uuid

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, tagged

from . import test_concurrency as concurrency


@tagged("post_install", "-at_install")
class TestPosCustomerCreditConcurrency(TransactionCase):
    # the committed set-up, threads and clean-up of the service's concurrency tests (not their tests)
    _cleanup_committed = concurrency.TestCustomerCreditConcurrency._cleanup_committed
    _create_partner = concurrency.TestCustomerCreditConcurrency._create_partner
    _fresh_env = concurrency.TestCustomerCreditConcurrency._fresh_env
    _run_concurrently = concurrency.TestCustomerCreditConcurrency._run_concurrently
    assertAmount = concurrency.TestCustomerCreditConcurrency.assertAmount

    def setUp(self):
        super().setUp()
        self.partner_ids = []
        self.addCleanup(self._cleanup_committed)
        self.addCleanup(self._cleanup_pos)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.company
            if not company.credit_account_id or not company.credit_journal_id:
                company._customer_credit_setup_accounting()
            cash = env["account.journal"].search([("type", "=", "cash"), ("company_id", "=", company.id)], limit=1)
            self.company_id = company.id
            self.digits = company.currency_id.decimal_places
            self.cash_journal_id = cash.id
            method = env["pos.payment.method"].create(
                {
                    "name": "CC Concurrency Credit",
                    "is_credit_method": True,
                    "journal_id": company.credit_journal_id.id,
                    "receivable_account_id": company.credit_clearing_account_id.id,
                    "company_id": company.id,
                }
            )
            config = env["pos.config"].create(
                {"name": "CC Concurrency Shop", "company_id": company.id, "payment_method_ids": [(6, 0, method.ids)]}
            )
            product = env["product.product"].create(
                {
                    "name": "CC Concurrency Product",
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

    def _cleanup_pos(self):
        with self.registry.cursor() as cr:
            cr.execute("SELECT id FROM pos_order WHERE session_id = %s", [self.session_id])
            orders = tuple(row[0] for row in cr.fetchall()) or (0,)
            cr.execute("DELETE FROM pos_payment WHERE pos_order_id IN %s", [orders])
            cr.execute("DELETE FROM pos_order_line WHERE order_id IN %s", [orders])
            cr.execute("DELETE FROM mail_message WHERE model = 'pos.order' AND res_id IN %s", [orders])
            cr.execute("DELETE FROM mail_followers WHERE res_model = 'pos.order' AND res_id IN %s", [orders])
            cr.execute("DELETE FROM pos_order WHERE id IN %s", [orders])
            cr.execute("DELETE FROM mail_message WHERE model = 'pos.session' AND res_id = %s", [self.session_id])
            cr.execute("DELETE FROM mail_followers WHERE res_model = 'pos.session' AND res_id = %s", [self.session_id])
            cr.execute("DELETE FROM pos_session WHERE id = %s", [self.session_id])
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["pos.config"].browse(self.config_id).unlink()
            env["pos.payment.method"].browse(self.method_id).unlink()
            env["product.product"].browse(self.product_id).unlink()

    def _order_data(self, partner_id):
        return {
            "amount_paid": 30.0,
            "amount_return": 0,
            "amount_tax": 0.0,
            "amount_total": 30.0,
            "date_order": fields.Datetime.to_string(fields.Datetime.now()),
            "fiscal_position_id": False,
            "pricelist_id": self.pricelist_id,
            "name": "Order CC concurrency",
            "last_order_preparation_change": "{}",
            "lines": [
                (
                    0,
                    0,
                    {
                        "price_unit": 30.0,
                        "product_id": self.product_id,
                        "price_subtotal": 30.0,
                        "price_subtotal_incl": 30.0,
                        "qty": 1,
                        "discount": 0.0,
                        "tax_ids": [(6, 0, [])],
                        "pack_lot_ids": [],
                    },
                )
            ],
            "partner_id": partner_id,
            "session_id": self.session_id,
            "sequence_number": 1,
            "payment_ids": [
                (
                    0,
                    0,
                    {
                        "amount": 30.0,
                        "name": fields.Datetime.now(),
                        "payment_method_id": self.method_id,
                        "uuid": str(uuid.uuid4()),
                    },
                )
            ],
            "uuid": str(uuid.uuid4()),
            "user_id": SUPERUSER_ID,
            "to_invoice": False,
        }

    def test_same_order_synced_concurrently(self):
        """Two tabs send the same paid order at once: one order, one spend, the balance once."""
        partner_id = self._create_partner("CC POS Concurrent", topup=100.0)
        data = self._order_data(partner_id)

        def sync(env, partner):
            return env["pos.order"].sync_from_ui([copy.deepcopy(data)])["pos.order"]

        outcomes = self._run_concurrently(partner_id, sync, sync)
        for outcome in outcomes:
            self.assertIn("result", outcome, outcomes)
        self.assertGreater(sum(outcome["attempts"] for outcome in outcomes), 2, "one of them had to retry")
        with self._fresh_env() as env:
            orders = env["pos.order"].search([("uuid", "=", data["uuid"])])
            self.assertEqual(len(orders), 1)
            lines = env["customer.credit.line"].search([("partner_id", "=", partner_id), ("kind", "=", "spend")])
            self.assertEqual(lines.mapped("amount"), [-30.0])
            self.assertEqual(lines.pos_order_id, orders)
            self.assertEqual(lines.pos_payment_id, orders.payment_ids)
            partner = env["res.partner"].browse(partner_id)
            self.assertAmount(env["customer.credit.service"].sudo()._get_balances(partner)["total"], 70.0)
            gl = env["account.move.line"].search(
                [
                    ("account_id", "=", env.company.credit_account_id.id),
                    ("partner_id", "=", partner_id),
                    ("parent_state", "=", "posted"),
                ]
            )
            self.assertAmount(sum(gl.mapped("balance")), -70.0)
