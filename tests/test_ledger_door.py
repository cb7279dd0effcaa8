"""No way around the ledger (issue 10): the Customer Credit account only moves with the credit service,
and customers only read the customer-facing fields of their credit."""

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..models.customer_credit_service import service_env
from .common import CustomerCreditCommon

ONLY_SERVICE = "only moves with credit movements"


@tagged("post_install", "-at_install")
class TestLedgerDoor(CustomerCreditCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env, login="cc_door_accountant", groups="base.group_user,account.group_account_manager"
        )
        cls.pos_user = new_test_user(
            cls.env, login="cc_door_cashier", groups="base.group_user,point_of_sale.group_pos_user"
        )
        cls.cash_account = cls.cash_journal.default_account_id
        cls.topup = cls.service._topup(cls.partner_a, 100.0, cls.cash_journal)
        cls.move = cls.env["account.move"].browse(cls.topup.move_id.id)
        cls.credit_item = cls.move.line_ids.filtered(lambda line: line.account_id == cls.credit_account)
        cls.misc_journal = cls.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", cls.company.id), ("is_credit_journal", "=", False)], limit=1
        )
        # a posted entry of other accounts, as an accountant makes them
        cls.other_move = cls.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": cls.misc_journal.id,
                "line_ids": [
                    Command.create(
                        {"account_id": cls.granted_account.id, "partner_id": cls.partner_a.id, "debit": 30.0}
                    ),
                    Command.create({"account_id": cls.cash_account.id, "credit": 30.0}),
                ],
            }
        )
        cls.other_move.action_post()

    def _item(self, account, partner=None, debit=0.0, credit=0.0, **extra):
        return {
            "account_id": account.id,
            "partner_id": (partner or self.env["res.partner"]).id,
            "debit": debit,
            "credit": credit,
            **extra,
        }

    def _credit_entry(self, env, journal=None):
        """A new entry crediting partner A's credit by 50, made in ``env``."""
        return env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": (journal or self.misc_journal).id,
                "line_ids": [
                    Command.create(self._item(self.credit_account, self.partner_a, credit=50.0)),
                    Command.create(self._item(self.cash_account, debit=50.0)),
                ],
            }
        )

    def assert_untouched(self):
        self.env.invalidate_all()
        self.assertEqual(self.move.state, "posted")
        self.assertEqual(self.credit_item.exists(), self.credit_item)
        self.assertRecordValues(
            self.credit_item,
            [{"account_id": self.credit_account.id, "partner_id": self.partner_a.id, "credit": 100.0, "debit": 0.0}],
        )
        self.assertEqual(self.gl_balance(self.partner_a), -100.0)
        self.assertEqual(self.balance(self.partner_a), 100.0)
        self.assert_invariant()

    # ---- posted credit entries stay -------------------------------------------------

    def test_posted_credit_entry_cannot_be_deleted(self):
        """Not even by an accountant with ``force_delete``, which makes Odoo skip its own checks."""
        self.assertTrue(self.accountant.has_group("account.group_account_manager"))
        move = self.move.with_user(self.accountant)
        for context in ({}, {"force_delete": True}):
            with self.subTest(context=context):
                self.assert_rejected(UserError, "never deleted", move.with_context(**context).unlink)
                self.assert_rejected(UserError, "never deleted", move.sudo().with_context(**context).unlink)
                item = self.credit_item.with_user(self.accountant).with_context(**context)
                self.assert_rejected(UserError, "never deleted", item.unlink)
        # nor reset, cancelled or unposted by a bare write of the state
        self.assert_rejected(UserError, "cannot be reset to draft", move.button_cancel)
        for state in ("draft", "cancel"):
            with self.subTest(state=state):
                self.assert_rejected(UserError, "never deleted nor reset", move.write, {"state": state})
                self.assert_rejected(UserError, "never deleted nor reset", move.sudo().write, {"state": state})
        self.assert_untouched()

    # ---- no item on the account outside the service -------------------------------

    def test_no_item_created_on_a_posted_entry(self):
        for env in (self.env(user=self.accountant), self.env(su=True)):
            Line = env["account.move.line"].with_context(check_move_validity=False, skip_readonly_check=True)
            for move in (self.move, self.other_move):
                with self.subTest(su=env.su, move=move.name):
                    self.assert_rejected(
                        UserError,
                        ONLY_SERVICE,
                        Line.create,
                        self._item(self.credit_account, self.partner_a, credit=25.0, move_id=move.id),
                    )
        self.assertEqual(len(self.other_move.line_ids), 2)
        self.assert_untouched()

    def test_no_item_through_line_commands(self):
        for env in (self.env(user=self.accountant), self.env(su=True)):
            with self.subTest(su=env.su):
                # a new entry, even a draft, in any journal
                for journal in (self.misc_journal, self.credit_journal):
                    self.assert_rejected(UserError, ONLY_SERVICE, self._credit_entry, env, journal)
                # without an account in the Customer Credit journal: Odoo would take its default account
                self.assert_rejected(
                    UserError,
                    ONLY_SERVICE,
                    env["account.move"].create,
                    {
                        "move_type": "entry",
                        "journal_id": self.credit_journal.id,
                        "line_ids": [
                            Command.create({"name": "no account", "partner_id": self.partner_a.id, "credit": 5.0}),
                            Command.create(self._item(self.cash_account, debit=5.0)),
                        ],
                    },
                )
                # added to a posted entry, past Odoo's readonly check
                for move in (self.move, self.other_move):
                    commands = {
                        "line_ids": [
                            Command.create(self._item(self.credit_account, self.partner_a, credit=25.0)),
                            Command.create(self._item(self.cash_account, debit=25.0)),
                        ]
                    }
                    self.assert_rejected(
                        UserError,
                        ONLY_SERVICE,
                        env["account.move"].browse(move.id).with_context(skip_readonly_check=True).write,
                        commands,
                    )
                # the credit item changed or deleted through the entry
                move = (
                    env["account.move"].browse(self.move.id).with_context(skip_readonly_check=True, force_delete=True)
                )
                self.assert_rejected(
                    UserError,
                    "cannot be changed",
                    move.write,
                    {"line_ids": [Command.update(self.credit_item.id, {"credit": 1.0})]},
                )
                for command in (Command.delete(self.credit_item.id), Command.clear(), Command.set([])):
                    self.assert_rejected(UserError, "never deleted", move.write, {"line_ids": [command]})
        self.assertEqual(len(self.other_move.line_ids), 2)
        self.assert_untouched()

    def test_items_not_moved_into_a_draft_entry(self):
        """Moving posted credit items (balanced pair) into a draft entry would take them out of the
        books, and a draft entry can then be deleted: refused by write and by LINK/SET commands."""
        draft = self.env["account.move"].create({"move_type": "entry", "journal_id": self.misc_journal.id})
        pair = self.move.line_ids
        for env in (self.env(user=self.accountant), self.env(su=True)):
            with self.subTest(su=env.su):
                items = pair.with_env(env).with_context(skip_readonly_check=True, check_move_validity=False)
                self.assert_rejected(UserError, None, items.write, {"move_id": draft.id})
                target = draft.with_env(env).with_context(skip_readonly_check=True, check_move_validity=False)
                self.assert_rejected(
                    UserError, None, target.write, {"line_ids": [Command.link(line.id) for line in pair]}
                )
                self.assert_rejected(UserError, None, target.write, {"line_ids": [Command.set(pair.ids)]})
        self.assertFalse(draft.line_ids)
        self.assert_untouched()

    def test_draft_item_not_moved_onto_the_account(self):
        draft = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": self.misc_journal.id,
                "line_ids": [
                    Command.create(self._item(self.granted_account, self.partner_a, credit=40.0)),
                    Command.create(self._item(self.cash_account, debit=40.0)),
                ],
            }
        )
        item = draft.line_ids.filtered(lambda line: line.account_id == self.granted_account)
        for env in (self.env(user=self.accountant), self.env(su=True)):
            with self.subTest(su=env.su):
                self.assert_rejected(
                    UserError, "cannot be changed", item.with_env(env).write, {"account_id": self.credit_account.id}
                )
                self.assert_rejected(
                    UserError,
                    "cannot be changed",
                    draft.with_env(env).write,
                    {"line_ids": [Command.update(item.id, {"account_id": self.credit_account.id})]},
                )
        self.assertEqual(item.account_id, self.granted_account)
        # the draft itself stays an ordinary entry
        draft.action_post()
        self.assertEqual(draft.state, "posted")
        self.assert_untouched()

    def test_forged_service_flag_in_sudo(self):
        """Code that really runs in sudo with the caller's context: the flag is the service's token, which
        no RPC caller can send."""
        forged = {"customer_credit_service": True}
        envs = {
            "sudo": self.env["account.move"].sudo().with_context(**forged).env,
            "cashier in sudo": self.env["account.move"].with_user(self.pos_user).with_context(**forged).sudo().env,
        }
        draft = self.env["account.move"].browse(self._credit_entry(service_env(self.env)).id)
        for name, env in envs.items():
            with self.subTest(env=name):
                self.assertTrue(env.su)
                self.assert_rejected(UserError, ONLY_SERVICE, self._credit_entry, env)
                self.assert_rejected(
                    UserError,
                    ONLY_SERVICE,
                    env["account.move.line"].with_context(check_move_validity=False).create,
                    self._item(self.credit_account, self.partner_a, credit=25.0, move_id=self.move.id),
                )
                self.assert_rejected(UserError, ONLY_SERVICE, draft.with_env(env).action_post)
                self.assert_rejected(UserError, ONLY_SERVICE, draft.with_env(env).write, {"state": "posted"})
                self.assert_rejected(
                    UserError,
                    "cannot be changed",
                    self.credit_item.with_env(env).write,
                    {"partner_id": self.partner_b.id},
                )
        self.assertEqual(draft.state, "draft")
        self.assert_untouched()

    # ---- Odoo is never set up to post on it by itself --------------------------------

    def test_not_a_product_account(self):
        template = self.product.product_tmpl_id
        category = template.categ_id
        for record, fname in (
            (template, "property_account_income_id"),
            (template, "property_account_expense_id"),
            (self.product, "property_account_income_id"),
            (category, "property_account_income_categ_id"),
            (category, "property_account_expense_categ_id"),
            (category, "property_stock_valuation_account_id"),  # stock_account, installed by point_of_sale
        ):
            with self.subTest(model=record._name, field=fname):
                before = record[fname]
                self.assert_rejected(
                    ValidationError,
                    "Customer Credit account cannot be the",
                    record.with_user(self.accountant).write,
                    {fname: self.credit_account.id},
                )
                self.assertEqual(record[fname], before)
        self.assert_rejected(
            ValidationError,
            "Customer Credit account cannot be the Income Account of the product Top-up",
            self.env["product.template"].create,
            {"name": "Top-up", "property_account_income_id": self.credit_account.id},
        )
        self.assert_rejected(
            ValidationError,
            "Customer Credit account cannot be the",
            self.env["product.category"].create,
            {"name": "Credit", "property_account_income_categ_id": self.credit_account.id},
        )
        self.assertFalse(self.env["product.template"].search([("name", "=", "Top-up")]))
        # other accounts are fine
        template.property_account_income_id = self.granted_account
        self.assertEqual(template.property_account_income_id, self.granted_account)
        self.assert_untouched()

    def test_not_a_pos_payment_method_receivable(self):
        """Closing a session posts by itself on a method's intermediary (and a bank method's outstanding)
        account. The check is a constraint (models/pos_payment_method.py): a refused write rolls back with
        the request."""
        Method = self.env["pos.payment.method"].with_user(self.accountant).sudo()
        refused = "cannot be the intermediary or outstanding account of the payment method"
        vals = {"name": "Credit as receivable", "receivable_account_id": self.credit_account.id}
        self.assert_rejected(ValidationError, refused, Method.create, vals)
        vals = {"name": "Card", "journal_id": self.bank_journal.id, "outstanding_account_id": self.credit_account.id}
        self.assert_rejected(ValidationError, refused, Method.create, vals)
        method = Method.create({"name": "Customer account"})
        self.assertNotEqual(method.receivable_account_id, self.credit_account)
        self.assert_rejected(ValidationError, refused, method.write, {"receivable_account_id": self.credit_account.id})
        self.assert_untouched()

    def test_not_an_outstanding_account(self):
        method_line = self.bank_journal.inbound_payment_method_line_ids[:1].with_user(self.accountant)
        self.assertTrue(method_line)
        before = method_line.payment_account_id
        self.assert_rejected(
            ValidationError,
            "Customer Credit account cannot be the .* of the payment method",
            method_line.write,
            {"payment_account_id": self.credit_account.id},
        )
        self.assertEqual(method_line.payment_account_id, before)
        self.assert_rejected(
            ValidationError,
            "Customer Credit account cannot be the .* of the payment method",
            self.env["account.payment.method.line"].create,
            {
                "name": "Credit",
                "journal_id": self.bank_journal.id,
                "payment_method_id": method_line.payment_method_id.id,
                "payment_account_id": self.credit_account.id,
            },
        )
        self.assert_untouched()

    def test_not_a_journal_account(self):
        Journal = self.env["account.journal"].with_user(self.accountant)
        for journal, fname in (
            (self.cash_journal, "default_account_id"),
            (self.bank_journal, "suspense_account_id"),
            (self.misc_journal, "default_account_id"),
            (self.cash_journal, "profit_account_id"),
        ):
            with self.subTest(journal=journal.name, field=fname):
                before = journal[fname]
                self.assert_rejected(
                    ValidationError,
                    "Customer Credit account cannot be the .* of the journal",
                    journal.with_user(self.accountant).write,
                    {fname: self.credit_account.id},
                )
                self.assertEqual(journal[fname], before)
        self.assert_rejected(
            ValidationError,
            "Customer Credit account cannot be the .* of the journal Shadow",
            Journal.create,
            {"name": "Shadow", "code": "SHDW", "type": "general", "default_account_id": self.credit_account.id},
        )
        # the company's Customer Credit journal keeps it, and stays what it is
        self.assertEqual(self.credit_journal.default_account_id, self.credit_account)
        self.credit_journal.with_user(self.accountant).name = "Customer Credit (store)"
        for vals in ({"is_credit_journal": False}, {"type": "sale"}):
            with self.subTest(vals=vals):
                self.assert_rejected(
                    ValidationError,
                    "Customer Credit account cannot be the .* of the journal",
                    self.credit_journal.with_user(self.accountant).write,
                    vals,
                )
        self.assertRecordValues(
            self.credit_journal,
            [{"is_credit_journal": True, "type": "general", "default_account_id": self.credit_account.id}],
        )
        self.assert_untouched()

    def test_not_merged(self):
        """Odoo 18 merges accounts of different companies into one shared account: never Customer Credit."""
        company2 = self.env["res.company"].create({"name": "Ledger Door Co 2", "currency_id": self.currency.id})
        self.env["account.chart.template"].try_loading("generic_coa", company=company2, install_demo=False)
        other = self.env["account.account"].create(
            {
                "name": "Deposits of Co 2",
                "code": "289900",
                "account_type": self.credit_account.account_type,
                "reconcile": True,
                "company_ids": [Command.set(company2.ids)],
            }
        )
        accounts = self.credit_account | other
        env = self.env(context=dict(self.env.context, allowed_company_ids=(self.company | company2).ids))
        wizard = (
            env["account.merge.wizard"].with_context(active_model="account.account", active_ids=accounts.ids).create({})
        )
        lines = wizard.wizard_line_ids.filtered(lambda line: line.display_type == "account")
        self.assertEqual(lines.account_id, accounts)
        self.assertFalse(any(lines.mapped("info")), "Odoo would merge them")
        self.assert_rejected(UserError, "cannot be merged", wizard.action_merge)
        self.assert_rejected(UserError, "cannot be merged", wizard._action_merge, accounts)
        self.assert_rejected(UserError, "cannot be merged", wizard._action_merge, other | self.credit_account)
        self.assertEqual(accounts.exists(), accounts)
        self.assertEqual(self.credit_account.company_ids, self.company)
        self.assertEqual(self.credit_item.account_id, self.credit_account)
        self.assert_untouched()


