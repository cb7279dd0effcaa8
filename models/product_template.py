from odoo import api, models

from .customer_credit_guard import check_no_credit_account


class ProductTemplate(models.Model):
    _inherit = "product.template"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_no_credit_account(self, vals, self.env._("the product %s", vals.get("name") or ""))
        return super().create(vals_list)

    def write(self, vals):
        check_no_credit_account(self, vals, self.env._("the product %s", ", ".join(self.mapped("display_name"))))
        return super().write(vals)
