import re
from datetime import date

from werkzeug.exceptions import NotFound

from odoo import fields
from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.controllers.portal import PaymentPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.exceptions import UserError, ValidationError
from odoo.http import request, route
from odoo.tools import format_amount

from ..models.payment_provider import CREDIT_CODE

# digits, optionally a decimal part: no sign, no exponent, no "nan"/"inf", no thousands separators
AMOUNT_RE = re.compile(r"^\d{1,12}(?:[.,]\d+)?$")
HISTORY_STEP = 20


class CustomerCreditPortal(PaymentPortal):
    """/my/credit: the logged-in customer's credit (their commercial partner's, in the website's
    company), its history, online top-ups, withdrawal requests and a printable statement."""

    # ------------------------------------------------------------------
    # /my tile
    # ------------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if not counters:  # the /my page itself, not the (read-only) counters request
            values["customer_credit_balances"] = self._credit_balances()
        return values

    # ------------------------------------------------------------------
    # /my/credit
    # ------------------------------------------------------------------

    @route(["/my/credit", "/my/credit/page/<int:page>"], type="http", auth="user", website=True)
    def portal_my_credit(self, page=1, message=None, **kw):
        page = max(self._cast_as_int(page) or 1, 1)
        messages = {
            "withdrawal": request.env._(
                "Your withdrawal request was sent: the amount is set aside until it is processed."
            ),
            "withdrawal_paid": request.env._("Your withdrawal was paid out."),
            "withdrawal_cancelled": request.env._("Your withdrawal request was cancelled."),
        }
        return self._render_credit_page(page=page, message=messages.get(message))

    @route("/my/credit/topup", type="http", methods=["GET"], auth="user", website=True, sitemap=False)
    def portal_my_credit_topup(self, amount=None, **kw):
        """Show the payment form for a top-up of ``amount`` (validated here and again when the
        transaction is created)."""
        try:
            amount = self._check_topup_amount(amount)
        except UserError as exc:
            return self._render_credit_page(error=exc.args[0], topup_amount=amount)
        partner = request.env.user.partner_id
        company = request.env.company
        currency = company.currency_id
        providers_sudo, payment_methods_sudo, tokens_sudo, report = self._topup_payment_options(partner, amount)
        values = {
            **self._prepare_portal_layout_values(),
            "page_name": "credit_topup",
            "reference_prefix": payment_utils.singularize_reference_prefix(prefix="CREDIT"),
            "amount": amount,
            "currency": currency,
            "partner_id": partner.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": payment_methods_sudo,
            "tokens_sudo": tokens_sudo,
            "availability_report": report,
            "transaction_route": "/my/credit/topup/transaction",
            "landing_route": "/my/credit",
            "access_token": payment_utils.generate_access_token(partner.id, amount, currency.id),
            "show_tokenize_input_mapping": self._compute_show_tokenize_input_mapping(providers_sudo),
        }
        return request.render("customer_credit.portal_my_credit_topup", values)

    @route("/my/credit/topup/transaction", type="json", auth="user", website=True)
    def portal_my_credit_topup_transaction(self, amount, access_token, provider_id=None, **kwargs):
        """Create the top-up transaction: the logged-in customer's, in the company's currency, of a
        valid amount, paid with another provider than credit."""
        partner = request.env.user.partner_id
        currency = request.env.company.currency_id
        try:
            amount = self._check_topup_amount(str(amount))
        except UserError as exc:
            raise ValidationError(exc.args[0]) from exc
        if not payment_utils.check_access_token(access_token, partner.id, amount, currency.id):
            raise ValidationError(request.env._("The access token is invalid."))
        self._validate_transaction_kwargs(kwargs)
        if kwargs.get("is_validation"):
            raise ValidationError(request.env._("Choose another payment method to add credit."))
        kwargs["landing_route"] = "/my/credit"
        providers_sudo = self._topup_payment_options(partner, amount)[0]
        if self._cast_as_int(provider_id) not in providers_sudo.ids and kwargs.get("flow") != "token":
            raise ValidationError(request.env._("Choose another payment method to add credit."))
        tx_sudo = self._create_transaction(
            provider_id=provider_id,
            amount=amount,
            currency_id=currency.id,
            partner_id=partner.id,
            reference_prefix=payment_utils.singularize_reference_prefix(prefix="CREDIT"),
            custom_create_values={"is_credit_topup": True},
            **kwargs,
        )
        if tx_sudo.provider_code == CREDIT_CODE:  # a token of another provider cannot get here either
            raise ValidationError(request.env._("Choose another payment method to add credit."))
        return tx_sudo._get_processing_values()

    @route("/my/credit/withdraw", type="http", methods=["POST"], auth="user", website=True, sitemap=False)
    def portal_my_credit_withdraw(self, amount=None, note=None, **kw):
        """Ask for part of the credit to be paid out (CSRF-checked POST)."""
        partner = request.env.user.commercial_partner_id
        company = request.env.company
        try:
            value = self._parse_amount(amount, company.currency_id)
            if not (note or "").strip():
                raise UserError(request.env._("Say where to pay the money (e.g. your IBAN)."))
            with request.env.cr.savepoint():
                withdrawal = (
                    request.env["customer.credit.withdrawal"].sudo()._request(partner, value, note, company=company)
                )
        except UserError as exc:
            return self._render_credit_page(error=exc.args[0], withdraw_amount=amount, withdraw_note=note)
        message = "withdrawal_paid" if withdrawal.state == "paid" else "withdrawal"
        return request.redirect(f"/my/credit?message={message}")

    @route(
        "/my/credit/withdrawal/<int:withdrawal_id>/cancel",
        type="http",
        methods=["POST"],
        auth="user",
        website=True,
        sitemap=False,
    )
    def portal_my_credit_withdrawal_cancel(self, withdrawal_id, **kw):
        withdrawal = self._own_withdrawal(withdrawal_id)
        try:
            with request.env.cr.savepoint():
                withdrawal._cancel_by_customer()
        except UserError as exc:
            return self._render_credit_page(error=exc.args[0])
        return request.redirect("/my/credit?message=withdrawal_cancelled")

    @route("/my/credit/statement", type="http", methods=["GET"], auth="user", website=True, sitemap=False)
    def portal_my_credit_statement(self, date_from=None, date_to=None, **kw):
        """The customer's own statement for a date range, as a PDF."""
        try:
            start, end = self._parse_period(date_from, date_to)
        except UserError as exc:
            return self._render_credit_page(error=exc.args[0])
        partner = request.env.user.commercial_partner_id
        report_sudo = request.env.ref("customer_credit.action_report_customer_credit_statement").sudo()
        data = {
            "date_from": fields.Date.to_string(start),
            "date_to": fields.Date.to_string(end),
            "company_id": request.env.company.id,
        }
        content, content_type = report_sudo.with_company(request.env.company)._render_qweb_pdf(
            report_sudo.report_name, [partner.id], data=data
        )
        filename = f"Credit Statement {data['date_from']} {data['date_to']}.pdf"
        headers = [("Content-Type", "application/pdf" if content_type == "pdf" else "text/html; charset=utf-8")]
        if content_type == "pdf":
            headers += [("Content-Disposition", f'attachment; filename="{filename}"')]
        headers += [("Content-Length", len(content))]
        return request.make_response(content, headers=headers)

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _credit_balances(self):
        partner = request.env.user.commercial_partner_id
        return request.env["customer.credit.service"].sudo()._get_balances(partner, request.env.company)

    def _render_credit_page(self, page=1, error=None, message=None, **form_values):
        """/my/credit, for the logged-in customer only (the commercial partner of the user)."""
        partner = request.env.user.commercial_partner_id
        company = request.env.company
        Line = request.env["customer.credit.line"].sudo()
        domain = [("partner_id", "=", partner.id), ("company_id", "=", company.id)]
        total = Line.search_count(domain)
        pager = portal_pager(url="/my/credit", total=total, page=page, step=HISTORY_STEP)
        lines = Line.search(domain, order="date desc, id desc", limit=HISTORY_STEP, offset=pager["offset"])
        lots = request.env["customer.credit.service"].sudo()._usable_lots(partner, company, all_products=True)
        withdrawals = (
            request.env["customer.credit.withdrawal"]
            .sudo()
            .search([("partner_id", "=", partner.id), ("company_id", "=", company.id)], limit=10)
        )
        today = fields.Date.context_today(Line)
        values = {
            **self._prepare_portal_layout_values(),
            "page_name": "credit",
            "credit_partner": partner,
            "credit_company": company,
            "currency": company.currency_id,
            "balances": self._credit_balances(),
            "payable": request.env["customer.credit.withdrawal"].sudo()._payable_amount(partner, company),
            "lots": lots.filtered(lambda lot: company.currency_id.compare_amounts(lot.balance, 0.0) > 0),
            "lines": lines,
            "withdrawals": withdrawals,
            "pager": pager,
            "error": error,
            "message": message,
            "topup_min": company.credit_topup_min,
            "topup_max": company.credit_topup_max,
            "statement_from": today.replace(day=1),
            "statement_to": today,
            **form_values,
        }
        return request.render("customer_credit.portal_my_credit", values)

    def _own_withdrawal(self, withdrawal_id):
        withdrawal = request.env["customer.credit.withdrawal"].sudo().browse(withdrawal_id).exists()
        if not withdrawal or withdrawal.partner_id != request.env.user.commercial_partner_id:
            raise NotFound()
        return withdrawal

    def _topup_payment_options(self, partner, amount):
        """Providers, methods and tokens the customer may top up with: any but credit itself."""
        company = request.env.company
        report = {}
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                company.id,
                partner.id,
                amount,
                currency_id=company.currency_id.id,
                report=report,
                customer_credit_topup=True,
            )
            .filtered(lambda provider: provider.code != CREDIT_CODE)
        )
        payment_methods_sudo = (
            request.env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(
                providers_sudo.ids, partner.id, currency_id=company.currency_id.id, report=report
            )
        )
        tokens_sudo = request.env["payment.token"].sudo()._get_available_tokens(providers_sudo.ids, partner.id)
        return providers_sudo, payment_methods_sudo, tokens_sudo, report

    def _check_topup_amount(self, value):
        company = request.env.company
        currency = company.currency_id
        amount = self._parse_amount(value, currency)
        if company.credit_topup_min and currency.compare_amounts(amount, company.credit_topup_min) < 0:
            raise UserError(
                request.env._(
                    "Add at least %(min)s of credit.",
                    min=format_amount(request.env, company.credit_topup_min, currency),
                )
            )
        if company.credit_topup_max and currency.compare_amounts(amount, company.credit_topup_max) > 0:
            raise UserError(
                request.env._(
                    "Add at most %(max)s of credit at once.",
                    max=format_amount(request.env, company.credit_topup_max, currency),
                )
            )
        return amount

    @staticmethod
    def _parse_amount(value, currency):
        """A positive amount typed by the customer, with at most the currency's decimals."""
        text = str(value if value is not None else "").strip()
        if not AMOUNT_RE.match(text):
            raise UserError(request.env._("Enter the amount as a positive number, for example 25.00."))
        text = text.replace(",", ".")
        decimals = len(text.split(".")[1]) if "." in text else 0
        if decimals > currency.decimal_places:
            raise UserError(
                request.env._(
                    "%(currency)s amounts have at most %(digits)s decimals.",
                    currency=currency.name,
                    digits=currency.decimal_places,
                )
            )
        amount = currency.round(float(text))
        if currency.compare_amounts(amount, 0.0) <= 0:
            raise UserError(request.env._("The amount must be more than zero."))
        return amount

    @staticmethod
    def _parse_period(date_from, date_to):
        try:
            start = fields.Date.to_date(date_from) if date_from else None
            end = fields.Date.to_date(date_to) if date_to else None
        except ValueError as exc:
            raise UserError(request.env._("Enter the dates of the statement as YYYY-MM-DD.")) from exc
        end = end or fields.Date.context_today(request.env.user)
        start = start or date(end.year, end.month, 1)
        if start > end:
            raise UserError(request.env._("The statement must start before it ends."))
        return start, end
