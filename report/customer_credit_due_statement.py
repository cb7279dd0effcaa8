from odoo import api, fields, models


class ReportCustomerCreditStatement(models.AbstractModel):
    _inherit = "report.customer_credit.report_customer_credit_statement"

    @api.model
    def _get_report_values(self, docids, data=None):
        """A statement attached to a credit reminder starts on the day the balance went negative."""
        data = dict(data or {})
        if self.env.context.get("credit_reminder") and not data.get("date_from"):
            company = self.env["res.company"].browse(data.get("company_id")).exists() or self.env.company
            partners = self.env["res.partner"].browse(docids).commercial_partner_id
            dues = (
                self.env["customer.credit.due"]
                .sudo()
                .search([("partner_id", "in", partners.ids), ("company_id", "=", company.id)])
            )
            if dues:
                data["date_from"] = fields.Date.to_string(min(dues.mapped("due_since")))
        return super()._get_report_values(docids, data=data)
