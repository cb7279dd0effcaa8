from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    credit_account_id = fields.Many2one(
        "account.account",
        string="Customer Credit Account",
        help="Liability account holding the prepaid credit owed to customers.",
    )
    credit_journal_id = fields.Many2one(
        "account.journal",
        string="Customer Credit Journal",
        help="Journal of the entries posted for every credit movement.",
    )
    credit_clearing_account_id = fields.Many2one(
        "account.account",
        string="POS Credit Clearing Account",
        help="Receivable account that clears credit spent at the Point of Sale.",
    )
    credit_invoice_clearing_account_id = fields.Many2one(
        "account.account",
        string="POS Credit Clearing Account (Invoices)",
        help="Reconcilable account (not a receivable) of the 'Paid with customer credit' line of POS invoices that "
        "show only the part not paid by credit; the credit spent on such an invoice is credited to it.",
    )
    credit_topup_clearing_account_id = fields.Many2one(
        "account.account",
        string="POS Credit Top-up Clearing Account",
        help="Income account of the Credit top-up product: the top-up's entry at sync debits it and the session's "
        "closing entry credits it, so a top-up is never booked as revenue. Not a receivable account, since an "
        "invoiced top-up puts it on an invoice line.",
    )
    credit_breakage_account_id = fields.Many2one(
        "account.account",
        help="Income account credited when a credit lot expires.",
    )
    credit_granted_account_id = fields.Many2one(
        "account.account",
        string="Granted Credit Account",
        help="Expense account debited for credit granted for free and for manual adjustments.",
    )
    credit_send_mail = fields.Boolean(
        string="Mail Customers on Credit Movements",
        default=True,
    )
    credit_overdraft_limit = fields.Monetary(
        string="Default Overdraft Limit",
        currency_field="currency_id",
        help="Overdraft limit of customers allowed to overdraw who have no limit of their own.",
    )
    credit_validity_months = fields.Integer(
        string="Default Credit Validity (months)",
        help="Default validity of new credit lots; 0 means no expiry.",
    )
    credit_topup_min = fields.Monetary(
        string="Minimum Online Top-up",
        currency_field="currency_id",
        default=5.0,
        help="Smallest amount a customer may add to their credit on the portal.",
    )
    credit_topup_max = fields.Monetary(
        string="Maximum Online Top-up",
        currency_field="currency_id",
        default=1000.0,
        help="Largest amount a customer may add to their credit on the portal at once.",
    )
    credit_withdrawal_auto_limit = fields.Monetary(
        string="Immediate Payout Up To",
        currency_field="currency_id",
        help="Withdrawal requests up to this amount are paid out at once through the payout journal; "
        "0 means every request waits for a credit manager.",
    )
    credit_withdrawal_journal_id = fields.Many2one(
        "account.journal",
        string="Payout Journal",
        domain="[('type', 'in', ('bank', 'cash')), ('company_id', '=', id)]",
        help="Bank or cash journal of the immediate payouts of withdrawal requests.",
    )

    def write(self, vals):
        if "credit_account_id" in vals:
            changed = self.filtered(lambda company: company.credit_account_id.id != vals["credit_account_id"])
            if changed and self.env["customer.credit.line"].sudo().search_count(
                [("company_id", "in", changed.ids)], limit=1
            ):
                raise UserError(
                    self.env._("The Customer Credit account cannot be changed once credit movements exist.")
                )
        res = super().write(vals)
        if "credit_account_id" in vals:
            self.env.registry.clear_cache()
        if "credit_overdraft_limit" in vals:
            # the default limit is the partner field's fallback, as Odoo does for credit_limit: a customer
            # without a limit of their own reads it, and a limit of 0 differs from it, so it is stored as 0
            for company in self:
                self.env["ir.default"].sudo().set(
                    "res.partner", "credit_overdraft_limit", company.credit_overdraft_limit, company_id=company.id
                )
            self.env["res.partner"].invalidate_model(["credit_overdraft_limit"])
        return res

    @api.constrains("credit_overdraft_limit")
    def _check_credit_overdraft_limit(self):
        if any(company.currency_id.compare_amounts(company.credit_overdraft_limit, 0.0) < 0 for company in self):
            raise ValidationError(self.env._("The default overdraft limit of customer credit cannot be negative."))

    def _customer_credit_accounts(self):
        """The Customer Credit accounts of all companies (a branch may post on its parent's)."""
        return self.env["account.account"].sudo().browse(self._customer_credit_account_ids())

    @tools.ormcache()
    def _customer_credit_account_ids(self):
        # asked by every journal item written and every movement: kept in the registry cache, which a
        # change of a company's account clears (in every worker)
        return tuple(self.sudo().search([("credit_account_id", "!=", False)]).credit_account_id.ids)

    def _customer_credit_setup_accounting(self):
        """Create the accounts and the journal of customer credit where they are missing.

        Codes are taken next to an existing account of the same kind, so they follow the
        company's chart of accounts.
        """
        Account = self.env["account.account"].sudo()
        for company in self.sudo():
            company = company.with_company(company)
            specs = [
                ("credit_account_id", self.env._("Customer Credit"), "liability_current", True, "2"),
                ("credit_clearing_account_id", self.env._("POS Credit Clearing"), "asset_receivable", True, "1"),
                (
                    "credit_invoice_clearing_account_id",
                    self.env._("POS Credit Clearing (invoices)"),
                    "asset_current",
                    True,
                    "1",
                ),
                (
                    "credit_topup_clearing_account_id",
                    self.env._("POS Credit Top-up Clearing"),
                    "asset_current",
                    True,
                    "1",
                ),
                ("credit_breakage_account_id", self.env._("Credit Breakage"), "income_other", False, "7"),
                ("credit_granted_account_id", self.env._("Granted Customer Credit"), "expense", False, "6"),
            ]
            vals = {}
            for fname, name, account_type, reconcile, fallback in specs:
                if company[fname]:
                    continue
                sibling = Account.with_company(company).search(
                    [
                        *Account._check_company_domain(company),
                        ("account_type", "=", account_type),
                    ],
                    order="code desc",
                    limit=1,
                )
                start = sibling.code or f"{fallback}9000"
                vals[fname] = (
                    Account.with_company(company)
                    .create(
                        {
                            "name": name,
                            "code": Account.with_company(company)._search_new_account_code(start),
                            "account_type": account_type,
                            "reconcile": reconcile,
                            "company_ids": [(6, 0, company.ids)],
                        }
                    )
                    .id
                )
            if vals:
                company.write(vals)
            company._customer_credit_setup_topup_product()
            if not company.credit_journal_id:
                journal = (
                    self.env["account.journal"]
                    .sudo()
                    .create(
                        {
                            "name": self.env._("Customer Credit"),
                            "code": self._customer_credit_journal_code(company),
                            "type": "general",
                            "is_credit_journal": True,
                            "default_account_id": company.credit_account_id.id,
                            "company_id": company.id,
                            "show_on_dashboard": False,
                        }
                    )
                )
                company.credit_journal_id = journal

    @api.constrains("credit_topup_clearing_account_id")
    def _check_credit_topup_clearing_account(self):
        """The session's closing entry and invoices book top-up lines on this account by themselves: never
        Customer Credit (only the service posts there), never a receivable or payable account (refused on
        invoice lines), and reconcilable (cleared per session)."""
        credit = self._customer_credit_accounts()
        for company in self.filtered("credit_topup_clearing_account_id"):
            account = company.sudo().credit_topup_clearing_account_id
            if (
                account in credit
                or account.account_type in ("asset_receivable", "liability_payable")
                or not account.reconcile
            ):
                raise ValidationError(
                    self.env._(
                        "The POS Credit Top-up Clearing account must be a reconcilable account that is neither "
                        "Customer Credit nor a receivable or payable account (%s is not).",
                        account.display_name,
                    )
                )

    def _customer_credit_setup_topup_product(self):
        """The Credit top-up product books on this company's top-up clearing account (not revenue)."""
        product = self.env.ref("customer_credit.product_credit_topup", raise_if_not_found=False)
        for company in self.filtered("credit_topup_clearing_account_id"):
            template = product.product_tmpl_id.sudo().with_company(company) if product else None
            if template and not template.property_account_income_id:
                template.property_account_income_id = company.credit_topup_clearing_account_id

    def _customer_credit_topup_account(self):
        """The POS Credit Top-up Clearing account, created if this company misses it."""
        self.ensure_one()
        if not self.sudo().credit_topup_clearing_account_id:
            self.sudo()._customer_credit_setup_accounting()
        return self.sudo().credit_topup_clearing_account_id

    @api.model
    def _load_pos_data_fields(self, config_id):
        fields_list = super()._load_pos_data_fields(config_id)
        if fields_list:
            fields_list += ["credit_topup_min", "credit_topup_max"]
        return fields_list

    def _customer_credit_journal_code(self, company):
        used = set(
            self.env["account.journal"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", company.id)])
            .mapped("code")
        )
        code, index = "CCR", 1
        while code in used:
            index += 1
            code = f"CCR{index}"
        return code
