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
        rows = (
            self.env["customer.credit.service"].sudo()._available_credit_rows(partners.ids, company, of_commercial=True)
        )
        lots = self.env["res.partner"].sudo()._customer_credit_pos_lots({row[1] for row in rows}, company)
        payload = [
            {
                "id": partner_id,
                "credit_available": available,
                "credit_due": due,
                "credit_pos_lots": lots.get(commercial_id, []),
            }
            for partner_id, commercial_id, available, due in rows
        ]
        for config in self:
            config._notify("CUSTOMER_CREDIT", payload)

    def _customer_credit_open_configs(self, company):
        """The points of sale of ``company`` with a session not closed (one query)."""
        self.env["pos.session"].flush_model(["state", "config_id"])
        self.env.cr.execute(
            """SELECT DISTINCT s.config_id FROM pos_session s JOIN pos_config c ON c.id = s.config_id
                WHERE s.state != 'closed' AND c.company_id = %s""",
            (company.id,),
        )
        return self.sudo().browse([row[0] for row in self.env.cr.fetchall()])

    # ------------------------------------------------------------------
    # Credit top-up at the till
    # ------------------------------------------------------------------

    def _compute_credit_topup_product_id(self):
        product = self._customer_credit_topup_product()
        for config in self:
            config.credit_topup_product_id = product

    @api.model
    def _customer_credit_topup_product(self):
        """The Credit top-up product, from its cached xml id (``env.ref`` would read the product at
        each call: a session close asks once per order)."""
        product_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "customer_credit.product_credit_topup", raise_if_not_found=False
        )
        return self.env["product.product"].browse(product_id or ())

    def _get_special_products(self):
        """The Credit top-up product is loaded in every till but never shown in the product grid."""
        return super()._get_special_products() | self._customer_credit_topup_product().sudo()

    def _get_available_product_domain(self):
        # loaded even when the till shows only some categories
        domain = super()._get_available_product_domain()
        product = self._customer_credit_topup_product()
        return expression.OR([domain, [("id", "=", product.id)]]) if product else domain
