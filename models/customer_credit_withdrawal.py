from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_amount

from .customer_credit_service import LOCK_MEMO

CREDIT_MANAGER = "customer_credit.group_customer_credit_manager"


class CustomerCreditWithdrawal(models.Model):
    """A customer's request to be paid out part of their credit. While it waits for a credit
    manager, the amount is held: spends, withdrawals and transfers cannot take it."""

    _name = "customer.credit.withdrawal"
    _description = "Customer Credit Withdrawal Request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", readonly=True, copy=False, default="/")
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True, index=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount = fields.Monetary(required=True, readonly=True, tracking=True)
    note = fields.Text(string="Payment Details", readonly=True, help="Where to pay the money (e.g. an IBAN).")
    state = fields.Selection(
        [
            ("pending", "Waiting for Approval"),
            ("paid", "Paid"),
            ("refused", "Refused"),
            ("cancelled", "Cancelled"),
        ],
        default="pending",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    journal_id = fields.Many2one(
        "account.journal",
        string="Payout Journal",
        check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="Bank or cash journal the money is paid out from.",
    )
    refuse_reason = fields.Text(help="Told to the customer when the request is refused.")
    decided_by_id = fields.Many2one("res.users", readonly=True)
    decision_date = fields.Datetime(readonly=True)
    line_ids = fields.One2many("customer.credit.line", "withdrawal_id", string="Credit Movements", readonly=True)

    def init(self):
        # the pending requests' total is kept in the customers' stored balances
        self.env["customer.credit.balance"]._hold_init()

    @api.model_create_multi
    def create(self, vals_list):
        requests = super().create(vals_list)
        requests._forget_locked()
        return requests

    def write(self, vals):
        self._forget_locked()
        res = super().write(vals)
        self._forget_locked()
        return res

    def _forget_locked(self):
        """The customers' held amounts change with their requests: what the lock read is out of date."""
        memo = self.env.cr.precommit.data.get(LOCK_MEMO, {})
        for request in self:
            memo.pop((request.partner_id.id, request.company_id.id), None)

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    @api.model
    def _payable_amount(self, partner, company):
        """What the customer can ask to be paid out now: their generic credit, without overdraft,
        less what pending requests already hold."""
        balances = self.env["customer.credit.service"].sudo()._get_balances(partner, company)
        return company.currency_id.round(max(balances["generic"] - balances["held"], 0.0))

    @api.model
    def _request(self, partner, amount, note=None, company=None):
        """Record a customer's withdrawal request (called in sudo by the portal, for the logged-in
        customer only). The customer's credit is locked, so two requests or a request and a spend
        at once cannot hold more than there is."""
        service = self.env["customer.credit.service"].sudo()
        partner, company, currency = service._context_of(partner, company, None)
        amount = service._check_amount(amount, currency)
        service._lock([partner], company)
        payable = self._payable_amount(partner, company)
        if currency.compare_amounts(amount, payable) > 0:
            raise UserError(
                self.env._(
                    "You can ask for at most %(payable)s to be paid out, not %(amount)s.",
                    payable=format_amount(self.env, payable, currency),
                    amount=format_amount(self.env, amount, currency),
                )
            )
        request = (
            self.sudo()
            .with_company(company)
            .create(
                {
                    "name": self.env["ir.sequence"].sudo().next_by_code("customer.credit.withdrawal") or "/",
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "amount": amount,
                    "note": (note or "").strip()[:2000] or False,
                }
            )
        )
        request._notify_customer(
            self.env._(
                "We received your request %(name)s to pay out %(amount)s of your credit. "
                "The amount is set aside until it is processed.",
                name=request.name,
                amount=format_amount(self.env, amount, currency),
            )
        )
        limit, journal = company.credit_withdrawal_auto_limit, company.credit_withdrawal_journal_id
        if journal and currency.compare_amounts(limit, 0.0) > 0 and currency.compare_amounts(amount, limit) <= 0:
            request._pay(journal)
        else:
            service._schedule_manager_activity(
                request,
                company,
                self.env._("Credit withdrawal request"),
                self.env._(
                    "%(partner)s asks for %(amount)s of credit to be paid out.",
                    partner=partner.display_name,
                    amount=format_amount(self.env, amount, currency),
                ),
            )
        return request

    def action_approve(self):
        """Pay the request out through its journal (credit manager)."""
        self._check_manager()
        for request in self:
            if not request.journal_id:
                raise UserError(self.env._("Select the journal the request %s is paid out from.", request.name))
            request._pay(request.journal_id)
        return True

    def action_refuse(self):
        """Refuse the request with a reason told to the customer (credit manager)."""
        self._check_manager()
        for request in self:
            if not (request.refuse_reason or "").strip():
                raise UserError(self.env._("Give the reason of the refusal of %s.", request.name))
            request._lock_pending()
            request.sudo().write(
                {"state": "refused", "decided_by_id": self.env.uid, "decision_date": fields.Datetime.now()}
            )
            request.activity_unlink(["mail.mail_activity_data_todo"])
            request._notify_customer(
                self.env._(
                    "Your request %(name)s to pay out %(amount)s of credit was refused: %(reason)s",
                    name=request.name,
                    amount=format_amount(self.env, request.amount, request.currency_id),
                    reason=request.refuse_reason,
                )
            )
        return True

    def _cancel_by_customer(self):
        """The customer withdraws their own pending request (portal, in sudo)."""
        for request in self:
            request._lock_pending()
            request.sudo().write({"state": "cancelled", "decision_date": fields.Datetime.now()})
            request.activity_unlink(["mail.mail_activity_data_todo"])
            request._notify_customer(self.env._("Your request %s was cancelled.", request.name))

    def _pay(self, journal):
        """Pay out through the credit service, once: the request leaves the held amount as it is paid."""
        self.ensure_one()
        self._lock_pending()
        self.sudo().write(
            {
                "state": "paid",
                "journal_id": journal.id,
                # an immediate payout is decided by the settings, not by the customer asking
                "decided_by_id": False if self.env.user.share else self.env.uid,
                "decision_date": fields.Datetime.now(),
            }
        )
        lines = (
            self.env["customer.credit.service"]
            .sudo()
            .with_company(self.company_id)
            ._withdraw(
                self.partner_id,
                self.amount,
                journal,
                company=self.company_id,
                links={"withdrawal_id": self.id},
                description=self.env._("Credit withdrawal %s", self.name),
                key=self,
            )
        )
        self.activity_unlink(["mail.mail_activity_data_todo"])
        self._notify_customer(
            self.env._(
                "Your request %(name)s was approved: %(amount)s of your credit is being paid out.",
                name=self.name,
                amount=format_amount(self.env, self.amount, self.currency_id),
            )
        )
        return lines

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _check_manager(self):
        if not self.env.su and not self.env.user.has_group(CREDIT_MANAGER):
            raise AccessError(self.env._("Only a credit manager can decide on withdrawal requests."))

    def _lock_pending(self):
        """Lock the request and check that nobody decided on it meanwhile."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute("SELECT state FROM customer_credit_withdrawal WHERE id = %s FOR UPDATE", [self.id])
        self.invalidate_recordset(["state"])
        if self.state != "pending":
            raise UserError(self.env._("The request %s has already been processed.", self.name))

    def _notify_customer(self, body):
        self.sudo().message_post(
            body=body,
            partner_ids=self.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )


class CustomerCreditService(models.AbstractModel):
    _inherit = "customer.credit.service"

    @api.model
    def _load_website_demo_data(self):
        """The demo portal customer (login ``portal``) gets credit, some history, a product-specific
        lot and a pending withdrawal request; the demo shop offers the credit provider."""
        company = self.env.ref("base.main_company")
        service = self.sudo().with_company(company)
        partner = self.env.ref("base.partner_demo_portal", raise_if_not_found=False)
        if not partner:
            return
        cash = self.env["account.journal"].search([("type", "=", "cash"), ("company_id", "=", company.id)], limit=1)
        service._topup(partner, 150.0, cash, description="Demo top-up at the shop")
        service._spend(partner, 32.5, invoice=self._demo_invoice(partner, 32.5))
        service._topup(partner, 20.0, granted=True, description="Welcome gift")
        product = self.env["product.product"].search(
            [("sale_ok", "=", True), ("is_published", "=", True), ("list_price", ">", 0)], limit=1
        )
        if product:
            service._topup(partner, 25.0, cash, credit_type="product", product=product)
        self.env["customer.credit.withdrawal"].sudo().with_company(company)._request(
            partner, 10.0, "IBAN BE71 0961 2345 6769", company=company
        )
        provider = self.env.ref("customer_credit.payment_provider_customer_credit", raise_if_not_found=False)
        if provider:
            provider.write({"state": "enabled", "is_published": True})
