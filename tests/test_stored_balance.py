"""The stored per-customer balance (``customer.credit.balance``): always the ledger, read in one row.

Every test of the suite checks it through ``assert_invariant`` (stored total, generic and
product-specific lots, overdraft == the ledger and the lots); these tests cover what only it does."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import CustomerCreditCommon


@tagged("post_install", "-at_install")
class TestStoredBalance(CustomerCreditCommon):
    def rows(self):
        """The stored rows of the test's customers."""
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT partner_id, company_id, balance, generic, product, overdraft FROM customer_credit_balance
                WHERE partner_id = ANY(%s) ORDER BY partner_id, company_id""",
            [(self.partner_a | self.partner_b | self.partner_c).ids],
        )
        return self.env.cr.fetchall()

    def read_queries(self, partner):
        """Queries of one balance read on an empty cache, as a screen or a till does it."""
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        available = self.env["res.partner"].browse(partner.id).credit_available
        return self.env.cr.sql_log_count - before, available

    def test_balance_read_does_not_grow_with_the_history(self):
        service = self.service.sudo()
        light = self.partner_a
        service._topup(light, 200.0, self.cash_journal)
        heavy = self.partner_b
        service._topup(heavy, 200.0, self.cash_journal)
        for _i in range(60):
            service._spend(heavy, 1.0, counterpart_account=self.clearing_account)
        light_queries, light_available = self.read_queries(light)
        heavy_queries, heavy_available = self.read_queries(heavy)
        self.assertEqual((light_available, heavy_available), (200.0, 140.0))
        self.assertEqual(light_queries, heavy_queries)
        self.assertLessEqual(heavy_queries, 3)
        # the service's own read of all the figures does not grow either
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        service._get_balances(light)
        light_queries = self.env.cr.sql_log_count - before
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        balances = service._get_balances(heavy)
        self.assertEqual(self.env.cr.sql_log_count - before, light_queries)
        self.assertEqual((balances["total"], balances["generic"], balances["available"]), (140.0, 140.0, 140.0))
        self.assert_invariant()

    def test_every_kind_of_lot_and_the_overdraft(self):
        service = self.service.sudo()
        partner = self.partner_a
        partner.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 50.0})
        service._topup(partner, 30.0, self.cash_journal)
        service._topup(partner, 20.0, granted=True, credit_type="product", product=self.product)
        service._spend(partner, 45.0, product_amounts={self.product: 10.0}, counterpart_account=self.clearing_account)
        # 10 from the product lot, 30 from the generic lot, 5 as overdraft
        self.assertEqual(self.rows(), [(partner.id, self.company.id, 5.0, 0.0, 10.0, -5.0)])
        service._topup(partner, 8.0, self.cash_journal)  # settles the overdraft first
        self.assertEqual(self.rows(), [(partner.id, self.company.id, 13.0, 3.0, 10.0, 0.0)])
        service._transfer(partner, self.partner_b, 3.0)
        self.assertEqual(
            self.rows(),
            [
                (partner.id, self.company.id, 10.0, 0.0, 10.0, 0.0),
                (self.partner_b.id, self.company.id, 3.0, 3.0, 0.0, 0.0),
            ],
        )
        self.assert_invariant()

    def test_lot_past_its_expiry_date_is_left_out_until_expired(self):
        service = self.service.sudo()
        partner = self.partner_a
        old = service._topup(partner, 40.0, granted=True).lot_id
        service._topup(partner, 10.0, self.cash_journal)
        old.write({"expiry_date": "2000-01-01"})  # the expiry job has not run yet
        self.env.invalidate_all()
        self.assertEqual(partner.credit_available, 10.0)
        balances = service._get_balances(partner)
        self.assertEqual((balances["total"], balances["generic"], balances["available"]), (50.0, 10.0, 10.0))
        self.assertEqual(self.rows(), [(partner.id, self.company.id, 50.0, 50.0, 0.0, 0.0)])
        service._expire(old)
        self.assertEqual(self.rows(), [(partner.id, self.company.id, 10.0, 10.0, 0.0, 0.0)])
        self.env.invalidate_all()
        self.assertEqual(partner.credit_available, 10.0)
        self.assert_invariant()

    def test_rebuild_from_the_ledger_gives_the_same_rows(self):
        service = self.service.sudo()
        service._topup(self.partner_a, 30.0, self.cash_journal)
        service._topup(self.partner_b, 15.0, granted=True, credit_type="product", product=self.product)
        service._spend(self.partner_a, 12.0, counterpart_account=self.clearing_account)
        rows = self.rows()
        self.env.cr.execute("UPDATE customer_credit_balance SET balance = 999")  # a drifted copy
        self.env["customer.credit.balance"]._rebuild()
        self.assertEqual(self.rows(), rows)
        self.assert_invariant()

    def test_partner_merge_moves_the_balance(self):
        service = self.service.sudo()
        service._topup(self.partner_a, 100.0, self.cash_journal)
        service._topup(self.partner_b, 50.0, self.cash_journal)
        service._spend(self.partner_b, 30.0, counterpart_account=self.clearing_account)
        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        wizard._merge((self.partner_a | self.partner_b).ids, self.partner_a, extra_checks=False)
        self.assertFalse(self.partner_b.exists())
        self.assertEqual(self.rows(), [(self.partner_a.id, self.company.id, 120.0, 120.0, 0.0, 0.0)])
        self.env.invalidate_all()
        self.assertEqual(self.partner_a.credit_available, 120.0)
        self.assert_invariant()

    def test_only_the_ledger_writes_it(self):
        self.service.sudo()._topup(self.partner_a, 10.0, self.cash_journal)
        Balance = self.env["customer.credit.balance"]
        row = Balance.search([("partner_id", "=", self.partner_a.id)])
        self.assertEqual(row.balance, 10.0)
        self.assert_rejected(UserError, "credit service only", row.write, {"balance": 1000.0})
        self.assert_rejected(UserError, "credit service only", row.unlink)
        self.assert_rejected(
            UserError, "credit service only", Balance.create, {"partner_id": self.partner_c.id, "balance": 5.0}
        )
        self.assertEqual(row.balance, 10.0)
        # a credit user may read it; nobody else
        self.assertEqual(row.with_user(self.user_credit).balance, 10.0)
        with self.assertRaises(AccessError):
            row.with_user(self.user_plain).read(["balance"])

    def held(self, partner):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT held FROM customer_credit_balance WHERE partner_id = %s AND company_id = %s",
            (partner.id, self.company.id),
        )
        return self.env.cr.fetchone()[0]

    def test_pending_withdrawals_are_held_in_the_row(self):
        service = self.service.sudo()
        Withdrawal = self.env["customer.credit.withdrawal"].sudo()
        service._topup(self.partner_a, 100.0, self.cash_journal)
        first = Withdrawal._request(self.partner_a, 30.0, "IBAN BE71 0961 2345 6769")
        second = Withdrawal._request(self.partner_a, 20.0, "IBAN BE71 0961 2345 6769")
        self.assertEqual(self.held(self.partner_a), 50.0)
        self.env.invalidate_all()
        self.assertEqual(self.partner_a.credit_available, 50.0)
        # the held amount is read under the lock: a spend cannot take it
        self.assert_rejected(
            UserError, "only", service._spend, self.partner_a, 60.0, counterpart_account=self.clearing_account
        )
        first.refuse_reason = "No IBAN of yours"
        first.action_refuse()
        self.assertEqual(self.held(self.partner_a), 20.0)
        service._spend(self.partner_a, 60.0, counterpart_account=self.clearing_account)
        second._cancel_by_customer()
        self.assertEqual(self.held(self.partner_a), 0.0)
        # a rebuild gives the same figure; so does a drifted copy once rebuilt
        Withdrawal._request(self.partner_a, 15.0, "IBAN BE71 0961 2345 6769")
        self.env.cr.execute("UPDATE customer_credit_balance SET held = 999 WHERE partner_id = %s", [self.partner_a.id])
        self.env["customer.credit.balance"]._rebuild(self.partner_a)
        self.assertEqual(self.held(self.partner_a), 15.0)
        self.assert_invariant()

    def test_a_missing_linked_document_is_refused(self):
        self.service.sudo()._topup(self.partner_a, 10.0, self.cash_journal)
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) + 1000 FROM pos_order")
        missing = self.env.cr.fetchone()[0]
        self.assert_rejected(
            UserError,
            "does not exist",
            self.service.sudo()._spend,
            self.partner_a,
            5.0,
            counterpart_account=self.clearing_account,
            links={"pos_order_id": missing},
        )
        self.assert_invariant()
