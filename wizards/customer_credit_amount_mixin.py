from odoo import api, models


class CustomerCreditAmountMixin(models.AbstractModel):
    """Amounts of the credit wizards checked as the service checks them, before Odoo stores them.

    Over RPC any value reaches ``create``/``write``: a NaN or an infinity makes Odoo's float rounding
    crash, text makes it fail on conversion, and 1e20 would be stored. They get the service's clear
    message instead (a number, finite, not too large, positive, no more decimals than the currency).
    """

    _name = "customer.credit.amount.mixin"
    _description = "Customer Credit Amount Checks"

    # amounts the user enters; other numbers of the wizard are shown only (related, read-only)
    _credit_amount_fields = ("amount",)

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [
            self._check_credit_amount_vals(dict(vals), self._credit_amount_currency(vals))
            if self._has_numbers(vals)
            else vals
            for vals in vals_list
        ]
        return super().create(vals_list)

    def write(self, vals):
        if self._has_numbers(vals):
            vals = dict(vals)
            for record in self:
                vals = self._check_credit_amount_vals(vals, record._credit_amount_currency(vals))
        return super().write(vals)

    def _has_numbers(self, vals):
        return any(fname in self._fields and self._fields[fname].type in ("float", "monetary") for fname in vals)

    def _credit_amount_currency(self, vals):
        """The currency of the amounts in ``vals`` (written on ``self``, or created)."""
        return self.env.company.currency_id

    @api.model
    def _check_credit_amount_vals(self, vals, currency):
        service = self.env["customer.credit.service"]
        for fname in list(vals):
            field = self._fields.get(fname)
            if field is None or field.type not in ("float", "monetary"):
                continue
            value = vals[fname]
            if fname in self._credit_amount_fields:
                vals[fname] = service._check_amount(value, currency)
                continue
            # shown only: Odoo ignores it on create and would only put it in the cache on write, so it is
            # dropped; garbage is refused like an amount
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or value:
                service._check_amount(abs(value) if number else value, currency)
            del vals[fname]
        return vals
