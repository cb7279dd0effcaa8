from odoo import api, fields, models
from odoo.osv import expression


class PosConfig(models.Model):
    _inherit = "pos.config"

    credit_topup_product_id = fields.Many2one(
        "product.product",
        compute="_compute_credit_topup_product_id",
        help="The product of the credit top-up lines sold at the till.",
    )

    credit_invoice_mode = fields.Selection(
        [("full", "Full amount"), ("without_credit", "Without credit")],
        string="Invoices of Credit-Paid Orders",
        default="full",
        required=True,
        help="Full amount: the invoice shows the whole order, and the customer credit spent on it is a payment "
        "reconciled with it.\nWithout credit: the invoice shows only the part not paid by credit (a 'Paid with "
        "customer credit' line takes the credit part off).",
    )
    credit_cashier_pay_out = fields.Boolean(
        string="Cashiers Pay Out Credit",
        help="Every cashier of this point of sale may pay customer credit out in cash. Without it, only the "
        "credit managers may.",
    )

    def _customer_credit_push(self, partners):
        """Send the customers' new credit balances to these tills (Odoo's bus, which the POS
        listens to on its config's channel), so that every open till shows fresh figures."""
        if not self or not partners:
            return
        company = self[:1].company_id
        # contacts of a company share its credit; the figures are read as the fields compute them
        # (``_available_credits``, ``_customer_credit_pos_lots``), without loading the customers
        Partner = self.env["res.partner"].sudo().with_company(company)
        contacts = Partner.search_fetch([("commercial_partner_id", "in", partners.ids)], ["commercial_partner_id"])
        credits = self.env["customer.credit.service"].sudo()._available_credits(contacts, company)
        lots = Partner._customer_credit_pos_lots(set(contacts.commercial_partner_id.ids), company)
        payload = [
            {
                "id": contact.id,
                "credit_available": credits.get(contact.id, (0.0, 0.0))[0],
                "credit_due": credits.get(contact.id, (0.0, 0.0))[1],
                "credit_pos_lots": lots.get(contact.commercial_partner_id.id, []),
            }
            for contact in contacts
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

    # ------------------------------------------------------------------
    # Credit top-up at the till
    # ------------------------------------------------------------------

    def _compute_credit_topup_product_id(self):
        product = self._customer_credit_topup_product()
        for config in self:
            config.credit_topup_product_id = product

    @api.model
    def _customer_credit_topup_product(self):
        return (
            self.env.ref("customer_credit.product_credit_topup", raise_if_not_found=False)
            or self.env["product.product"]
        )

    def _get_special_products(self):
        """The Credit top-up product is loaded in every till but never shown in the product grid."""
        return super()._get_special_products() | self._customer_credit_topup_product().sudo()

    def _get_available_product_domain(self):
        # loaded even when the till shows only some categories
        domain = super()._get_available_product_domain()
        product = self._customer_credit_topup_product()
        return expression.OR([domain, [("id", "=", product.id)]]) if product else domain
