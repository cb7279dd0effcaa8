from odoo import models


class CustomerCreditService(models.AbstractModel):
    _inherit = "customer.credit.service"

    def _notify(self, lines):
        """After every movement, push the customers' new balances to the open tills."""
        res = super()._notify(lines)
        for company in lines.company_id:
            configs = self.env["pos.config"]._customer_credit_open_configs(company)
            if configs:
                company_lines = lines.filtered(lambda line, company=company: line.company_id == company)
                configs._customer_credit_push(company_lines.partner_id)
        return res
