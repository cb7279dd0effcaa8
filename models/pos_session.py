from odoo import models


class PosSession(models.Model):
    _inherit = "pos.session"

    def _reconcile_account_move_lines(self, data):
        """The closing entry debits POS Credit Clearing with the session's (uninvoiced) credit
        payments; the credit spends and refunds posted at sync credited and debited it. Reconcile
        them, so that the clearing account nets to zero per session."""
        data = super()._reconcile_account_move_lines(data)
        clearing = self.company_id.credit_clearing_account_id
        if not clearing or not clearing.reconcile or not self.move_id:
            return data
        closing_lines = self.move_id.line_ids.filtered(lambda line: line.account_id == clearing)
        if not closing_lines:
            return data
        ledger = (
            self.env["customer.credit.line"]
            .sudo()
            .search([("pos_order_id", "in", self._get_closed_orders().ids), ("kind", "in", ("spend", "refund"))])
        )
        credit_lines = ledger.move_id.line_ids.filtered(lambda line: line.account_id == clearing)
        (closing_lines | credit_lines).filtered(lambda line: not line.reconciled).reconcile()
        return data