@tagged("post_install", "-at_install")
class TestPortalFields(CustomerCreditCommon):
    """Customers read the customer-facing fields of their lots and movements, not the internal ones."""

    LOT_PUBLIC = ["name", "partner_id", "currency_id", "credit_type", "product_id", "amount", "balance", "state"]
    LOT_PUBLIC += ["expiry_date", "origin"]
    LOT_INTERNAL = ["notes", "user_id", "move_id"]
    LINE_PUBLIC = ["name", "date", "kind", "amount", "currency_id", "partner_id", "lot_id", "operation_ref"]
    LINE_PUBLIC += ["partner_balance_before", "partner_balance_after", "lot_balance_before", "lot_balance_after"]
    LINE_INTERNAL = ["reason", "user_id", "move_id", "payment_id", "statement_line_id"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(cls.env, login="cc_door_portal", groups="base.group_portal")
        cls.customer = cls.portal.partner_id
        cls.service._topup(cls.customer, 50.0, cls.cash_journal, notes="Pays late, ask for cash")
        cls.service._adjust(cls.customer, -5.0, "Counted twice by the cashier")
        cls.lot = cls.env["customer.credit"].search([("partner_id", "=", cls.customer.id)])
        cls.lines = cls.env["customer.credit.line"].search([("partner_id", "=", cls.customer.id)])

    def test_portal_reads_customer_fields_only(self):
        self.assertEqual(len(self.lot), 1)
        self.assertEqual(len(self.lines), 2)
        lot = self.lot.with_user(self.portal)
        lines = self.lines.with_user(self.portal)
        values = lot.read(self.LOT_PUBLIC)[0]
        self.assertEqual((values["balance"], values["amount"], values["state"]), (45.0, 50.0, "active"))
        for line_values in lines.read(self.LINE_PUBLIC):
            self.assertIn(line_values["kind"], ("topup", "adjust"))
        self.assertEqual(sorted(lines.mapped("amount")), [-5.0, 50.0])
        for fname in self.LOT_INTERNAL:
            with self.subTest(model="lot", field=fname):
                with self.assertRaises(AccessError):
                    lot.read([fname])
                with self.assertRaises(AccessError):
                    lot.search_read([], [fname])
        for fname in self.LINE_INTERNAL:
            with self.subTest(model="line", field=fname):
                with self.assertRaises(AccessError):
                    lines.read([fname])
        # a read of "all fields" leaves them out
        self.assertFalse(set(self.LOT_INTERNAL) & set(lot.read()[0]))
        self.assertFalse(set(self.LINE_INTERNAL) & set(lines.read()[0]))
        # and nothing internal is reachable through a search either
        with self.assertRaises(AccessError):
            lines.search([("reason", "ilike", "cashier")])
        self.assert_invariant()

    def test_internal_users_still_see_them(self):
        lot = self.lot.with_user(self.user_credit)
        self.assertEqual(lot.notes, "Pays late, ask for cash")
        self.assertEqual(lot.user_id, self.env.user)
        self.assertTrue(lot.move_id)
        adjust = self.lines.filtered(lambda line: line.kind == "adjust").with_user(self.user_credit)
        self.assertEqual(adjust.reason, "Counted twice by the cashier")
        self.assertTrue(adjust.move_id)
        # the forms and lists show them, and the lot's chatter works
        for model, fnames in (("customer.credit", self.LOT_INTERNAL), ("customer.credit.line", ["reason", "user_id"])):
            views = self.env[model].with_user(self.user_credit).get_views([(False, "form"), (False, "list")])
            arch = views["views"]["form"]["arch"]
            for fname in fnames:
                if fname == "move_id":
                    continue  # shown to accounting users only
                self.assertIn(f'name="{fname}"', arch, f"{model} form lost {fname}")
        lot.message_post(body="Called the customer")
        self.assertIn("Called the customer", lot.message_ids[0].body)
        self.assertTrue(lot.message_ids.filtered(lambda message: "Top-up of" in (message.body or "")))
        self.assert_invariant()
