from odoo.tests import TransactionCase, new_test_user


class CustomerCreditCommon(TransactionCase):
    """Shared set-up: a company with its credit accounts, journals, customers and users."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.company._customer_credit_setup_accounting()
        cls.currency = cls.company.currency_id
        cls.service = cls.env["customer.credit.service"]
        cls.credit_account = cls.company.credit_account_id
        cls.credit_journal = cls.company.credit_journal_id
        cls.clearing_account = cls.company.credit_clearing_account_id
        cls.breakage_account = cls.company.credit_breakage_account_id
        cls.granted_account = cls.company.credit_granted_account_id
        cls.cash_journal = cls.env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", cls.company.id)], limit=1
        )
        cls.bank_journal = cls.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", cls.company.id)], limit=1
        )
        # where Odoo's payments put the bank side of top-ups and withdrawals
        payment = cls.env["account.payment"].new({"journal_id": cls.cash_journal.id})
        cls.receipts_account = payment._get_outstanding_account("inbound")
        cls.payments_account = payment._get_outstanding_account("outbound")
        Partner = cls.env["res.partner"]
        cls.partner_a = Partner.create({"name": "Credit Customer A", "email": "a@example.com"})
        cls.partner_b = Partner.create({"name": "Credit Customer B", "email": "b@example.com"})
        cls.partner_c = Partner.create({"name": "Credit Customer C"})
        cls.product = cls.env["product.product"].create({"name": "Credit Test Product", "list_price": 10.0})
        cls.other_product = cls.env["product.product"].create({"name": "Other Test Product", "list_price": 5.0})
        cls.user_credit = new_test_user(
            cls.env, login="cc_user", groups="base.group_user,customer_credit.group_customer_credit_user"
        )
        cls.user_manager = new_test_user(
            cls.env, login="cc_manager", groups="base.group_user,customer_credit.group_customer_credit_manager"
        )
        cls.user_plain = new_test_user(cls.env, login="cc_plain", groups="base.group_user")

    # ---- helpers -------------------------------------------------------

    def balance(self, partner, company=None):
        """The partner's credit balance as the ledger says it."""
        company = company or self.company
        lines = (
            self.env["customer.credit.line"]
            .sudo()
            .search([("partner_id", "=", partner.commercial_partner_id.id), ("company_id", "=", company.id)])
        )
        return self.currency.round(sum(lines.mapped("amount")))

    def gl_balance(self, partner, company=None, account=None):
        """Balance (debit - credit) of posted move lines of ``account`` (default: Customer Credit)."""
        company = company or self.company
        account = account or company.credit_account_id
        lines = (
            self.env["account.move.line"]
            .sudo()
            .search(
                [
                    ("account_id", "=", account.id),
                    ("partner_id", "=", partner.commercial_partner_id.id),
                    ("company_id", "=", company.id),
                    ("parent_state", "=", "posted"),
                ]
            )
        )
        return self.currency.round(sum(lines.mapped("balance")))

    def assert_invariant(self, companies=None):
        """Per company and partner: the Customer Credit account balance == -(credit balance)."""
        companies = companies or self.company
        for company in companies:
            ledger = {}
            for line in self.env["customer.credit.line"].sudo().search([("company_id", "=", company.id)]):
                ledger[line.partner_id] = ledger.get(line.partner_id, 0.0) + line.amount
            gl = {}
            for aml in (
                self.env["account.move.line"]
                .sudo()
                .search(
                    [
                        ("account_id", "=", company.credit_account_id.id),
                        ("company_id", "=", company.id),
                        ("parent_state", "=", "posted"),
                    ]
                )
            ):
                gl[aml.partner_id] = gl.get(aml.partner_id, 0.0) + aml.balance
            self.assertFalse(gl.get(self.env["res.partner"], 0.0), "Customer Credit lines must have a partner")
            for partner in set(ledger) | set(gl):
                self.assertEqual(
                    company.currency_id.compare_amounts(gl.get(partner, 0.0), -ledger.get(partner, 0.0)),
                    0,
                    f"GL {gl.get(partner, 0.0)} != -ledger {ledger.get(partner, 0.0)} for {partner.name}",
                )
            # lots agree with their ledger lines, as stored (the ledger's trigger keeps their balance), and
            # their state with their balance
            self.env.flush_all()
            self.env.invalidate_all()
            lots = self.env["customer.credit"].sudo().search([("company_id", "=", company.id)])
            for lot in lots:
                self.assertEqual(
                    company.currency_id.compare_amounts(lot.balance, sum(lot.line_ids.mapped("amount"))), 0
                )
                positive = company.currency_id.compare_amounts(lot.balance, 0.0) > 0
                self.assertEqual(lot.state, lot.end_state or ("active" if positive else "used"), lot.name)
            # (called through the class: the POS test classes borrow this method)
            CustomerCreditCommon.assert_stored_balances(self, company, ledger, lots)

    def assert_stored_balances(self, company, ledger, lots):
        """The stored balance of each customer (``customer.credit.balance``) is their ledger: the
        total, their generic and product-specific lots that are not ended, the lines without lot, and
        what their pending withdrawal requests hold."""
        self.env.flush_all()
        stored = {
            row.partner_id: row
            for row in self.env["customer.credit.balance"].sudo().search([("company_id", "=", company.id)])
        }
        overdraft = {}
        for line in (
            self.env["customer.credit.line"].sudo().search([("company_id", "=", company.id), ("lot_id", "=", False)])
        ):
            overdraft[line.partner_id] = overdraft.get(line.partner_id, 0.0) + line.amount
        for partner in set(ledger) | set(stored):
            row = stored.get(partner)
            self.assertTrue(row, f"{partner.name} has ledger lines and no stored balance")
            live = lots.filtered(lambda lot, p=partner: lot.partner_id == p and not lot.end_state)
            pending = (
                self.env["customer.credit.withdrawal"]
                .sudo()
                .search([("partner_id", "=", partner.id), ("company_id", "=", company.id), ("state", "=", "pending")])
            )
            expected = {
                "held": sum(pending.mapped("amount")),
                "balance": ledger.get(partner, 0.0),
                "generic": sum(live.filtered(lambda lot: lot.credit_type == "generic").mapped("balance")),
                "product": sum(live.filtered(lambda lot: lot.credit_type == "product").mapped("balance")),
                "overdraft": overdraft.get(partner, 0.0),
            }
            for name, value in expected.items():
                self.assertEqual(
                    company.currency_id.compare_amounts(row[name], value),
                    0,
                    f"stored {name} {row[name]} != {value} for {partner.name}",
                )

    def _snapshot(self):
        """What a rejected movement must not touch: ledger, lots, journal entries, balances."""
        self.env.flush_all()
        Lot = self.env["customer.credit"].sudo()
        return {
            "lines": self.env["customer.credit.line"].sudo().search_count([]),
            "lots": Lot.search_count([]),
            "moves": self.env["account.move"].sudo().search_count([]),
            "move_lines": self.env["account.move.line"].sudo().search_count([]),
            "lot_values": [
                (lot.id, lot.partner_id.id, lot.amount, lot.balance, lot.state, lot.end_state, lot.expiry_date)
                for lot in Lot.search([("partner_id", "in", (self.partner_a | self.partner_b | self.partner_c).ids)])
            ],
            "balances": [self.balance(p) for p in (self.partner_a, self.partner_b, self.partner_c)],
            "gl": [self.gl_balance(p) for p in (self.partner_a, self.partner_b, self.partner_c)],
        }

    def assert_rejected(self, exception, pattern, func, *args, **kwargs):
        """``func`` raises ``exception`` with a message matching ``pattern``
        (unless None) and changes nothing.

        Deliberately not ``self.assertRaises``: its savepoint would roll back what a faulty
        implementation wrote before raising, hiding exactly what this checks.
        """
        before = self._snapshot()
        error = None
        try:
            func(*args, **kwargs)
        except exception as exc:
            error = exc
        if error is None:
            self.fail(f"{getattr(func, '__name__', func)}{args} was accepted, expected {exception.__name__}")
        if pattern:
            self.assertRegex(str(error), pattern)
        self.env.invalidate_all()
        self.assertEqual(self._snapshot(), before, "a refused movement must change nothing")
        return error

    def assert_move_lines(self, move, expected):
        """``expected``: list of (account, partner, debit, credit); compared as a multiset."""
        move = move.sudo()  # read as the accountant reads it, whoever recorded the movement
        self.assertEqual(move.state, "posted")
        got = sorted(
            (aml.account_id.id, aml.partner_id.id, self.currency.round(aml.debit), self.currency.round(aml.credit))
            for aml in move.line_ids
        )
        want = sorted(
            (acc.id, partner.id, self.currency.round(d), self.currency.round(c)) for acc, partner, d, c in expected
        )
        self.assertEqual(got, want)
