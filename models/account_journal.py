from odoo import api, fields, models

from .customer_credit_guard import account_fields, check_no_credit_account


class AccountJournal(models.Model):
    _inherit = "account.journal"

    is_credit_journal = fields.Boolean(
        string="Customer Credit Journal",
        help="Journal holding the entries of customer credit movements.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            accounts = {fname: vals[fname] for fname in account_fields(self) if fname in vals}
            self._check_no_credit_account(accounts, vals.get("name") or "", vals, company)
        return super().create(vals_list)

    def write(self, vals):
        fnames = [*account_fields(self), "is_credit_journal", "type", "company_id"]
        if any(fname in vals for fname in fnames):
            for journal in self:
                after = {fname: vals[fname] if fname in vals else journal[fname].id for fname in account_fields(self)}
                flags = {
                    "is_credit_journal": vals.get("is_credit_journal", journal.is_credit_journal),
                    "type": vals.get("type", journal.type),
                }
                company = self.env["res.company"].browse(vals.get("company_id", journal.company_id.id))
                # only the accounts written, or all of them when what allows the default account changes
                if not {"is_credit_journal", "type", "company_id"}.intersection(vals):
                    after = {fname: value for fname, value in after.items() if fname in vals}
                self._check_no_credit_account(after, journal.display_name, flags, company)
        return super().write(vals)

    @api.model
    def _check_no_credit_account(self, accounts, label, flags, company):
        """A journal posts by itself on its accounts (liquidity lines, suspense, cash differences): none of
        them may be Customer Credit, except the default account of the company's Customer Credit journal."""
        allowed = ()
        if (
            flags.get("is_credit_journal")
            and flags.get("type") == "general"
            and accounts.get("default_account_id")
            and accounts["default_account_id"] == company.sudo().credit_account_id.id
        ):
            allowed = ("default_account_id",)
        check_no_credit_account(
            self, accounts, self.env._("the journal %s", label), fnames=list(accounts), allowed=allowed
        )
