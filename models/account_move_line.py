from odoo import api, models
from odoo.exceptions import UserError

from .customer_credit_service import is_service_env

# What makes a journal item count in an account balance, per partner.
# (``move_id`` too: moving posted items into a draft entry would take them out of the books)
BALANCE_FIELDS = {"account_id", "partner_id", "debit", "credit", "balance", "amount_currency", "company_id", "move_id"}


def credit_account_error(env):
    """The refusal of any entry on the Customer Credit account made outside the credit service."""
    return UserError(
        env._(
            "The Customer Credit account only moves with credit movements (top-up, payment, refund, "
            "withdrawal, adjustment, transfer, expiry): use them instead of a manual entry."
        )
    )


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    @api.model_create_multi
    def create(self, vals_list):
        """Journal items on the Customer Credit account are made by the credit service only, in any
        state and however they come (``line_ids`` commands, ``skip_readonly_check``, sudo)."""
        if is_service_env(self.env):
            return super().create(vals_list)
        accounts = self.env["res.company"]._customer_credit_accounts()
        if not accounts:
            return super().create(vals_list)
        for vals in vals_list:
            journal = self.env["account.move"].browse(vals.get("move_id")).journal_id
            self._check_customer_credit_create(vals, journal, accounts)
        lines = super().create(vals_list)
        # any other way Odoo computes an account (fiscal positions, products, taxes...): the transaction is
        # rolled back by the refusal
        if lines.account_id & accounts:
            raise credit_account_error(self.env)
        return lines

    def _customer_credit_reconcile_open(self, accounts=None):
        """Reconcile the open items of ``self``, account by account (only ``accounts``, if given), where
        they have both debits and credits: how every credit movement is matched with what it settles
        (an invoice, a closing entry)."""
        for account in self.account_id if accounts is None else accounts:
            lines = self.filtered(lambda line, account=account: line.account_id == account and not line.reconciled)
            if lines.filtered("debit") and lines.filtered("credit"):
                lines.reconcile()

    def write(self, vals):
        self._check_customer_credit_write(vals)
        return super().write(vals)

    def unlink(self):
        # checked before Odoo logs the deletion in the entry's chatter, and whatever the context says
        # (``force_delete`` skips Odoo's own check of posted items)
        self._check_customer_credit_unlink()
        return super().unlink()

    def _check_customer_credit_unlink(self):
        """Posted items of the account are never deleted; draft ones only by the service, the only one
        that makes them."""
        accounts = self.env["res.company"]._customer_credit_accounts()
        service = is_service_env(self.env)
        if self.filtered(lambda line: line.account_id in accounts and (line.move_id.state == "posted" or not service)):
            raise UserError(
                self.env._(
                    "Posted entries of customer credit are never deleted: correct the credit with a new "
                    "movement (cancel, adjustment or refund)."
                )
            )

    @api.model
    def _check_customer_credit_create(self, vals, journal, accounts=None):
        """Refuse a new item (``vals``, in an entry of ``journal``) on the Customer Credit account
        (``accounts``: the Customer Credit accounts, when the caller has them)."""
        if is_service_env(self.env):
            return
        if accounts is None:
            accounts = self.env["res.company"]._customer_credit_accounts()
        account_id = vals.get("account_id")
        if account_id in accounts.ids:
            raise credit_account_error(self.env)
        # without an account, Odoo takes the journal's default one, which is Customer Credit for its journal
        if (
            not account_id
            and vals.get("display_type") not in ("line_section", "line_note")
            and journal.default_account_id in accounts
        ):
            raise credit_account_error(self.env)

    def _check_customer_credit_write(self, vals, accounts=None):
        if not BALANCE_FIELDS.intersection(vals) or is_service_env(self.env):
            return
        if accounts is None:
            accounts = self.env["res.company"]._customer_credit_accounts()
        new_account = vals.get("account_id")
        # nor is a draft item moved onto the account: posting it would bypass the ledger
        moved_onto = new_account in accounts.ids and self.filtered(lambda line: line.account_id.id != new_account)
        if moved_onto or self.filtered(lambda line: line.account_id in accounts):
            raise UserError(
                self.env._(
                    "Journal items of the Customer Credit account cannot be changed, nor other items moved "
                    "onto it: correct the credit with a credit movement instead."
                )
            )
