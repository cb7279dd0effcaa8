from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

CREDIT_USER = "customer_credit.group_customer_credit_user"
CREDIT_MANAGER = "customer_credit.group_customer_credit_manager"


class ResPartner(models.Model):
    _inherit = "res.partner"

    credit_lot_ids = fields.One2many(
        "customer.credit", "partner_id", string="Credit Lots", readonly=True, groups=CREDIT_USER
    )
    credit_line_ids = fields.One2many(
        "customer.credit.line", "partner_id", string="Credit Movements", readonly=True, groups=CREDIT_USER
    )
    credit_currency_id = fields.Many2one("res.currency", compute="_compute_credit_balance", groups=CREDIT_USER)
    credit_balance = fields.Monetary(
        groups=CREDIT_USER,
        currency_field="credit_currency_id",
        compute="_compute_credit_balance",
        help="Everything the customer holds as prepaid credit in the current company.",
    )
    credit_generic_balance = fields.Monetary(
        groups=CREDIT_USER,
        string="Usable Credit",
        currency_field="credit_currency_id",
        compute="_compute_credit_balance",
        help="Credit usable on any purchase (overdraft included, negative when overdrawn).",
    )
    credit_product_balance = fields.Monetary(
        groups=CREDIT_USER,
        string="Product-specific Credit",
        currency_field="credit_currency_id",
        compute="_compute_credit_balance",
        help="Credit usable only on specific products.",
    )
    # Readable by everyone who sees the customer (cashiers, the POS loader, the portal): no groups,
    # computed in sudo for the current company.
    credit_available = fields.Float(
        string="Available Credit",
        compute="_compute_credit_available",
        digits="Account",
        help="What a payment with generic credit accepts now: balance plus overdraft room, less what is held.",
    )
    credit_due = fields.Float(
        compute="_compute_credit_available",
        digits="Account",
        help="What the customer owes on an overdrawn credit balance.",
    )
    credit_pos_lots = fields.Json(
        string="Product-specific Credit Lots",
        compute="_compute_credit_pos_lots",
        help="Active product-specific lots (id, name, product, balance), for the Point of Sale payment screen.",
    )
    credit_allow_overdraft = fields.Boolean(
        groups=CREDIT_MANAGER,
        company_dependent=True,
        string="Allow Credit Overdraft",
        help="Let this customer spend more credit than they have, down to the overdraft limit.",
    )
    # company-dependent, so a Float (Odoo 18 stores company-dependent values as JSON, which
    # Monetary fields do not support); shown as money in the company's currency
    credit_overdraft_limit = fields.Float(
        groups=CREDIT_MANAGER,
        company_dependent=True,
        string="Overdraft Limit",
        digits="Account",
        help="The company's default limit unless another one is set here; 0 means no overdraft for this customer.",
    )
    credit_lock_seq = fields.Integer(readonly=True, copy=False, groups="base.group_system")

    @api.depends_context("company")
    def _compute_credit_balance(self):
        company = self.env.company
        Service = self.env["customer.credit.service"].sudo()
        for partner in self:
            commercial = partner.commercial_partner_id
            partner.credit_currency_id = company.currency_id
            if not commercial.id:
                partner.credit_balance = partner.credit_generic_balance = partner.credit_product_balance = 0.0
                continue
            balances = Service._get_balances(commercial, company)
            partner.credit_balance = balances["total"]
            partner.credit_generic_balance = balances["generic"]
            partner.credit_product_balance = balances["product"]

    @api.depends_context("company")
    def _compute_credit_available(self):
        company = self.env.company
        credits = self.env["customer.credit.service"].sudo()._available_credits(self, company)
        for partner in self:
            partner.credit_available, partner.credit_due = credits.get(partner.id, (0.0, 0.0))

    @api.depends_context("company")
    def _compute_credit_pos_lots(self):
        company = self.env.company
        commercial_ids = {partner.id: partner.commercial_partner_id.id for partner in self}
        lots_by_partner = self._customer_credit_pos_lots({pid for pid in commercial_ids.values() if pid}, company)
        for partner in self:
            partner.credit_pos_lots = lots_by_partner.get(commercial_ids[partner.id], [])

    @api.model
    def _customer_credit_pos_lots(self, commercial_ids, company):
        """``{commercial partner id: [lot dict]}``: their active, unexpired product-specific lots in
        ``company``, in one query."""
        lots_by_partner = {}
        if not commercial_ids:
            return lots_by_partner
        self.env["customer.credit"].flush_model(["partner_id", "company_id", "state", "balance", "expiry_date"])
        self.env.cr.execute(
            """SELECT id, name, partner_id, product_id, balance, expiry_date
                 FROM customer_credit
                WHERE partner_id = ANY(%s) AND company_id = %s AND credit_type = 'product' AND state = 'active'
                  AND (expiry_date IS NULL OR expiry_date >= %s)
             ORDER BY expiry_date NULLS LAST, create_date, id""",
            (list(commercial_ids), company.id, fields.Date.context_today(self)),
        )
        for lot_id, name, partner_id, product_id, balance, expiry in self.env.cr.fetchall():
            lots_by_partner.setdefault(partner_id, []).append(
                {
                    "id": lot_id,
                    "name": name,
                    "product_id": product_id,
                    "balance": balance,
                    "expiry_date": fields.Date.to_string(expiry) if expiry else False,
                }
            )
        return lots_by_partner

    @api.model
    def _load_pos_data_fields(self, config_id):
        fields_list = super()._load_pos_data_fields(config_id)
        if fields_list:
            fields_list += ["credit_available", "credit_due", "credit_pos_lots"]
        return fields_list

    @api.constrains("credit_overdraft_limit")
    def _check_credit_overdraft_limit(self):
        if any(partner.sudo().credit_overdraft_limit < 0 for partner in self):
            raise ValidationError(self.env._("The overdraft limit of a customer cannot be negative."))

    def write(self, vals):
        if {"parent_id", "is_company"}.intersection(vals):
            self._check_credit_stays_reachable(vals)
        return super().write(vals)

    def _check_credit_stays_reachable(self, vals):
        """Credit belongs to the commercial partner: attaching a customer who holds credit to a
        company would strand it, so the credit has to be transferred first."""
        for partner in self:
            if partner.commercial_partner_id != partner:
                continue
            new_parent = vals.get("parent_id", partner.parent_id.id)
            becomes_company = vals.get("is_company", partner.is_company)
            if not new_parent or becomes_company:
                continue
            lines = (
                self.env["customer.credit.line"]
                .sudo()
                ._read_group([("partner_id", "=", partner.id)], ["company_id"], ["amount:sum"])
            )
            if any(not company.currency_id.is_zero(total) for company, total in lines):
                raise UserError(
                    self.env._(
                        "%s holds customer credit: transfer it to the company before attaching the contact.",
                        partner.display_name,
                    )
                )

    def action_view_credit_lines(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("customer_credit.customer_credit_line_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"search_default_group_by_lot": False}
        action["name"] = self.env._("Credit of %s", self.commercial_partner_id.display_name)
        return action

    def action_credit_operation(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Customer Credit"),
            "res_model": "customer.credit.operation.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_partner_id": self.commercial_partner_id.id,
                "default_operation": self.env.context.get("credit_operation", "topup"),
            },
        }
