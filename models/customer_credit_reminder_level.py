from odoo import fields, models


class CustomerCreditReminderLevel(models.Model):
    """A step of the dunning of overdrawn customers: after ``delay`` days of a negative balance the
    customer gets the level's mail (with the credit statement), and optionally someone an activity."""

    _name = "customer.credit.reminder.level"
    _description = "Customer Credit Reminder Level"
    _order = "company_id, delay, sequence, id"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, ondelete="cascade"
    )
    delay = fields.Integer(
        string="Days Overdue",
        required=True,
        help="Days after the credit balance went negative when this reminder is sent.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        required=True,
        domain=[("model", "=", "res.partner")],
        help="Mail sent to the customer; attach the credit statement in its Attachments.",
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Activity",
        help="Also schedule this activity on the customer at this level.",
    )
    activity_user = fields.Selection(
        [("salesperson", "Salesperson"), ("manager", "Credit Manager")],
        string="Activity For",
        required=True,
        default="salesperson",
        help="Who gets the activity (and the call to make when the customer has no e-mail): the customer's "
        "salesperson (a credit manager if there is none) or a credit manager.",
    )
    activity_summary = fields.Char()

    _sql_constraints = [
        ("delay_positive", "CHECK(delay >= 0)", "The delay of a reminder level cannot be negative."),
        ("delay_uniq", "unique(company_id, delay)", "Two reminder levels of a company cannot have the same delay."),
    ]

    def _activity_user(self, partner):
        """The user who gets this level's activity (or the phone call) for ``partner``."""
        self.ensure_one()
        company = self.company_id
        salesperson = partner.user_id
        if (
            self.activity_user == "salesperson"
            and salesperson.active
            and not salesperson.share
            and company in salesperson.company_ids
        ):
            return salesperson
        return self.env["customer.credit.service"]._credit_manager(company)
