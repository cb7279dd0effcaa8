from odoo import models


class PosSession(models.Model):
    _inherit = "pos.session"

    def _reconcile_account_move_lines(self, data):
        """The closing entry debits POS Credit Clearing with the session's (uninvoiced) credit
        payments; the credit spends and refunds posted at sync credited and debited it. Reconcile
        them, so that the clearing account nets to zero per session."""
        data = super()._reconcile_account_move_lines(data)
        clearing = self.company_id.credit_clearing_account_id
        if not clearing or not clearing.reconcile:
            return data
        orders = self._get_closed_orders()
        ledger = (
            self.env["customer.credit.line"]
            .sudo()
            .search([("pos_order_id", "in", orders.ids), ("kind", "in", ("spend", "refund"))])
        )
        # the closing entry's debit and the credit spends (and refunds) of the session's orders
        lines = (self.move_id.exists().line_ids | ledger.move_id.line_ids).filtered(
            lambda line: line.account_id == clearing and not line.reconciled
        )
        if lines.filtered("debit") and lines.filtered("credit"):
            lines.reconcile()
        return data
