from odoo import api, fields, models
from odoo.addons.payment import utils as payment_utils

CREDIT_CODE = "customer_credit"


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    code = fields.Selection(selection_add=[(CREDIT_CODE, "Customer Credit")], ondelete={CREDIT_CODE: "set default"})

    @api.model
    def _get_compatible_providers(self, company_id, partner_id, amount, currency_id=None, report=None, **kwargs):
        """Offer "Customer Credit" only to a logged-in customer paying a sales order (a cart) in the
        company's currency, whose credit covers the order."""
        providers = super()._get_compatible_providers(
            company_id, partner_id, amount, currency_id=currency_id, report=report, **kwargs
        )
        credit_providers = providers.filtered(lambda provider: provider.code == CREDIT_CODE)
        if not credit_providers:
            return providers
        reason = None
        company = self.env["res.company"].browse(company_id)
        partner = self.env["res.partner"].browse(partner_id).exists()
        order = self.env["sale.order"].sudo().browse(kwargs.get("sale_order_id") or []).exists()
        user = self.env.user
        if user._is_public() or not partner or partner.commercial_partner_id != user.commercial_partner_id:
            reason = self.env._("Only a logged-in customer can pay with their own credit.")
        elif not order or kwargs.get("is_validation") or kwargs.get("customer_credit_topup"):
            reason = self.env._("Credit pays sales orders only.")
        elif order.partner_id.commercial_partner_id != partner.commercial_partner_id:
            reason = self.env._("The order belongs to another customer.")
        elif (currency_id and currency_id != company.currency_id.id) or order.currency_id != company.currency_id:
            reason = self.env._("Credit is kept in %s.", company.currency_id.name)
        elif company.currency_id.compare_amounts(order._customer_credit_payable(amount)[0], amount) < 0:
            reason = self.env._("The available credit does not cover the order.")
        if reason:
            providers -= credit_providers
            payment_utils.add_to_report(report, credit_providers, available=False, reason=reason)
        return providers

    def _customer_credit_available(self, partner):
        """What ``partner`` (the logged-in customer) may spend in generic credit now, in the company
        of the provider: shown beside the provider at checkout."""
        self.ensure_one()
        commercial = partner.commercial_partner_id
        if not commercial or partner.env.user._is_public():
            return 0.0
        return self.env["customer.credit.service"].sudo()._get_balances(commercial, self.company_id)["available"]

    @api.model
    def _setup_payment_method(self, code):
        """No ``account.payment.method`` for credit: paying with credit never makes an
        ``account.payment`` (the credit service posts the entry)."""
        if code == CREDIT_CODE:
            return
        return super()._setup_payment_method(code)

    def _get_default_payment_method_codes(self):
        default_codes = super()._get_default_payment_method_codes()
        if self.code != CREDIT_CODE:
            return default_codes
        return {CREDIT_CODE}
