from odoo import fields, models


class CustomerCreditLotWizard(models.TransientModel):
    _name = "customer.credit.lot.wizard"
    _inherit = ["customer.credit.amount.mixin"]
    _description = "Cancel or Expire a Credit Lot"

    lot_id = fields.Many2one("customer.credit", string="Credit Lot", required=True)
    mode = fields.Selection([("cancel", "Cancel"), ("expire", "Expire")], required=True, default="cancel")
    currency_id = fields.Many2one(related="lot_id.currency_id")
    balance = fields.Monetary(related="lot_id.balance")
    reason = fields.Char(required=True)

    def _credit_amount_currency(self, vals):
        lot = self.env["customer.credit"].sudo().browse(vals.get("lot_id")) or self.lot_id.sudo()
        return lot.currency_id or super()._credit_amount_currency(vals)

    def action_confirm(self):
        self.ensure_one()
        service = self.env["customer.credit.service"]
        if self.mode == "cancel":
            service._cancel(self.lot_id, reason=self.reason)
        else:
            service._expire(self.lot_id, reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
