from odoo import api, fields, models, tools
from odoo.exceptions import UserError


class CustomerCreditBalance(models.Model):
    """One row per customer and company: the sums of the customer's credit ledger, by kind of lot.

    A database trigger adds each ledger line to its customer's row in the statement that writes
    the line (the service's, under its lock), so reading a balance is one indexed row whatever the
    length of the customer's history (a chain's customer may have tens of thousands of movements).
    ``init`` rebuilds the rows from the ledger at each install and update of the module.

    ``held`` is the total of the customer's pending withdrawal requests, kept by a trigger on the
    requests (``_hold_init``): spends, withdrawals and transfers cannot take it.

    ``generic`` and ``product`` are the balances of the customer's generic and product-specific
    lots that are not ended (used lots are at zero); lots past their expiry date that the expiry
    job has not ended yet are still in them, and the readers take them out.
    """

    _name = "customer.credit.balance"
    _description = "Customer Credit Balance"
    _log_access = False
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True, ondelete="restrict")
    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    currency_id = fields.Many2one(related="company_id.currency_id")
    balance = fields.Monetary(readonly=True, help="The sum of all the customer's ledger lines.")
    generic = fields.Monetary(string="Generic Lots", readonly=True)
    product = fields.Monetary(string="Product-specific Lots", readonly=True)
    overdraft = fields.Monetary(readonly=True, help="Ledger lines without lot: negative while the customer owes.")
    held = fields.Monetary(readonly=True, help="Credit set aside by the customer's pending withdrawal requests.")

    _sql_constraints = [
        ("partner_company_uniq", "unique(partner_id, company_id)", "A customer has one credit balance per company."),
    ]

    def init(self):
        # Every ledger line written adds to its customer's row, in the same statement: whatever
        # writes the line (the service, a hand-made SQL fix, Odoo's partner merge), the row and the
        # ledger cannot disagree.
        self.env.cr.execute(
            """
            CREATE OR REPLACE FUNCTION customer_credit_balance_add(p_partner integer, p_company integer,
                                                                   p_lot integer, p_amount numeric) RETURNS void AS $$
            DECLARE
                lot_type varchar;
            BEGIN
                IF p_lot IS NOT NULL THEN
                    UPDATE customer_credit SET balance = COALESCE(balance, 0) + p_amount WHERE id = p_lot
                    RETURNING credit_type INTO lot_type;
                END IF;
                INSERT INTO customer_credit_balance AS b (partner_id, company_id, balance, generic, product, overdraft)
                     VALUES (p_partner, p_company, p_amount,
                             CASE WHEN lot_type = 'generic' THEN p_amount ELSE 0 END,
                             CASE WHEN lot_type = 'product' THEN p_amount ELSE 0 END,
                             CASE WHEN p_lot IS NULL THEN p_amount ELSE 0 END)
                ON CONFLICT (partner_id, company_id) DO UPDATE
                        SET balance = b.balance + EXCLUDED.balance,
                            generic = b.generic + EXCLUDED.generic,
                            product = b.product + EXCLUDED.product,
                            overdraft = b.overdraft + EXCLUDED.overdraft;
            END;
            $$ LANGUAGE plpgsql;

            CREATE OR REPLACE FUNCTION customer_credit_line_balance() RETURNS trigger AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    PERFORM customer_credit_balance_add(OLD.partner_id, OLD.company_id, OLD.lot_id,
                                                        -COALESCE(OLD.amount, 0));
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    PERFORM customer_credit_balance_add(NEW.partner_id, NEW.company_id, NEW.lot_id,
                                                        COALESCE(NEW.amount, 0));
                END IF;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql;

            DROP TRIGGER IF EXISTS customer_credit_line_balance ON customer_credit_line;
            CREATE TRIGGER customer_credit_line_balance
                AFTER INSERT OR DELETE OR UPDATE OF partner_id, company_id, lot_id, amount ON customer_credit_line
                FOR EACH ROW EXECUTE FUNCTION customer_credit_line_balance();
            """
        )
        self._rebuild()

    @api.model
    def _rebuild(self, partners=None):
        """Rebuild the rows (of ``partners``, by default all) from the ledger lines: install, update,
        and customers merged by Odoo's merge wizard, which moves their lines to one of them."""
        self.env["customer.credit.line"].flush_model()
        self.env["customer.credit"].flush_model(["credit_type"])
        where = "" if partners is None else "WHERE l.partner_id = ANY(%(ids)s)"
        self.env.cr.execute(
            f"""
            UPDATE customer_credit c SET balance = t.total
              FROM (SELECT lot.id, COALESCE(SUM(l.amount), 0) AS total
                      FROM customer_credit lot
                 LEFT JOIN customer_credit_line l ON l.lot_id = lot.id
                     WHERE %(all)s OR lot.partner_id = ANY(%(ids)s)
                  GROUP BY lot.id) t
             WHERE c.id = t.id AND c.balance IS DISTINCT FROM t.total;
            DELETE FROM customer_credit_balance WHERE %(all)s OR partner_id = ANY(%(ids)s);
            INSERT INTO customer_credit_balance (partner_id, company_id, balance, generic, product, overdraft)
                 SELECT l.partner_id, l.company_id, SUM(l.amount),
                        COALESCE(SUM(l.amount) FILTER (WHERE c.credit_type = 'generic'), 0),
                        COALESCE(SUM(l.amount) FILTER (WHERE c.credit_type = 'product'), 0),
                        COALESCE(SUM(l.amount) FILTER (WHERE l.lot_id IS NULL), 0)
                   FROM customer_credit_line l
              LEFT JOIN customer_credit c ON c.id = l.lot_id
                 {where}
               GROUP BY l.partner_id, l.company_id
            """,
            {"all": partners is None, "ids": [] if partners is None else list(partners.ids)},
        )
        if tools.sql.table_exists(self.env.cr, "customer_credit_withdrawal"):
            self._rebuild_held(partners)
        self.invalidate_model()
        self.env["customer.credit"].invalidate_model(["balance"])

    @api.model
    def _rebuild_held(self, partners=None):
        """Set ``held`` (of ``partners``, by default all) to the total of their pending withdrawal requests."""
        self.env["customer.credit.withdrawal"].flush_model(["partner_id", "company_id", "amount", "state"])
        self.env.cr.execute(
            """
            UPDATE customer_credit_balance b SET held = 0
             WHERE (%(all)s OR b.partner_id = ANY(%(ids)s)) AND b.held IS DISTINCT FROM 0;
            INSERT INTO customer_credit_balance AS b
                        (partner_id, company_id, balance, generic, product, overdraft, held)
                 SELECT w.partner_id, w.company_id, 0, 0, 0, 0, SUM(w.amount)
                   FROM customer_credit_withdrawal w
                  WHERE w.state = 'pending' AND (%(all)s OR w.partner_id = ANY(%(ids)s))
               GROUP BY w.partner_id, w.company_id
            ON CONFLICT (partner_id, company_id) DO UPDATE SET held = EXCLUDED.held;
            """,
            {"all": partners is None, "ids": [] if partners is None else list(partners.ids)},
        )
        self.invalidate_model(["held"])

    @api.model
    def _hold_init(self):
        """The trigger that keeps ``held``: each pending request adds its amount to its customer's row, in
        the statement that writes the request (created, decided, or moved by a partner merge)."""
        self.env.cr.execute(
            """
            CREATE OR REPLACE FUNCTION customer_credit_balance_hold(p_partner integer, p_company integer,
                                                                    p_amount numeric) RETURNS void AS $$
            BEGIN
                INSERT INTO customer_credit_balance AS b (partner_id, company_id, balance, generic, product, overdraft,
                                                          held)
                     VALUES (p_partner, p_company, 0, 0, 0, 0, p_amount)
                ON CONFLICT (partner_id, company_id) DO UPDATE SET held = COALESCE(b.held, 0) + EXCLUDED.held;
            END;
            $$ LANGUAGE plpgsql;

            CREATE OR REPLACE FUNCTION customer_credit_withdrawal_held() RETURNS trigger AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state = 'pending' THEN
                    PERFORM customer_credit_balance_hold(OLD.partner_id, OLD.company_id, -COALESCE(OLD.amount, 0));
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state = 'pending' THEN
                    PERFORM customer_credit_balance_hold(NEW.partner_id, NEW.company_id, COALESCE(NEW.amount, 0));
                END IF;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql;

            DROP TRIGGER IF EXISTS customer_credit_withdrawal_held ON customer_credit_withdrawal;
            CREATE TRIGGER customer_credit_withdrawal_held
                AFTER INSERT OR DELETE OR UPDATE OF partner_id, company_id, amount, state ON customer_credit_withdrawal
                FOR EACH ROW EXECUTE FUNCTION customer_credit_withdrawal_held();
            """
        )
        self._rebuild_held()

    @api.model
    def _read_balances(self, partners, company):
        """``{partner id: (balance, generic, product, overdraft)}`` of ``partners`` in ``company``, in
        one query; the lots past their expiry date are taken out of ``generic`` and ``product``
        (customers without a movement have no row and are left out)."""
        if not partners:
            return {}
        self.env["customer.credit"].flush_model(["partner_id", "company_id", "credit_type", "state", "expiry_date"])
        self.env.cr.execute(
            """
            SELECT b.partner_id, b.balance, b.generic - COALESCE(x.generic, 0), b.product - COALESCE(x.product, 0),
                   b.overdraft
              FROM customer_credit_balance b
         LEFT JOIN LATERAL (
                    SELECT SUM(c.balance) FILTER (WHERE c.credit_type = 'generic') AS generic,
                           SUM(c.balance) FILTER (WHERE c.credit_type = 'product') AS product
                      FROM customer_credit c
                     WHERE c.partner_id = b.partner_id AND c.company_id = b.company_id
                       AND c.state = 'active' AND c.expiry_date < %(today)s
                   ) x ON TRUE
             WHERE b.partner_id = ANY(%(ids)s) AND b.company_id = %(company)s
            """,
            {"ids": list(partners.ids), "company": company.id, "today": fields.Date.context_today(self)},
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    # Only the ledger's trigger writes the rows; through the ORM they are read-only, for everyone.
    @api.model_create_multi
    def create(self, vals_list):
        if vals_list:
            raise UserError(self.env._("Credit balances are kept by the credit service only."))
        return super().create(vals_list)

    def write(self, vals):
        if self:
            raise UserError(self.env._("Credit balances are kept by the credit service only."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_ledger(self):
        raise UserError(self.env._("Credit balances are kept by the credit service only."))
