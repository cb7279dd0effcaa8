from odoo import models
from odoo.exceptions import UserError

from .customer_credit_service import is_service_env


class AccountMove(models.Model):
    _inherit = "account.move"

    def _compute_show_reset_to_draft_button(self):
        res = super()._compute_show_reset_to_draft_button()
        accounts = self.env["res.company"]._customer_credit_accounts()
        for move in self.filtered("show_reset_to_draft_button"):
            if move.line_ids.account_id & accounts:
                move.show_reset_to_draft_button = False
        return res

    def action_pay_with_credit(self):
        """Open the credit wizard to pay this customer invoice from the customer's credit."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Pay with Credit"),
            "res_model": "customer.credit.operation.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_operation": "spend",
                "default_invoice_id": self.id,
                "default_partner_id": self.commercial_partner_id.id,
                "default_company_id": self.company_id.id,
            },
        }

    def _customer_credit_lines(self):
        """Journal items of these entries on a Customer Credit account."""
        accounts = self.env["res.company"]._customer_credit_accounts()
        return self.line_ids.filtered(lambda line: line.account_id in accounts)

    def _post(self, soft=True):
        if not is_service_env(self.env) and self._customer_credit_lines():
            raise UserError(
                self.env._(
                    "The Customer Credit account only moves with credit movements (top-up, payment, refund, "
                    "withdrawal, adjustment, transfer, expiry): use them instead of a manual entry."
                )
            )
        return super()._post(soft=soft)

    def button_draft(self):
        if self._customer_credit_lines():
            raise UserError(
                self.env._(
                    "Entries of customer credit cannot be reset to draft: correct the credit with a new movement "
                    "(cancel, adjustment or refund), which posts the reversal."
                )
            )
        return super().button_draft()
