from datetime import datetime, time

from odoo import api, fields, models
from odoo.exceptions import AccessError

CREDIT_USER = "customer_credit.group_customer_credit_user"


class ReportCustomerCreditStatement(models.AbstractModel):
    _name = "report.customer_credit.report_customer_credit_statement"
    _description = "Customer Credit Statement"

    @api.model
    def _get_report_values(self, docids, data=None):
        """Per customer: the opening balance, the movements of the period and the closing balance,
        in one company. Credit users print any customer; others only their own credit."""
        data = data or {}
        partners = self.env["res.partner"].browse(docids).commercial_partner_id
        user = self.env.user
        if not self.env.user.has_group(CREDIT_USER) and partners != user.commercial_partner_id:
            # the portal renders in sudo, for the logged-in customer only; nobody else prints others
            if not (self.env.su and partners == user.commercial_partner_id):
                raise AccessError(self.env._("You can only print your own credit statement."))
        company = self.env["res.company"].browse(data.get("company_id")).exists() or self.env.company
        today = fields.Date.context_today(self)
        date_from = fields.Date.to_date(data.get("date_from")) or today.replace(day=1)
        date_to = fields.Date.to_date(data.get("date_to")) or today
        start, end = datetime.combine(date_from, time.min), datetime.combine(date_to, time.max)
        Line = self.env["customer.credit.line"].sudo()
        statements = {}
        for partner in partners:
            domain = [("partner_id", "=", partner.id), ("company_id", "=", company.id)]
            before = Line.search([*domain, ("date", "<", start)])
            lines = Line.search([*domain, ("date", ">=", start), ("date", "<=", end)], order="date asc, id asc")
            opening = company.currency_id.round(sum(before.mapped("amount")))
            statements[partner.id] = {
                "opening": opening,
                "lines": lines,
                "closing": company.currency_id.round(opening + sum(lines.mapped("amount"))),
            }
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners.sudo(),
            "company": company,
            "currency": company.currency_id,
            "date_from": date_from,
            "date_to": date_to,
            "statements": statements,
        }
