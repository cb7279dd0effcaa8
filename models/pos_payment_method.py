from odoo import api, fields, models
from odoo.exceptions import ValidationError


class PosPaymentMethod(models.Model):
    _inherit = "pos.payment.method"

    is_credit_method = fields.Boolean(
        string="Customer Credit",
        help="Payments with this method are paid from the customer's prepaid credit balance.",
    )

    @api.constrains("receivable_account_id", "outstanding_account_id")
    def _check_receivable_not_customer_credit(self):
        """Session closing posts on these accounts by itself: never on Customer Credit (only the service does)."""
        credit = self.env["res.company"]._customer_credit_accounts()
        for method in self.filtered(
            lambda method: (method.receivable_account_id | method.outstanding_account_id) & credit
        ):
            raise ValidationError(
                self.env._(
                    "The Customer Credit account cannot be the intermediary or outstanding account of the payment "
                    "method %s: only credit movements post on it.",
                    method.name,
                )
            )

    @api.constrains("is_credit_method", "journal_id", "split_transactions", "receivable_account_id", "company_id")
    def _check_credit_method_setup(self):
        """A credit method is a pay-later method booked on the Customer Credit journal, not split,
        whose intermediary account is the company's POS Credit Clearing account (ACCOUNTING.md,
        "POS scheme")."""
        for method in self.filtered("is_credit_method"):
            company = method.company_id or self.env.company
            if not company.credit_journal_id or not company.credit_clearing_account_id:
                company.sudo()._customer_credit_setup_accounting()
            journal, clearing = company.credit_journal_id, company.credit_clearing_account_id
            problems = []
            if method.journal_id != journal:
                problems.append(self.env._("Journal: %s", journal.display_name))
            if method.split_transactions:
                problems.append(self.env._("Identify Customer: off"))
            if method.receivable_account_id != clearing:
                problems.append(self.env._("Intermediary Account: %s", clearing.display_name))
            if problems:
                raise ValidationError(
                    self.env._(
                        "The customer credit payment method %(method)s is not set up correctly. Set:\n%(fixes)s",
                        method=method.name,
                        fixes="\n".join(f"- {problem}" for problem in problems),
                    )
                )

    @api.onchange("is_credit_method")
    def _onchange_is_credit_method(self):
        for method in self.filtered("is_credit_method"):
            company = method.company_id or self.env.company
            method.journal_id = company.credit_journal_id
            method.receivable_account_id = company.credit_clearing_account_id
            method.split_transactions = False

    @api.onchange("journal_id")
    def _onchange_journal_id(self):
        # Odoo refuses journals other than cash/bank in the form; the credit method's journal is the
        # Customer Credit journal (a general journal, so Odoo computes the method as pay-later).
        credit = self.filtered(lambda method: method.is_credit_method and method.journal_id.is_credit_journal)
        return super(PosPaymentMethod, self - credit)._onchange_journal_id()

    @api.model
    def _load_pos_data_fields(self, config_id):
        fields_list = super()._load_pos_data_fields(config_id)
        if fields_list:
            fields_list.append("is_credit_method")
        return fields_list
