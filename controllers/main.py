import logging

from werkzeug.exceptions import NotFound

from odoo.http import Controller, request, route

from ..models.payment_provider import CREDIT_CODE
from ..models.payment_transaction import PROCESS_URL

_logger = logging.getLogger(__name__)


class CustomerCreditPaymentController(Controller):
    @route(PROCESS_URL, type="http", auth="user", methods=["POST"], website=True, sitemap=False)
    def customer_credit_process(self, reference=None, **post):
        """Pay a transaction with credit: only the logged-in customer's own transaction (CSRF-checked
        POST from the redirect form); the model locks and processes it once."""
        tx_sudo = (
            request.env["payment.transaction"]
            .sudo()
            .search([("reference", "=", reference or ""), ("provider_code", "=", CREDIT_CODE)], limit=1)
        )
        if (
            not reference
            or not tx_sudo
            or (tx_sudo.partner_id.commercial_partner_id != request.env.user.commercial_partner_id)
        ):
            raise NotFound()
        _logger.info("Customer Credit: processing transaction %s", tx_sudo.reference)
        tx_sudo._handle_notification_data(CREDIT_CODE, {"reference": tx_sudo.reference})
        return request.redirect("/payment/status")
