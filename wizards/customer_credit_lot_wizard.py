from odoo import fields, models


class CustomerCreditLotWizard(models.TransientModel):
    _name = "customer.credit.lot.wizard"
    _description = "Cancel or Expire a Credit Lot"

    lot_id = fields.Many2one("customer.credit", string="Credit Lot", required=True)
    mode = fields.Selection([("cancel", "Cancel"), ("expire", "Expire")], required=True, default="cancel")
    currency_id = fields.Many2one(related="lot_id.currency_id")
    balance = fields.Monetary(related="lot_id.balance")
    reason = fields.Char(required=True)

    def action_confirm(self):
        self.ensure_one()
        service = self.env["customer.credit.service"]
        if self.mode == "cancel":
            service.cancel(self.lot_id, reason=self.reason)
        else:
            service.expire(self.lot_id, reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
