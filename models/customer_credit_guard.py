"""Odoo is never set up to post on the Customer Credit account by itself: only the credit service does."""

from odoo.exceptions import ValidationError


def account_fields(model):
    """Names of the fields of ``model`` holding one account."""
    return [
        name
        for name, field in model._fields.items()
        if field.type == "many2one" and field.comodel_name == "account.account" and not field.related
    ]


def check_no_credit_account(record, vals, label, fnames=None, allowed=()):
    """Refuse ``vals`` that make a Customer Credit account one of ``record``'s accounts (``fnames``, by
    default all its account fields), unless ``fname`` is in ``allowed``; ``label`` names the record."""
    fnames = [fname for fname in (fnames or account_fields(record)) if vals.get(fname) and fname not in allowed]
    if not fnames:
        return
    accounts = record.env["res.company"]._customer_credit_accounts()
    for fname in fnames:
        value = vals[fname]
        if (value.id if hasattr(value, "id") else value) in accounts.ids:
            raise ValidationError(
                record.env._(
                    "The Customer Credit account cannot be the %(field)s of %(record)s: only credit movements "
                    "post on it.",
                    field=record._fields[fname]._description_string(record.env),
                    record=label,
                )
            )
