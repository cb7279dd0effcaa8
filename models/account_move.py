from odoo import Command, api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .account_move_line import credit_account_error
from .customer_credit_service import is_service_env

CREDIT_MOVE_SEQUENCE = "customer_credit_move_seq"


class AccountMove(models.Model):
    _inherit = "account.move"

    def init(self):
        res = super().init()
        # entries of the Customer Credit journals are numbered from one database sequence: taking a number
        # never waits for another transaction (Odoo's own numbering takes max + 1 and waits on the unique
        # index of names while a concurrent posting in the same journal is not committed yet)
        self.env.cr.execute(SQL("CREATE SEQUENCE IF NOT EXISTS %s", SQL.identifier(CREDIT_MOVE_SEQUENCE)))
        return res

    @api.model
    def _customer_credit_next_name(self, journal, date, code=None):
        """``(name, prefix, number)`` of the next entry of the Customer Credit ``journal`` at ``date``: the
        journal's code (``code`` when the caller has read it), the year, and a number that only grows (a
        rolled-back posting leaves a gap)."""
        self.env.cr.execute("SELECT nextval(%s)", (CREDIT_MOVE_SEQUENCE,))
        number = self.env.cr.fetchone()[0]
        prefix = f"{code or journal.code}/{date.year}/"
        return f"{prefix}{number:06d}", prefix, number

    def _set_next_sequence(self):
        self.ensure_one()
        if not self.journal_id.is_credit_journal:
            return super()._set_next_sequence()
        name, _prefix, _number = self._customer_credit_next_name(self.journal_id, self.date)
        self.flush_recordset()
        self[self._sequence_field] = name
        self._compute_split_sequence()
        self.flush_recordset(["name", "sequence_prefix", "sequence_number"])
        return None

    def _compute_show_reset_to_draft_button(self):
        res = super()._compute_show_reset_to_draft_button()
        accounts = self.env["res.company"]._customer_credit_accounts()
        for move in self.filtered("show_reset_to_draft_button"):
            if move.line_ids.account_id & accounts:
                move.show_reset_to_draft_button = False
        return res

    def action_pay_with_credit(self):
        """Open the credit wizard to pay this customer invoice from the customer's credit."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Pay with Credit"),
            "res_model": "customer.credit.operation.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_operation": "spend",
                "default_invoice_id": self.id,
                "default_partner_id": self.commercial_partner_id.id,
                "default_company_id": self.company_id.id,
            },
        }

    def _customer_credit_lines(self):
        """Journal items of these entries on a Customer Credit account."""
        accounts = self.env["res.company"]._customer_credit_accounts()
        return self.line_ids.filtered(lambda line: line.account_id in accounts)

    @api.model_create_multi
    def create(self, vals_list):
        # before the entry is made: its items are refused one by one only once it exists
        for vals in vals_list:
            self._check_customer_credit_commands(vals, self.env["account.journal"].browse(vals.get("journal_id")))
        return super().create(vals_list)

    def write(self, vals):
        if "line_ids" in vals or "invoice_line_ids" in vals:
            for move in self:
                journal = self.env["account.journal"].browse(vals.get("journal_id", move.journal_id.id))
                move._check_customer_credit_commands(vals, journal)
        # a bare write of the state is no way around _post and button_draft
        if "state" in vals and not is_service_env(self.env):
            if vals["state"] == "posted":
                if self.filtered(lambda move: move.state != "posted")._customer_credit_lines():
                    raise credit_account_error(self.env)
            else:
                self.filtered(lambda move: move.state == "posted")._check_customer_credit_stays_posted()
        return super().write(vals)

    def unlink(self):
        # before Odoo's own unlink writes anything, and whatever the context says: ``force_delete`` makes
        # Odoo skip its checks of posted entries
        self.filtered(lambda move: move.state == "posted")._check_customer_credit_stays_posted()
        return super().unlink()

    def _post(self, soft=True):
        if not is_service_env(self.env) and self._customer_credit_lines():
            raise credit_account_error(self.env)
        posted = super()._post(soft=soft)
        # invoices of orders paid online with credit: settle them with that credit payment
        self.env["payment.transaction"].sudo()._customer_credit_reconcile_invoices(posted)
        return posted

    def _check_customer_credit_stays_posted(self):
        if self._customer_credit_lines():
            raise UserError(
                self.env._(
                    "Posted entries of customer credit are never deleted nor reset: correct the credit with a new "
                    "movement (cancel, adjustment or refund), which posts the reversal."
                )
            )

    def button_draft(self):
        if self._customer_credit_lines():
            raise UserError(
                self.env._(
                    "Entries of customer credit cannot be reset to draft: correct the credit with a new movement "
                    "(cancel, adjustment or refund), which posts the reversal."
                )
            )
        return super().button_draft()

    def _check_customer_credit_commands(self, vals, journal):
        """Refuse the item commands of ``vals`` (on this entry, or a new one in ``journal``) that would put an
        item on the Customer Credit account, change one, or delete a posted one: before anything is written."""
        if is_service_env(self.env) or not (vals.get("line_ids") or vals.get("invoice_line_ids")):
            return
        Line = self.env["account.move.line"]
        accounts = self.env["res.company"]._customer_credit_accounts()
        for fname in ("line_ids", "invoice_line_ids"):
            for command in vals.get(fname) or []:
                if not isinstance(command, list | tuple) or not command:
                    continue
                if command[0] == Command.CREATE:
                    Line._check_customer_credit_create(command[2] or {}, journal, accounts)
                elif command[0] == Command.UPDATE:
                    Line.browse(command[1])._check_customer_credit_write(command[2] or {}, accounts)
                elif command[0] in (Command.DELETE, Command.UNLINK):
                    Line.browse(command[1])._check_customer_credit_unlink()
                elif command[0] == Command.CLEAR:
                    self.line_ids._check_customer_credit_unlink()
                elif command[0] == Command.SET:
                    (self.line_ids - Line.browse(command[2]))._check_customer_credit_unlink()
                    (Line.browse(command[2]) - self.line_ids)._check_customer_credit_write(
                        {"move_id": self.id}, accounts
                    )
                elif command[0] == Command.LINK:
                    Line.browse(command[1])._check_customer_credit_write({"move_id": self.id}, accounts)
