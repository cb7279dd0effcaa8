from odoo import fields, models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    is_credit_journal = fields.Boolean(
        string="Customer Credit Journal",
        help="Journal holding the entries of customer credit movements.",
    )
