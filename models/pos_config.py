from odoo import models

CREDIT_PARTNER_FIELDS = ("credit_available", "credit_due", "credit_pos_lots")


class PosConfig(models.Model):
    _inherit = "pos.config"

    def _customer_credit_push(self, partners):
        """Send the customers' new credit balances to these tills (Odoo's bus, which the POS
        listens to on its config's channel), so that every open till shows fresh figures."""
        if not self or not partners:
            return
        company = self[:1].company_id
        # contacts of a company share its credit
        partners = partners.sudo().with_company(company).search([("commercial_partner_id", "in", partners.ids)])
        partners.invalidate_recordset(list(CREDIT_PARTNER_FIELDS))
        payload = [
            {"id": partner.id, **{fname: partner[fname] for fname in CREDIT_PARTNER_FIELDS}} for partner in partners
        ]
        for config in self:
            config._notify("CUSTOMER_CREDIT", payload)

    def _customer_credit_open_configs(self, company):
        sessions = (
            self.env["pos.session"]
            .sudo()
            .search([("state", "!=", "closed"), ("config_id.company_id", "=", company.id)])
        )
        return sessions.config_id
