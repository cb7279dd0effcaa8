from odoo import models


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _action_send_mail(self, auto_commit=False):
        """A credit reminder sent by hand is logged, so the daily job does not send that level again."""
        mails, messages = super()._action_send_mail(auto_commit=auto_commit)
        if self.env.context.get("credit_reminder_manual"):
            for composer in self:
                own = messages.filtered_domain(
                    [("model", "=", composer.model), ("res_id", "in", composer._evaluate_res_ids())]
                )
                self.env["customer.credit.due"]._log_manual_reminders(composer, own)
        return mails, messages
