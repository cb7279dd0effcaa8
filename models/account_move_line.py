from odoo import models
from odoo.exceptions import UserError

from .customer_credit_service import is_service_env

# What makes a posted journal item count in an account balance, per partner.
BALANCE_FIELDS = {"account_id", "partner_id", "debit", "credit", "balance", "amount_currency", "company_id"}


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def write(self, vals):
        if BALANCE_FIELDS.intersection(vals) and not is_service_env(self.env):
            accounts = self.env["res.company"]._customer_credit_accounts()
            posted = self.filtered(lambda line: line.parent_state == "posted")
            new_account = vals.get("account_id")
            if posted and (posted.filtered(lambda line: line.account_id in accounts) or new_account in accounts.ids):
                raise UserError(
                    self.env._(
                        "Posted journal items of the Customer Credit account cannot be changed: "
                        "correct the credit with a credit movement instead."
                    )
                )
        return super().write(vals)
