from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    credit_lot_ids = fields.One2many("customer.credit", "partner_id", string="Credit Lots", readonly=True)
    credit_line_ids = fields.One2many("customer.credit.line", "partner_id", string="Credit Movements", readonly=True)
    credit_currency_id = fields.Many2one("res.currency", compute="_compute_credit_balance")
    credit_balance = fields.Monetary(
        currency_field="credit_currency_id",
        compute="_compute_credit_balance",
        help="Everything the customer holds as prepaid credit in the current company.",
    )
    credit_generic_balance = fields.Monetary(
        string="Usable Credit",
        currency_field="credit_currency_id",
        compute="_compute_credit_balance",
        help="Credit usable on any purchase (overdraft included, negative when overdrawn).",
    )
    credit_product_balance = fields.Monetary(
        string="Product-specific Credit",
        currency_field="credit_currency_id",
        compute="_compute_credit_balance",
        help="Credit usable only on specific products.",
    )
    credit_allow_overdraft = fields.Boolean(
        string="Allow Credit Overdraft",
        help="Let this customer spend more credit than they have, down to the overdraft limit.",
    )
    credit_overdraft_limit = fields.Monetary(
        string="Overdraft Limit",
        currency_field="credit_currency_id",
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

    @api.model
    def _commercial_fields(self):
        return [*super()._commercial_fields(), "credit_allow_overdraft", "credit_overdraft_limit"]

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
