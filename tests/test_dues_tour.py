from odoo.tests import HttpCase, new_test_user, tagged

from .common import CustomerCreditCommon


@tagged("post_install", "-at_install")
class TestDuesTour(HttpCase):
    """The dues list in a real browser: the overdrawn demo customer and the manual reminder."""

    def test_dues_list_manual_send(self):
        bob = self.env.ref("customer_credit.partner_bob_demo")  # the harness installs the demo data
        Due = self.env["customer.credit.due"]
        due = Due.search([("partner_id", "=", bob.id), ("company_id", "=", self.env.company.id)])
        self.assertAlmostEqual(due.amount_due, 30.0, msg="Bob Lambert is overdrawn by 30.00 in the demo")
        self.start_tour(
            "/odoo/action-customer_credit.customer_credit_due_action", "customer_credit_dues_send", login="admin"
        )
        reminder = self.env["customer.credit.reminder"].search([("partner_id", "=", bob.id)])
        self.assertEqual(len(reminder), 1)
        self.assertTrue(reminder.manual)
        self.assertEqual(reminder.level_id.delay, 7)
        self.assertTrue(reminder.message_id.attachment_ids, "the statement went with the mail")


@tagged("post_install", "-at_install")
class TestDuesPortal(CustomerCreditCommon, HttpCase):
    """/my/credit shows the amount due and a link to top it up online."""

    def test_my_credit_shows_amount_due(self):
        portal = new_test_user(
            self.env,
            login="cc_dues_portal",
            groups="base.group_portal",
            partner_id=self.partner_a.id,
            password="cc_dues_portal",
        )
        self.assertTrue(portal)
        self.company.write({"credit_topup_min": 5.0, "credit_topup_max": 500.0})
        self.authenticate("cc_dues_portal", "cc_dues_portal")
        self.assertNotIn("o_customer_credit_due", self.url_open("/my/credit").text, "nothing due, nothing shown")
        self.partner_a.write({"credit_allow_overdraft": True, "credit_overdraft_limit": 100.0})
        self.service._spend(self.partner_a, 42.5, counterpart_account=self.clearing_account)
        page = self.url_open("/my/credit").text
        self.assertIn("o_customer_credit_due", page)
        self.assertIn("42.50", page)
        self.assertIn("/my/credit/topup?amount=42.5", page)
        topup = self.url_open("/my/credit/topup?amount=42.5")
        self.assertEqual(topup.status_code, 200)
        self.assertIn("o_customer_credit_topup_amount", topup.text, "the link opens the online top-up")
        self.assertNotIn("o_customer_credit_error", topup.text)
