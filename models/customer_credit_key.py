from odoo import fields, models


class CustomerCreditKey(models.Model):
    """Idempotency keys of credit movements: a caller that retries with the same key (a POS
    payment, a payment transaction, an order line, a string) gets the first movement back."""

    _name = "customer.credit.key"
    _description = "Customer Credit Idempotency Key"
    _log_access = True

    name = fields.Char(string="Key", required=True, readonly=True)
    kind = fields.Char(required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    operation_ref = fields.Char(string="Operation", required=True, readonly=True, index=True)

    _sql_constraints = [
        (
            "key_uniq",
            "unique(company_id, kind, name)",
            "A credit movement with this key has already been recorded.",
        ),
    ]
