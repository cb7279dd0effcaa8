from odoo import api, fields, models
from odoo.exceptions import UserError

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
        help="Leave empty to use the company's default limit.",
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
            balances = Service.get_balances(commercial, company)
            partner.credit_balance = balances["total"]
            partner.credit_generic_balance = balances["generic"]
            partner.credit_product_balance = balances["product"]

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
