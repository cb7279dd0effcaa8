from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    credit_account_id = fields.Many2one(related="company_id.credit_account_id", readonly=False)
    credit_journal_id = fields.Many2one(related="company_id.credit_journal_id", readonly=False)
    credit_clearing_account_id = fields.Many2one(related="company_id.credit_clearing_account_id", readonly=False)
    credit_invoice_clearing_account_id = fields.Many2one(
        related="company_id.credit_invoice_clearing_account_id", readonly=False
    )
    credit_topup_clearing_account_id = fields.Many2one(
        related="company_id.credit_topup_clearing_account_id", readonly=False
    )
    pos_credit_invoice_mode = fields.Selection(related="pos_config_id.credit_invoice_mode", readonly=False)
    pos_credit_cashier_pay_out = fields.Boolean(related="pos_config_id.credit_cashier_pay_out", readonly=False)
    credit_breakage_account_id = fields.Many2one(related="company_id.credit_breakage_account_id", readonly=False)
    credit_granted_account_id = fields.Many2one(related="company_id.credit_granted_account_id", readonly=False)
    credit_send_mail = fields.Boolean(related="company_id.credit_send_mail", readonly=False)
    credit_overdraft_limit = fields.Monetary(related="company_id.credit_overdraft_limit", readonly=False)
    credit_validity_months = fields.Integer(related="company_id.credit_validity_months", readonly=False)
    credit_topup_min = fields.Monetary(related="company_id.credit_topup_min", readonly=False)
    credit_topup_max = fields.Monetary(related="company_id.credit_topup_max", readonly=False)
    credit_withdrawal_auto_limit = fields.Monetary(related="company_id.credit_withdrawal_auto_limit", readonly=False)
    credit_withdrawal_journal_id = fields.Many2one(related="company_id.credit_withdrawal_journal_id", readonly=False)
