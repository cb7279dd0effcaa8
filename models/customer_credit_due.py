import logging
from datetime import timedelta

import psycopg2

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY
from odoo.tools import format_amount

_logger = logging.getLogger(__name__)


class CustomerCreditDue(models.Model):
    """Who owes what: one row per customer and company whose credit balance is negative.

    The amount due is the open overdraft (the ledger lines without lot). The due period starts with
    the movement after which that running balance stayed negative; the row's id is that movement's,
    so a customer who settles and overdraws again starts a new period (and the reminders anew).
    """

    _name = "customer.credit.due"
    _description = "Customer Credit Due"
    _auto = False
    _order = "due_since, id"
    _rec_name = "partner_id"
    _check_company_auto = True

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_due = fields.Monetary(readonly=True)
    due_since = fields.Date(readonly=True, help="Date of the movement after which the balance stayed negative.")
    period_line_id = fields.Many2one("customer.credit.line", string="Due Since Movement", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    last_reminder_id = fields.Many2one("customer.credit.reminder", string="Last Reminder Sent", readonly=True)
    last_level_id = fields.Many2one("customer.credit.reminder.level", string="Last Reminder", readonly=True)
    last_reminder_date = fields.Datetime(string="Last Reminder On", readonly=True)
    reminder_count = fields.Integer(string="Reminders", readonly=True)
    email = fields.Char(related="partner_id.email")
    days_due = fields.Integer(compute="_compute_days_due")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE OR REPLACE VIEW {self._table} AS (
                WITH running AS (
                    SELECT l.id, l.partner_id, l.company_id, l.currency_id, l.date, l.amount,
                           SUM(l.amount) OVER (PARTITION BY l.partner_id, l.company_id ORDER BY l.id) AS balance
                      FROM customer_credit_line l
                     WHERE l.lot_id IS NULL
                ), totals AS (
                    SELECT partner_id, company_id, SUM(amount) AS balance,
                           MAX(id) FILTER (WHERE balance >= 0) AS settled_id
                      FROM running
                  GROUP BY partner_id, company_id
                ), due AS (
                    SELECT DISTINCT ON (r.partner_id, r.company_id)
                           r.id, r.partner_id, r.company_id, r.currency_id, r.date, t.balance
                      FROM running r
                      JOIN totals t ON t.partner_id = r.partner_id AND t.company_id = r.company_id
                     WHERE t.balance < 0 AND r.id > COALESCE(t.settled_id, 0)
                  ORDER BY r.partner_id, r.company_id, r.id
                )
                SELECT d.id, d.id AS period_line_id, d.partner_id, d.company_id, d.currency_id,
                       -d.balance AS amount_due, d.date::date AS due_since, p.user_id,
                       last.id AS last_reminder_id, last.level_id AS last_level_id, last.date AS last_reminder_date,
                       (SELECT COUNT(*) FROM customer_credit_reminder c WHERE c.period_line_id = d.id) AS reminder_count
                  FROM due d
                  JOIN res_partner p ON p.id = d.partner_id
             LEFT JOIN LATERAL (
                        SELECT r.id, r.level_id, r.date FROM customer_credit_reminder r
                         WHERE r.period_line_id = d.id ORDER BY r.id DESC LIMIT 1
                       ) last ON TRUE
            )
            """
        )

    @api.depends("due_since")
    @api.depends_context("tz")
    def _compute_days_due(self):
        today = fields.Date.context_today(self)
        for due in self:
            due.days_due = (today - due.due_since).days if due.due_since else 0

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_send_reminder(self):
        """Open Odoo's mail composer on the customers, with the template of their next reminder level
        (the user may pick another one in the composer) and their credit statement attached (rendered
        per customer when several are sent at once)."""
        if not self:
            raise UserError(self.env._("Select the customers to remind."))
        company = self.company_id
        if len(company) > 1:
            raise UserError(self.env._("Remind the customers of one company at a time."))
        if company != self.env.company:
            raise UserError(self.env._("Switch to the company %s to remind its customers.", company.name))
        # several customers: the lowest level one of them has not reached, so nobody skips a level
        level = min((due._manual_level() for due in self), key=lambda level: (level.delay, level.sequence, level.id))
        if not level:
            raise UserError(
                self.env._("Set up the reminder levels of %s in the Customer Credit settings first.", company.name)
            )
        partners = self.partner_id
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Send Credit Reminder"),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": "res.partner",
                "default_res_ids": partners.ids,
                "default_template_id": level.mail_template_id.id,
                "default_composition_mode": "comment",
                "credit_reminder": True,
                "credit_reminder_manual": True,
            },
        }

    @api.model
    def _action_remind_partners(self, partners):
        """Manual send from customers (form or list): their dues in the current company."""
        dues = self.search(
            [("partner_id", "in", partners.commercial_partner_id.ids), ("company_id", "=", self.env.company.id)]
        )
        if not dues:
            raise UserError(
                self.env._(
                    "%(partners)s owes nothing in %(company)s.",
                    partners=", ".join(partners.mapped("display_name")),
                    company=self.env.company.name,
                )
            )
        return dues.action_send_reminder()

    # ------------------------------------------------------------------
    # The daily job
    # ------------------------------------------------------------------

    @api.model
    def _cron_send_reminders(self, batch_size=100):
        """Send up to ``batch_size`` due reminders (safe to run again).

        Each overdrawn customer gets, once per due period, the highest level whose delay has passed and
        that was not reached yet; nothing once the balance is back to zero or more. A customer without
        e-mail gets an activity for the salesperson or a credit manager instead, and is reported. A
        customer whose reminder fails is logged and skipped; the cron is told what remains, so Odoo
        runs it again at once until nothing is left (``ir.cron._run_job``).
        """
        Due = self.sudo()
        today = fields.Date.context_today(self)
        counts = {"mail": 0, "activity": 0, "failed": 0}
        failed, done = [], 0
        while done < batch_size:
            pending = Due._pending_reminders(today, exclude=failed, limit=batch_size - done)
            if not pending:
                break
            for due, level in pending:
                try:
                    with self.env.cr.savepoint():
                        reminder = due._send_reminder(level)
                    counts[reminder.channel] += 1
                    done += 1
                except Exception as error:  # one customer must not hold back the others
                    if isinstance(error, psycopg2.Error) and error.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY:
                        raise
                    _logger.warning("Credit reminder to %s failed: %s", due.partner_id.display_name, error)
                    failed.append(due.id)
                    counts["failed"] += 1
        remaining = len(Due._pending_reminders(today, exclude=failed))
        if counts["activity"]:
            _logger.warning(
                "Credit reminders: %s overdrawn customers have no e-mail; activities were scheduled instead.",
                counts["activity"],
            )
        _logger.info("Credit reminders: %(mail)s mailed, %(activity)s without e-mail, %(failed)s failed", counts)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return counts

    @api.model
    def _pending_reminders(self, today, exclude=(), limit=None):
        """``[(due, level)]``: the dues whose next level is reached on ``today``, oldest first."""
        self.env.flush_all()
        self.env["customer.credit.due"].invalidate_model()  # a view over the ledger and the reminders
        levels = self.env["customer.credit.reminder.level"].sudo().search([("active", "=", True)])
        if not levels:
            return []
        first_delay = min(levels.mapped("delay"))
        dues = self.sudo().search(
            [
                ("company_id", "in", levels.company_id.ids),
                ("due_since", "<=", today - timedelta(days=first_delay)),
                ("id", "not in", list(exclude)),
            ]
        )
        sent = dues._sent_levels()
        pending = []
        for due in dues:
            company_levels = levels.filtered(lambda level, due=due: level.company_id == due.company_id)
            level = due._next_level(company_levels, sent.get(due.id), today)
            if level:
                pending.append((due, level))
                if limit and len(pending) >= limit:
                    break
        return pending

    def _sent_levels(self):
        """{due id: levels reached in its due period}"""
        groups = (
            self.env["customer.credit.reminder"]
            .sudo()
            ._read_group([("period_line_id", "in", self.ids)], ["period_line_id", "level_id"])
        )
        sent = {}
        for line, level in groups:
            sent[line.id] = sent.get(line.id, level.browse()) | level
        return sent

    def _next_level(self, levels, sent_levels, today):
        """The highest level of ``levels`` due on ``today`` and beyond the ones already reached."""
        self.ensure_one()
        days = (today - self.due_since).days
        reached = max((sent_levels or levels.browse()).mapped("delay"), default=-1)
        due_levels = levels.filtered(lambda level: reached < level.delay <= days)
        return due_levels.sorted(lambda level: (level.delay, level.sequence, level.id))[-1:]

    def _manual_level(self):
        """The level a manual reminder proposes: the first not reached yet, else the last one."""
        self.ensure_one()
        levels = self.env["customer.credit.reminder.level"].search([("company_id", "=", self.company_id.id)])
        reached = max((self._sent_levels().get(self.id) or levels.browse()).mapped("delay"), default=-1)
        return levels.filtered(lambda level: level.delay > reached)[:1] or levels[-1:]

    def _send_reminder(self, level):
        """Mail ``level``'s template with the credit statement to the customer (or, without e-mail,
        schedule a call for the salesperson or a credit manager), and log the reminder."""
        self.ensure_one()
        company = self.company_id
        partner = self.partner_id.with_company(company)
        amount = format_amount(self.env, self.amount_due, self.currency_id)
        if partner.email:
            composer = (
                self.env["mail.compose.message"]
                .with_company(company)
                .with_context(credit_reminder=True)
                .create(
                    {
                        "composition_mode": "comment",
                        "model": "res.partner",
                        "res_ids": [partner.id],
                        "template_id": level.mail_template_id.id,
                        "force_send": False,  # the mail queue sends them, not the job
                    }
                )
            )
            __, messages = composer._action_send_mail()
            channel, message = "mail", messages[:1]
        else:
            user = level._activity_user(partner)
            partner.activity_schedule(
                activity_type_id=(level.activity_type_id or self.env.ref("mail.mail_activity_data_todo")).id,
                summary=self.env._("Remind %s of the amount due (no e-mail)", partner.display_name),
                note=self.env._(
                    "%(partner)s owes %(amount)s since %(date)s and has no e-mail address: the reminder "
                    "“%(level)s” could not be mailed. Please contact the customer.",
                    partner=partner.display_name,
                    amount=amount,
                    date=self.due_since,
                    level=level.name,
                ),
                user_id=user.id,
            )
            message = partner._message_log(
                body=self.env._(
                    "Credit reminder “%(level)s” (%(amount)s due) not mailed: no e-mail address. "
                    "An activity was scheduled for %(user)s.",
                    level=level.name,
                    amount=amount,
                    user=user.name,
                )
            )
            channel = "activity"
        if level.activity_type_id and channel == "mail":
            partner.activity_schedule(
                activity_type_id=level.activity_type_id.id,
                summary=level.activity_summary or level.name,
                note=self.env._("%(partner)s owes %(amount)s.", partner=partner.display_name, amount=amount),
                user_id=level._activity_user(partner).id,
            )
        return self._log_reminder(level, channel, message)

    def _log_reminder(self, level, channel, message, manual=False):
        self.ensure_one()
        return (
            self.env["customer.credit.reminder"]
            .sudo()
            .create(
                {
                    "partner_id": self.partner_id.id,
                    "company_id": self.company_id.id,
                    "level_id": level.id,
                    "period_line_id": self.id,
                    "due_since": self.due_since,
                    "currency_id": self.currency_id.id,
                    "amount_due": self.amount_due,
                    "channel": channel,
                    "manual": manual,
                    "message_id": message.id,
                }
            )
        )

    @api.model
    def _log_manual_reminders(self, composer, messages):
        """After a manual send through the mail composer: log the reminder of each customer mailed
        with a level's template of the current company, so the daily job does not repeat it."""
        company = self.env.company
        if composer.model != "res.partner" or not composer.template_id:
            return
        level = (
            self.env["customer.credit.reminder.level"]
            .sudo()
            .search([("company_id", "=", company.id), ("mail_template_id", "=", composer.template_id.id)], limit=1)
        )
        if not level:
            return
        for message in messages:
            due = self.sudo().search([("partner_id", "=", message.res_id), ("company_id", "=", company.id)])
            if due:
                due._log_reminder(level, "mail", message, manual=True)
