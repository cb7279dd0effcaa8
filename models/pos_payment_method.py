from odoo import api, fields, models


class PosPaymentMethod(models.Model):
    _inherit = "pos.payment.method"

    is_credit_method = fields.Boolean(
        string="Customer Credit",
        help="Payments with this method are paid from the customer's prepaid credit balance.",
    )

    @api.model
    def _load_pos_data_fields(self, config_id):
        fields_list = super()._load_pos_data_fields(config_id)
        if fields_list:
            fields_list.append("is_credit_method")
        return fields_list
