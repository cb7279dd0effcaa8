from odoo import fields, models


class CustomerCreditReminder(models.Model):
    """Log of the reminders sent to overdrawn customers: one line per level reached in a due period
    (the period starts with the movement after which the balance stayed negative)."""

    _name = "customer.credit.reminder"
    _description = "Customer Credit Reminder"
    _order = "date desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    level_id = fields.Many2one("customer.credit.reminder.level", required=True, readonly=True, ondelete="restrict")
    period_line_id = fields.Many2one(
        "customer.credit.line",
        string="Due Since Movement",
        required=True,
        readonly=True,
        index=True,
        help="The movement after which the balance stayed negative: it identifies the due period.",
    )
    date = fields.Datetime(readonly=True, default=fields.Datetime.now)
    due_since = fields.Date(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_due = fields.Monetary(readonly=True)
    channel = fields.Selection(
        [("mail", "E-mail"), ("activity", "Activity (no e-mail)")], required=True, readonly=True, default="mail"
    )
    manual = fields.Boolean(readonly=True, help="Sent by a user, not by the daily reminder job.")
    message_id = fields.Many2one("mail.message", readonly=True, ondelete="set null")
    user_id = fields.Many2one("res.users", string="Sent By", readonly=True, default=lambda self: self.env.user)

    def init(self):
        # the daily job reaches each level once per due period (manual sends may repeat a level)
        self.env.cr.execute(
            """CREATE UNIQUE INDEX IF NOT EXISTS customer_credit_reminder_level_once
                   ON customer_credit_reminder (period_line_id, level_id) WHERE manual IS NOT TRUE"""
        )
