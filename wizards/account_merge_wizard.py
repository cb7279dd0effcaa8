from odoo import api, models
from odoo.exceptions import UserError


class AccountMergeWizard(models.TransientModel):
    _inherit = "account.merge.wizard"

    def action_merge(self):
        # before any group is merged, so nothing is half done; the groups as Odoo merges them
        to_merge = self.env["account.account"]
        for wizard in self:
            selected = wizard.wizard_line_ids.filtered(
                lambda line: line.display_type == "account" and line.is_selected and not line.info
            )
            for group in selected.grouped("grouping_key").values():
                if len(group) > 1:
                    to_merge |= group.account_id
        self._check_no_customer_credit_account(to_merge)
        return super().action_merge()

    @api.model
    def _action_merge(self, accounts):
        self._check_no_customer_credit_account(accounts)
        return super()._action_merge(accounts)

    @api.model
    def _check_no_customer_credit_account(self, accounts):
        """Merging would move other accounts' items onto Customer Credit, or its items elsewhere."""
        credit = accounts.sudo() & self.env["res.company"]._customer_credit_accounts()
        if credit:
            raise UserError(
                self.env._(
                    "%s is a Customer Credit account: it only moves with credit movements and cannot be merged "
                    "with another account.",
                    ", ".join(credit.mapped("display_name")),
                )
            )
