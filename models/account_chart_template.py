from odoo import models


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):
        """Companies that get a chart after install get their credit accounts too."""
        res = super()._post_load_data(template_code, company, template_data)
        (company or self.env.company)._customer_credit_setup_accounting()
        return res
