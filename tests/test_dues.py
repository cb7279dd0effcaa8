from datetime import datetime, timedelta

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import freeze_time, new_test_user, tagged

from .common import CustomerCreditCommon

D0 = datetime(2031, 3, 3, 9, 0)


@tagged("post_install", "-at_install")
class TestDues(CustomerCreditCommon):
    """Dues list and reminders of customers with a negative credit balance."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Due = cls.env["customer.credit.due"]
        cls.Reminder = cls.env["customer.credit.reminder"]
        Level = cls.env["customer.credit.reminder.level"]
        # the demo's overdrawn customers settle, so only the customers of these tests owe anything
        for due in cls.Due.search([("company_id", "=", cls.company.id)]):
            cls.service._topup(due.partner_id, due.amount_due, cls.cash_journal)
        cls.levels = Level.search([("company_id", "=", cls.company.id)])
        if not cls.levels:  # a database set up before the default levels
            cls.levels = Level.create(
                [
                    {"name": name, "delay": delay, "mail_template_id": cls.env.ref(xmlid).id}
                    for name, delay, xmlid in (
                        ("First reminder", 7, "customer_credit.mail_template_credit_reminder_1"),
                        ("Second reminder", 21, "customer_credit.mail_template_credit_reminder_2"),
                        ("Final reminder", 45, "customer_credit.mail_template_credit_reminder_3"),
                    )
                ]
            )
        cls.level1, cls.level2, cls.level3 = cls.levels.sorted("delay")
        cls.salesperson = new_test_user(cls.env, login="cc_dues_sales", groups="sales_team.group_sale_salesman")
        for partner in cls.partner_a | cls.partner_b | cls.partner_c:
            partner.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 500.0})
        cls.partner_c.user_id = cls.salesperson

    # ---- helpers -------------------------------------------------------

    def overdraw(self, partner, amount, day=0):
        with freeze_time(D0 + timedelta(days=day)):
            return self.service._spend(partner, amount, counterpart_account=self.clearing_account)

    def run_cron(self, day, batch_size=100):
        with freeze_time(D0 + timedelta(days=day, hours=1)):
            return self.Due._cron_send_reminders(batch_size=batch_size)

    def reminders(self, partner):
        return self.Reminder.search([("partner_id", "=", partner.id)], order="id")

    def due(self, partner, company=None):
        self.env.invalidate_all()
        return self.Due.search([("partner_id", "=", partner.id), ("company_id", "=", (company or self.company).id)])

    # ---- tests ---------------------------------------------------------

    def test_default_levels(self):
        self.assertEqual(self.levels.sorted("delay").mapped("delay"), [7, 21, 45])
        for level in self.levels:
            self.assertEqual(level.mail_template_id.model, "res.partner")
            self.assertIn(
                self.env.ref("customer_credit.action_report_customer_credit_statement"),
                level.mail_template_id.report_template_ids,
            )

    def test_dues_list_against_ledger(self):
        """Amount due and 'since' come from the ledger lines without lot."""
        with freeze_time(D0 - timedelta(days=10)):
            self.service._topup(self.partner_a, 20.0, self.cash_journal)
        self.overdraw(self.partner_a, 50.0, day=-8)  # 20 from the lot, 30 overdraft: negative since day -8
        self.overdraw(self.partner_a, 12.5, day=-3)  # still negative, same period
        with freeze_time(D0 - timedelta(days=2)):
            self.service._topup(self.partner_a, 10.0, self.cash_journal)  # partly settled, still negative
        self.overdraw(self.partner_b, 40.0, day=-20)
        with freeze_time(D0 - timedelta(days=15)):
            self.service._topup(self.partner_b, 40.0, self.cash_journal)  # settled
        self.overdraw(self.partner_b, 5.0, day=-1)  # a new due period
        self.env.flush_all()
        Line = self.env["customer.credit.line"]
        for partner, since in ((self.partner_a, -8), (self.partner_b, -1)):
            with self.subTest(partner=partner.name):
                due = self.due(partner)
                self.assertEqual(len(due), 1)
                ledger = Line.search([("partner_id", "=", partner.id), ("lot_id", "=", False)])
                self.assertAlmostEqual(due.amount_due, -sum(ledger.mapped("amount")))
                self.assertEqual(due.due_since, (D0 + timedelta(days=since)).date())
                start = ledger.filtered(lambda line, since=since: line.date == D0 + timedelta(days=since))
                self.assertEqual(due.period_line_id, start)
                self.assertEqual(partner.credit_due, due.amount_due)
        self.assertAlmostEqual(self.due(self.partner_a).amount_due, 32.5)
        self.assertAlmostEqual(self.due(self.partner_b).amount_due, 5.0)
        self.assertFalse(self.due(self.partner_c), "a customer who owes nothing is not listed")
        # the list total is the overdue total of the company
        total = self.Due.read_group([("company_id", "=", self.company.id)], ["amount_due:sum"], [])[0]["amount_due"]
        self.assertAlmostEqual(total, 37.5)
        # credit users read it, others not
        self.assertEqual(self.Due.with_user(self.user_credit).search([]).partner_id, self.partner_a | self.partner_b)
        self.assertFalse(self.env["customer.credit.due"].with_user(self.user_plain).has_access("read"))
        self.assert_invariant()

    def test_cron_levels(self):
        """Nothing before the first level, each level once, on its day, with the statement attached."""
        self.overdraw(self.partner_a, 30.0)
        self.assertEqual(self.run_cron(6), {"mail": 0, "activity": 0, "failed": 0})
        self.assertFalse(self.reminders(self.partner_a), "no reminder before the first level")
        for day, level in ((7, self.level1), (21, self.level2), (45, self.level3)):
            with self.subTest(day=day):
                counts = self.run_cron(day)
                self.assertEqual(counts["mail"], 1)
                reminder = self.reminders(self.partner_a)[-1:]
                self.assertEqual((reminder.level_id, reminder.channel, reminder.manual), (level, "mail", False))
                self.assertAlmostEqual(reminder.amount_due, 30.0)
                message = reminder.message_id
                self.assertEqual((message.model, message.res_id), ("res.partner", self.partner_a.id))
                self.assertIn(self.partner_a, message.partner_ids)
                self.assertIn("30.00", str(message.body))
                self.assertEqual(len(message.attachment_ids), 1)
                self.assertIn("Credit Statement", message.attachment_ids.name)
                # the statement starts on the day the balance went negative, and ends on the day it is sent
                statement = message.attachment_ids.raw.decode()
                self.assertRegex(statement, r'"date_from">03/03/2031<')
                self.assertRegex(statement, rf'"date_to">{(D0 + timedelta(days=day)).strftime("%m/%d/%Y")}<')
                mail = self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
                self.assertEqual(mail.state, "outgoing", "queued, sent by the mail queue")
                self.assertEqual(mail.attachment_ids, message.attachment_ids)
                self.assertIn(self.partner_a, mail.recipient_ids)
                # the same day again, or the next day: nothing more
                self.assertEqual(self.run_cron(day)["mail"], 0)
                self.assertEqual(self.run_cron(day + 1)["mail"], 0)
                due = self.due(self.partner_a)
                self.assertEqual((due.last_level_id, due.reminder_count), (level, len(self.reminders(self.partner_a))))
        self.assertEqual(self.reminders(self.partner_a).level_id, self.levels)
        self.assertEqual(self.run_cron(90)["mail"], 0, "no level after the last one")
        # the final level also gives the credit managers a call to make
        activity = self.partner_a.activity_ids.filtered(
            lambda act: act.activity_type_id == self.level3.activity_type_id
        )
        self.assertTrue(activity)
        self.assertTrue(activity.user_id.has_group("customer_credit.group_customer_credit_manager"))

    def test_late_run_sends_highest_level_once(self):
        """A job that did not run for a while sends the highest level reached, not all of them."""
        self.overdraw(self.partner_a, 30.0)
        self.run_cron(25)
        self.assertEqual(self.reminders(self.partner_a).level_id, self.level2)
        self.run_cron(26)
        self.assertEqual(self.reminders(self.partner_a).level_id, self.level2)

    def test_settled_stops_and_new_period_restarts(self):
        self.overdraw(self.partner_a, 30.0)
        self.run_cron(7)
        self.assertEqual(self.reminders(self.partner_a).level_id, self.level1)
        with freeze_time(D0 + timedelta(days=10)):
            self.service._topup(self.partner_a, 30.0, self.cash_journal)  # settles the due
        self.assertFalse(self.due(self.partner_a))
        self.assertEqual(self.partner_a.credit_due, 0.0)
        self.assertEqual(self.run_cron(21)["mail"], 0)
        self.assertEqual(self.run_cron(45)["mail"], 0)
        self.assertEqual(len(self.reminders(self.partner_a)), 1, "nothing once the balance is back to 0")
        # overdrawn again: a new due period, starting at the first level again
        self.overdraw(self.partner_a, 8.0, day=50)
        self.assertEqual(self.run_cron(56)["mail"], 0)
        self.run_cron(57)
        reminders = self.reminders(self.partner_a)
        self.assertEqual(reminders.level_id, self.level1)
        self.assertEqual(len(reminders), 2)
        self.assertNotEqual(reminders[0].period_line_id, reminders[1].period_line_id)
        self.assertAlmostEqual(reminders[1].amount_due, 8.0)
        self.assert_invariant()

    def test_batches_resume(self):
        partners = (
            self.partner_a
            | self.partner_b
            | self.env["res.partner"].create(
                {"name": "Credit Customer D", "email": "d@example.com", "credit_allow_overdraft": True}
            )
        )
        partners[2].credit_overdraft_limit = 100.0
        for partner in partners:
            self.overdraw(partner, 10.0)
        progress = []
        self.patch(
            type(self.env["ir.cron"]),
            "_notify_progress",
            lambda cron, *, done, remaining, deactivate=False: progress.append((done, remaining)),
        )
        self.assertEqual(self.run_cron(7, batch_size=2)["mail"], 2)
        self.assertEqual(progress[-1], (2, 1), "the job is told one customer remains")
        self.assertEqual(self.run_cron(7, batch_size=2)["mail"], 1)
        self.assertEqual(progress[-1], (1, 0))
        self.assertEqual(self.run_cron(7, batch_size=2)["mail"], 0)
        for partner in partners:
            self.assertEqual(self.reminders(partner).level_id, self.level1, partner.name)

    def test_failure_does_not_block_others(self):
        self.overdraw(self.partner_a, 10.0)
        self.overdraw(self.partner_b, 10.0)
        Due = type(self.Due)
        send = Due._send_reminder

        def failing(due, level):
            if due.partner_id == self.partner_a:
                raise UserError(self.env._("broken mail server"))
            return send(due, level)

        self.patch(Due, "_send_reminder", failing)
        with self.assertLogs("odoo.addons.customer_credit.models.customer_credit_due", "WARNING"):
            counts = self.run_cron(7)
        self.assertEqual((counts["mail"], counts["failed"]), (1, 1))
        self.assertFalse(self.reminders(self.partner_a))
        self.assertEqual(self.reminders(self.partner_b).level_id, self.level1)

    def test_no_email_gets_activity(self):
        """A customer without e-mail: an activity for the salesperson instead of a mail, and reported."""
        self.overdraw(self.partner_c, 25.0)
        # (the activity may notify the salesperson by mail: only mails to the customer count here)
        to_customer = [("recipient_ids", "in", self.partner_c.id)]
        mails_before = self.env["mail.mail"].sudo().search_count(to_customer)
        with self.assertLogs("odoo.addons.customer_credit.models.customer_credit_due", "WARNING") as logs:
            counts = self.run_cron(7)
        self.assertEqual((counts["mail"], counts["activity"]), (0, 1))
        self.assertIn("have no e-mail", "\n".join(logs.output))
        self.assertEqual(self.env["mail.mail"].sudo().search_count(to_customer), mails_before, "no mail without e-mail")
        self.assertEqual(mails_before, 0)
        reminder = self.reminders(self.partner_c)
        self.assertEqual((reminder.level_id, reminder.channel), (self.level1, "activity"))
        activity = self.partner_c.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesperson)
        self.assertIn("no e-mail", activity.summary)
        self.assertIn("no e-mail address", str(reminder.message_id.body))
        self.assertEqual(self.run_cron(8)["activity"], 0, "reported once per level")
        # without salesperson: a credit manager
        self.partner_c.user_id = False
        self.run_cron(21)
        activity = self.partner_c.activity_ids - activity
        self.assertTrue(activity.user_id.has_group("customer_credit.group_customer_credit_manager"))

    def test_manual_send_with_preview(self):
        """From the dues list: Odoo's composer with the next level's template and the statement attached."""
        self.overdraw(self.partner_a, 30.0)
        self.overdraw(self.partner_b, 20.0)
        due_a = self.due(self.partner_a)
        # a salesperson: a credit user who may post on customers
        sender = new_test_user(
            self.env,
            login="cc_dues_sender",
            groups="base.group_user,base.group_partner_manager,customer_credit.group_customer_credit_user",
        )
        action = due_a.with_user(sender).action_send_reminder()
        self.assertEqual(action["res_model"], "mail.compose.message")
        composer = self.env["mail.compose.message"].with_user(sender).with_context(**action["context"]).create({})
        self.assertEqual(composer.template_id, self.level1.mail_template_id)
        self.assertIn("30.00", str(composer.body), "the preview shows the rendered mail")
        self.assertEqual(len(composer.attachment_ids), 1)
        self.assertIn("Credit Statement", composer.attachment_ids.name)
        self.assertIn(self.partner_a, composer.partner_ids)
        composer.action_send_mail()
        reminder = self.reminders(self.partner_a)
        self.assertEqual((reminder.level_id, reminder.manual), (self.level1, True))
        self.assertEqual(reminder.message_id.attachment_ids.mapped("name"), composer.attachment_ids.mapped("name"))
        # the job does not send that level again, the next manual send proposes the next level
        self.assertEqual(self.run_cron(7)["mail"], 1, "only B gets the first level")
        self.assertEqual(len(self.reminders(self.partner_a)), 1)
        action = due_a.action_send_reminder()
        self.assertEqual(action["context"]["default_template_id"], self.level2.mail_template_id.id)

        # several customers at once (from the partner list): each gets their own statement
        self.overdraw(self.partner_c, 5.0)
        self.partner_c.email = "c@example.com"
        action = self.Due._action_remind_partners(self.partner_b | self.partner_c)
        composer = self.env["mail.compose.message"].with_context(**action["context"]).create({})
        self.assertTrue(composer.composition_batch)
        __, messages = composer._action_send_mail()
        self.assertEqual(len(messages), 2)
        for message in messages:
            self.assertEqual(len(message.attachment_ids), 1)
        # the lowest level one of them has not reached (B got it from the job, C nothing yet)
        self.assertEqual(action["context"]["default_template_id"], self.level1.mail_template_id.id)
        self.assertEqual(self.reminders(self.partner_c).level_id, self.level1)
        self.assertEqual(self.reminders(self.partner_b).mapped("manual"), [False, True])
        self.assertEqual(self.reminders(self.partner_b).level_id, self.level1)

        with self.assertRaisesRegex(UserError, "owes nothing"):
            self.Due._action_remind_partners(self.partner_a.copy({"name": "Nobody owes"}))

    def test_multi_company_levels(self):
        """Each company reminds with its own levels; users see the dues of their companies."""
        company2 = self.env["res.company"].create({"name": "Dues Company 2", "currency_id": self.currency.id})
        self.env["account.chart.template"].try_loading("generic_coa", company=company2, install_demo=False)
        cash2 = self.env["account.journal"].search([("type", "=", "cash"), ("company_id", "=", company2.id)], limit=1)
        service2 = self.service.with_company(company2)
        template = self.env.ref("customer_credit.mail_template_credit_reminder_1")
        level_c2 = self.env["customer.credit.reminder.level"].create(
            {"name": "Company 2 only level", "delay": 3, "company_id": company2.id, "mail_template_id": template.id}
        )
        self.partner_b.with_company(company2).write({"credit_allow_overdraft": True, "credit_overdraft_limit": 90.0})
        with freeze_time(D0):
            service2._topup(self.partner_b, 5.0, cash2)
            service2._spend(self.partner_b, 25.0, counterpart_account=company2.credit_clearing_account_id)
        self.overdraw(self.partner_b, 7.0)
        due2 = self.due(self.partner_b, company2)
        self.assertAlmostEqual(due2.amount_due, 20.0)
        self.assertAlmostEqual(self.due(self.partner_b).amount_due, 7.0)

        self.run_cron(3)
        self.assertEqual(self.reminders(self.partner_b).level_id, level_c2, "company 2 reminds after 3 days")
        self.assertEqual(self.reminders(self.partner_b).company_id, company2)
        self.run_cron(7)
        reminders = self.reminders(self.partner_b)
        self.assertEqual(reminders.mapped("level_id"), level_c2 | self.level1)
        self.assertEqual(reminders.filtered(lambda r: r.level_id == self.level1).company_id, self.company)
        reminder_c2 = reminders.filtered(lambda r: r.level_id == level_c2)
        self.assertAlmostEqual(reminder_c2.amount_due, 20.0)
        self.assertIn("20.00", str(reminder_c2.message_id.body), "the mail tells the amount due in company 2")
        self.assertIn("Dues Company 2", reminder_c2.message_id.subject)
        self.run_cron(30)
        self.assertEqual(len(self.reminders(self.partner_b)), 3, "company 2 has no further level")

        # record rules: a user of the first company only sees its dues, levels and reminders
        self.assertEqual(self.Due.with_user(self.user_credit).search([]).company_id, self.company)
        Level = self.env["customer.credit.reminder.level"].with_user(self.user_credit)
        self.assertNotIn(level_c2, Level.search([]))
        self.assertNotIn(company2, self.Reminder.with_user(self.user_credit).search([]).company_id)
        user2 = new_test_user(
            self.env,
            login="cc_dues_multi",
            groups="base.group_user,customer_credit.group_customer_credit_user",
            company_id=company2.id,
            company_ids=[Command.set(company2.ids)],
        )
        self.assertEqual(self.Due.with_user(user2).search([]), due2)
        self.assert_invariant(self.company | company2)
