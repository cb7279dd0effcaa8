from odoo import api, fields, models, tools


class CustomerCreditReconciliation(models.Model):
    """Where the books and the credit ledger disagree: one row per company and customer whose
    Customer Credit account balance (posted entries, credit - debit) is not their credit balance.

    Empty when all is well. Built from the customers' ledger totals (``customer.credit.balance``,
    one row each, added to by every ledger line) and one grouped sum of the account's posted lines,
    joined per company and customer; Customer Credit lines without a customer show as a row
    without customer.
    """

    _name = "customer.credit.reconciliation"
    _description = "Customer Credit Reconciliation"
    _auto = False
    _order = "company_id, abs_difference desc, partner_id"
    _rec_name = "partner_id"
    _check_company_auto = True
    _depends = {
        "customer.credit.balance": ["balance", "company_id", "partner_id"],
        "account.move.line": ["account_id", "balance", "company_id", "partner_id", "parent_state"],
        "res.company": ["credit_account_id", "currency_id"],
    }

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    ledger_balance = fields.Monetary(
        string="Credit Ledger", readonly=True, help="The customer's credit balance: the sum of their ledger lines."
    )
    account_balance = fields.Monetary(
        string="Customer Credit Account",
        readonly=True,
        help="Credit minus debit of the posted journal items of the customer on the company's Customer Credit account.",
    )
    difference = fields.Monetary(readonly=True, help="Credit ledger minus Customer Credit account.")
    abs_difference = fields.Monetary(string="Absolute Difference", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE OR REPLACE VIEW {self._table} AS (
                WITH companies AS MATERIALIZED (
                    SELECT co.id, co.credit_account_id, co.currency_id, cur.rounding
                      FROM res_company co
                      JOIN res_currency cur ON cur.id = co.currency_id
                ), ledger AS (
                    -- each customer's ledger total, kept per line by the ledger's trigger
                    SELECT b.company_id, b.partner_id, b.balance
                      FROM customer_credit_balance b
                ), books AS (
                    -- per company, only the lines of its Customer Credit account (by the account's index)
                    SELECT co.id AS company_id, b.partner_id, b.balance
                      FROM companies co
                CROSS JOIN LATERAL (
                            SELECT aml.partner_id, -SUM(aml.balance) AS balance
                              FROM account_move_line aml
                             WHERE aml.account_id = co.credit_account_id
                               AND aml.company_id = co.id
                               AND aml.parent_state = 'posted'
                          GROUP BY aml.partner_id
                       ) b
                     WHERE co.credit_account_id IS NOT NULL
                ), compared AS (
                    SELECT COALESCE(l.company_id, b.company_id) AS company_id,
                           COALESCE(l.partner_id, b.partner_id) AS partner_id,
                           COALESCE(l.balance, 0) AS ledger_balance,
                           COALESCE(b.balance, 0) AS account_balance
                      FROM ledger l
                 FULL JOIN books b ON b.company_id = l.company_id AND COALESCE(b.partner_id, 0) = l.partner_id
                )
                SELECT COALESCE(x.partner_id, 0)::bigint * 65536 + x.company_id AS id,
                       x.company_id, x.partner_id, co.currency_id,
                       x.ledger_balance, x.account_balance,
                       x.ledger_balance - x.account_balance AS difference,
                       ABS(x.ledger_balance - x.account_balance) AS abs_difference
                  FROM compared x
                  JOIN companies co ON co.id = x.company_id
                 WHERE ABS(x.ledger_balance - x.account_balance) >= co.rounding / 2
            )
            """
        )

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        # The view sums a chain's whole ledger and Customer Credit account in one pass: let the two
        # grouped sums (one row per customer) stay in memory instead of spilling to disk, and skip
        # PostgreSQL's JIT compilation, which costs more than it saves here. For the rest of this
        # transaction only (a read of the report).
        self.env.cr.execute("SET LOCAL work_mem = '32MB'; SET LOCAL jit = off")
        return super()._search(domain, offset=offset, limit=limit, order=order)

    @api.model
    def _get_differences(self, companies=None):
        """The differences (of ``companies``, by default all those the user may see), as a list of
        dicts: ``company_id``, ``partner_id`` (False for lines without customer), ``ledger_balance``,
        ``account_balance`` and ``difference`` (ledger minus account). Empty when the books agree."""
        domain = [("company_id", "in", companies.ids)] if companies is not None else []
        return self.search_read(
            domain,
            ["company_id", "partner_id", "ledger_balance", "account_balance", "difference"],
            load=False,
        )
