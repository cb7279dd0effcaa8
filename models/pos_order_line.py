from odoo import models


class PosOrderLine(models.Model):
    _inherit = "pos.order.line"

    def _is_customer_credit_topup(self):
        self.ensure_one()
        return self.product_id and self.product_id == self.env["pos.config"]._customer_credit_topup_product()

    def _prepare_tax_base_line_values(self):
        """A credit top-up line is booked on the top-up clearing account, never on revenue: at session
        close (``pos.session._accumulate_amounts``) and on the invoice of an invoiced order, whatever
        the product's accounts or the fiscal position say. The top-up's own entry at sync debits that
        account, so it nets to zero per session."""
        base_lines = super()._prepare_tax_base_line_values()
        # (once for all lines: every session close and every invoice of the till comes here)
        product = self.env["pos.config"]._customer_credit_topup_product()
        for base_line in base_lines:
            line = base_line["record"]
            if product and line.product_id == product:
                account = line.order_id.company_id._customer_credit_topup_account()
                if account:
                    base_line["account_id"] = account
        return base_lines
