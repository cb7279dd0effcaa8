from odoo import api, fields, models
from odoo.exceptions import UserError


class CustomerCreditOperationWizard(models.TransientModel):
    _name = "customer.credit.operation.wizard"
    _inherit = ["customer.credit.amount.mixin"]
    _description = "Customer Credit Movement"

    operation = fields.Selection(
        [
            ("topup", "Top-up"),
            ("spend", "Pay Invoice"),
            ("withdraw", "Withdraw"),
            ("adjust", "Adjust"),
            ("transfer", "Transfer"),
        ],
        required=True,
        default="topup",
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Customer", required=True)
    balance = fields.Monetary(related="partner_id.credit_balance", string="Current Balance")
    amount = fields.Monetary(required=True)
    journal_id = fields.Many2one(
        "account.journal",
        string="Payment Journal",
        domain="[('type', 'in', ('cash', 'bank')), ('company_id', '=', company_id)]",
    )
    granted = fields.Boolean(string="Granted for Free", help="No payment: the credit is a gift, booked as an expense.")
    credit_type = fields.Selection(
        [("generic", "Generic"), ("product", "Product-specific")], default="generic", required=True
    )
    product_id = fields.Many2one("product.product")
    expiry_date = fields.Date()
    notes = fields.Text()
    direction = fields.Selection([("increase", "Increase"), ("decrease", "Decrease")], default="increase")
    reason = fields.Char()
    to_partner_id = fields.Many2one("res.partner", string="To Customer")
    invoice_id = fields.Many2one(
        "account.move",
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial')), ('commercial_partner_id', '=', partner_id), "
        "('company_id', '=', company_id)]",
    )
    invoice_residual = fields.Monetary(related="invoice_id.amount_residual", string="Amount Due")

    @api.onchange("invoice_id")
    def _onchange_invoice_id(self):
        if self.invoice_id and self.partner_id:
            available = self.env["customer.credit.service"]._get_balances(self.partner_id, self.company_id)
            self.amount = min(self.invoice_id.amount_residual, available["available"])

    @api.onchange("operation", "company_id")
    def _onchange_operation(self):
        if self.operation in ("topup", "withdraw") and not self.journal_id:
            self.journal_id = self.env["account.journal"].search(
                [("type", "=", "cash"), ("company_id", "=", self.company_id.id)], limit=1
            )

    def _credit_amount_currency(self, vals):
        if vals.get("company_id"):
            return self.env["res.company"].browse(vals["company_id"]).currency_id
        return self.company_id.currency_id or super()._credit_amount_currency(vals)

    def action_confirm(self):
        self.ensure_one()
        if self.currency_id.compare_amounts(self.amount, 0.0) <= 0:
            raise UserError(self.env._("The amount must be positive."))
        service = self.env["customer.credit.service"].with_company(self.company_id)
        common = {"company": self.company_id}
        if self.operation == "topup":
            lines = service._topup(
                self.partner_id,
                self.amount,
                None if self.granted else self.journal_id,
                granted=self.granted,
                credit_type=self.credit_type,
                product=self.product_id if self.credit_type == "product" else None,
                expiry_date=self.expiry_date,
                notes=self.notes,
                **common,
            )
        elif self.operation == "spend":
            if not self.invoice_id:
                raise UserError(self.env._("Select the invoice to pay with credit."))
            lines = service._spend(self.partner_id, self.amount, invoice=self.invoice_id, **common)
        elif self.operation == "withdraw":
            lines = service._withdraw(self.partner_id, self.amount, self.journal_id, **common)
        elif self.operation == "adjust":
            sign = 1 if self.direction == "increase" else -1
            lines = service._adjust(self.partner_id, sign * self.amount, self.reason, **common)
        elif self.operation == "transfer":
            if not self.to_partner_id:
                raise UserError(self.env._("Select the customer who receives the credit."))
            lines = service._transfer(self.partner_id, self.to_partner_id, self.amount, **common)
        else:
            raise UserError(self.env._("Unknown credit operation."))
        if self.operation == "topup" and len(lines.lot_id) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "customer.credit",
                "res_id": lines.lot_id.id,
                "view_mode": "form",
                "target": "current",
            }
        return {"type": "ir.actions.act_window_close"}
