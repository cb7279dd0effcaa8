from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _customer_credit_product_amounts(self):
        """``{product: amount}`` of the order lines, for the product-specific credit lots."""
        self.ensure_one()
        amounts = {}
        for line in self.order_line.filtered(lambda line: line.product_id and not line.display_type):
            if self.currency_id.compare_amounts(line.price_total, 0.0) > 0:
                amounts[line.product_id] = self.currency_id.round(amounts.get(line.product_id, 0.0) + line.price_total)
        return amounts

    def _customer_credit_payable(self, amount):
        """How much of ``amount`` the customer's credit can pay on this order now: the generic
        credit available (overdraft room included, held amounts excluded) plus the lots bound to
        the ordered products, each at most what its product costs in the order. Returns
        ``(payable, product_amounts)``."""
        self.ensure_one()
        order = self.sudo()
        company, partner = order.company_id, order.partner_id.commercial_partner_id
        service = self.env["customer.credit.service"].sudo()
        product_amounts = order._customer_credit_product_amounts()
        payable = service._get_balances(partner, company)["available"]
        lots = service._usable_lots(
            partner, company, self.env["product.product"].browse([product.id for product in product_amounts])
        ).filtered(lambda lot: lot.credit_type == "product")
        for product, cap in product_amounts.items():
            held = sum(lots.filtered(lambda lot, product=product: lot.product_id == product).mapped("balance"))
            payable += min(cap, held)
        return min(company.currency_id.round(payable), amount), product_amounts
