import logging

from odoo import models
from odoo.exceptions import UserError

from .customer_credit_service import CreditBusy, CreditLockTimeout


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _customer_credit_user_error(cls, exception):
        """The exception to answer with: a credit movement that lost the concurrency race on every
        try Odoo made (``CreditBusy``, ``CreditLockTimeout``) becomes a ``UserError`` with its clear
        message (a 400 page with the message on the website, a dialog on the till), not a server
        error; any other exception is returned unchanged."""
        if isinstance(exception, (CreditBusy, CreditLockTimeout)):
            error = UserError(str(exception))
            error.__cause__ = exception
            return error
        return exception

    @classmethod
    def _handle_error(cls, exception):
        # called once, after Odoo's retrying of the request gave up
        error = cls._customer_credit_user_error(exception)
        if error is not exception:
            # logged as a warning by odoo.http (no traceback): an expected outcome under load
            exception.loglevel = logging.WARNING
        return super()._handle_error(error)
