"""The one door for money: every change of a customer credit balance goes through here.

Each public method locks the customer's credit rows, validates, writes the ledger lines and
posts the journal entry in the current transaction, and returns the ledger lines it wrote.
"""

import math
import uuid
from datetime import date

import psycopg2
from psycopg2 import errorcodes

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.tools import float_compare, float_round, format_amount

MANAGER_KINDS = {"granted", "withdraw", "adjust", "transfer", "cancel", "expire"}
LINK_FIELDS = {
    "pos_order_id",
    "pos_payment_id",
    "sale_order_id",
    "transaction_id",
    "invoice_id",
    "payment_id",
    "statement_line_id",
    "withdrawal_id",
}
CANCELLABLE_ORIGINS = {"manual", "granted", "pos", "website", "adjust"}
# Larger amounts are refused: no shop takes such credit, and float rounding stops being exact.
MAX_AMOUNT = 1e12
KEY_MAX_LENGTH = 128
# what ``_lock`` read of each locked customer, ``{(partner id, company id): (balance, overdraft, active
# lot ids, held)}``, kept in the cursor's precommit data (cleared at commit and rollback) until the
# movement writes its ledger lines
LOCK_MEMO = "customer_credit.locked"


class _ServiceToken:
    """The credit service's mark in a context: an object that no JSON request can produce."""

    __slots__ = ()

    def __repr__(self):
        return "<customer credit service>"


SERVICE_TOKEN = _ServiceToken()


class CreditLockTimeout(psycopg2.errors.LockNotAvailable):
    """A customer's credit stayed locked by another movement for longer than the lock timeout: a
    lock timeout still (Odoo retries the request on it), with a message that says what to do."""

    pgcode = errorcodes.LOCK_NOT_AVAILABLE


class CreditBusy(psycopg2.errors.SerializationFailure):
    """Another movement of the same customer committed after this transaction's snapshot: a
    serialization failure still (Odoo retries the request on it), with a message that says what to do."""

    pgcode = errorcodes.SERIALIZATION_FAILURE


def credit_shortfall(message):
    """The error of a spend asking for more credit than the customer has (overdraft room included):
    a plain UserError, which the web client and the till show as such, marked so that a channel can
    tell it from other refusals (``is_credit_shortfall``)."""
    error = UserError(message)
    error.customer_credit_shortfall = True
    return error


def is_credit_shortfall(error):
    return getattr(error, "customer_credit_shortfall", False)


SERVICE_KEY = "customer_credit_service"


def is_service_env(env):
    """Whether ``env`` is the credit service writing: in sudo and marked with the service's own
    token, compared by identity (an RPC caller can send any context key, but never this object;
    Odoo runs some of its own code in sudo with the caller's context)."""
    return env.su and env.context.get(SERVICE_KEY) is SERVICE_TOKEN


def service_env(env):
    """``env`` in sudo, marked as the credit service's."""
    return env(su=True, context=dict(env.context, **{SERVICE_KEY: SERVICE_TOKEN}))


class CustomerCreditService(models.AbstractModel):
    _name = "customer.credit.service"
    _description = "Customer Credit Service"

    # ------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------

    @api.model
    def _topup(
        self,
        partner,
        amount,
        journal=None,
        *,
        granted=False,
        credit_type="generic",
        product=None,
        expiry_date=None,
        origin=None,
        currency=None,
        company=None,
        notes=None,
        links=None,
        description=None,
        key=None,
        move=None,
        move_factory=None,
        counterpart_account=None,
    ):
        """Add credit. Paid through a cash/bank ``journal`` (an inbound ``account.payment`` of the
        customer whose counterpart is Customer Credit), or by an entry of Odoo's own flow (``move``,
        or ``move_factory(env)`` called under the lock); with ``granted``, given for free
        (Dr granted-credit account); with ``counterpart_account``, the service's entry debits that
        account (e.g. POS Credit Clearing: store credit given on a refund)."""
        if granted and counterpart_account:
            raise UserError(self.env._("Say how the money moves: one payment journal, one entry, or granted credit."))
        if counterpart_account:
            self._check_counterpart(counterpart_account, company or self.env.company)
        # credit against any account but cash/bank is as free as granted credit: managers only
        self._check_access("granted" if granted or counterpart_account else "topup")
        partner, company, currency = self._context_of(partner, company, currency)
        amount = self._check_amount(amount, currency)
        if credit_type not in ("generic", "product"):
            raise UserError(self.env._("Unknown credit type %s.", credit_type))
        if credit_type == "product" and not product:
            raise UserError(self.env._("A product-specific credit needs a product."))
        if credit_type == "generic" and product:
            raise UserError(self.env._("A generic credit cannot be bound to a product."))
        if product and product.company_id and product.company_id != company:
            raise UserError(self.env._("The product %s belongs to another company.", product.display_name))
        self._check_payment_source(journal, move, move_factory, granted or counterpart_account, company, currency)
        if granted and not company.credit_granted_account_id:
            raise UserError(self.env._("Set a granted-credit account in the Customer Credit settings first."))
        if not expiry_date and company.credit_validity_months:
            expiry_date = fields.Date.add(fields.Date.context_today(self), months=company.credit_validity_months)
        self._lock([partner], company)
        replayed = self._replayed("topup", company, key, partner, amount)
        if replayed is not None:
            return replayed
        if expiry_date and fields.Date.to_date(expiry_date) < fields.Date.context_today(self):
            raise UserError(self.env._("The expiry date of a new credit cannot be in the past."))
        lot_vals = {
            "credit_type": credit_type,
            "product_id": product.id if product else False,
            "expiry_date": expiry_date or False,
            "origin": origin or ("granted" if granted else "manual"),
            "notes": notes or False,
        }
        if credit_type == "generic":
            entries = self._allocate_credit(partner, company, amount, lot_vals)
        else:
            entries = [{"partner": partner, "lot_vals": lot_vals, "amount": amount}]
        label = description or (self.env._("Granted credit") if granted else self.env._("Credit top-up"))
        counterparts = [(company.credit_granted_account_id, partner, amount, label)] if granted else []
        if counterpart_account:
            counterparts = [(counterpart_account, partner, amount, label)]
        elif not granted:
            self._check_links(dict(links or {}), {partner}, company)
            move = self._paid_move("inbound", partner, amount, company, journal, move, move_factory, label)
        return self._commit(
            "topup", company, currency, entries, counterparts, label, links=links, move=move, key=("topup", key)
        )

    @api.model
    def _spend(
        self,
        partner,
        amount,
        *,
        product=None,
        product_amounts=None,
        counterpart_account=None,
        invoice=None,
        allow_overdraft=True,
        force=False,
        currency=None,
        company=None,
        links=None,
        description=None,
        key=None,
    ):
        """Pay with credit (Dr Customer Credit). The caller says where the value goes: to
        ``counterpart_account`` (the POS clearing account at the POS), or to the receivable of
        ``invoice``, which is then reconciled.

        ``product_amounts`` (``{product: amount}``, or ``product`` for the whole amount): lots bound
        to a product pay at most that much; the rest comes from generic credit. With ``force`` (an
        order already taken, at a till offline), a shortfall never raises: it is recorded as
        overdraft and the credit managers get an activity.
        """
        self._check_access("spend")
        partner, company, currency = self._context_of(partner, company, currency)
        amount = self._check_amount(amount, currency)
        links = dict(links or {})
        if product_amounts is None:
            product_amounts = {product: amount} if product else {}
        elif product:
            raise UserError(self.env._("Give either a product or the amounts per product."))
        product_amounts = self._check_product_amounts(product_amounts, company, currency)
        if invoice:
            links["invoice_id"] = invoice.id
        elif not counterpart_account:
            raise UserError(
                self.env._(
                    "Say where the credit payment goes: an invoice or a counterpart account (e.g. POS clearing)."
                )
            )
        else:
            self._check_counterpart(counterpart_account, company)
        self._lock([partner], company)
        replayed = self._replayed("spend", company, key, partner, -amount)
        if replayed is not None:
            return replayed
        if invoice:
            # after the replay: a retried call finds its invoice already paid by its first run
            counterpart_account = self._check_invoice(invoice, partner, company, currency, amount)
        entries, shortfall = self._allocate_debit(
            partner, company, amount, product_amounts=product_amounts, allow_overdraft=allow_overdraft, force=force
        )
        label = (
            description
            or (invoice and self.env._("Credit payment of %s", invoice.name))
            or self.env._("Paid with credit")
        )
        lines = self._commit(
            "spend",
            company,
            currency,
            entries,
            [(counterpart_account, partner, -amount, label)],
            label,
            links=links,
            key=("spend", key),
        )
        if invoice:
            self._reconcile_with(lines.move_id, invoice)
        if shortfall:
            self._schedule_shortfall_activity(partner, company, shortfall, lines)
        return lines

    @api.model
    def _refund(
        self,
        spend_lines,
        amount=None,
        *,
        counterpart_account=None,
        credit_note=None,
        links=None,
        description=None,
        key=None,
    ):
        """Give back (part of) a spend to the lots it was taken from (Cr Customer Credit). The debit
        goes to ``counterpart_account`` (the POS clearing account), or to the receivable of
        ``credit_note``, which is then reconciled, or by default to where the spend went.

        Lots that can no longer be used (expired, cancelled) get a new generic refund lot instead.
        """
        self._check_access("refund")
        spend_lines = spend_lines.sudo()
        if not spend_lines:
            raise UserError(self.env._("Select the credit payment to refund."))
        operations = set(spend_lines.mapped("operation_ref"))
        spend_lines = spend_lines.search([("operation_ref", "in", list(operations)), ("kind", "=", "spend")])
        if not spend_lines or len(spend_lines.partner_id) != 1 or len(spend_lines.move_id) != 1:
            raise UserError(self.env._("Refund one credit payment at a time."))
        partner, company, currency = spend_lines.partner_id, spend_lines.company_id, spend_lines.currency_id
        self._check_company_allowed(company)
        amount = None if amount is None else self._check_amount(amount, currency)
        links = dict(links or {})
        if credit_note:
            counterpart_account = self._check_credit_note(credit_note, partner, company, currency, None)
            links["invoice_id"] = credit_note.id
        elif counterpart_account:
            self._check_counterpart(counterpart_account, company)
        elif spend_lines.invoice_id:
            # the invoice was settled with this credit: what goes back goes with its credit note
            raise UserError(
                self.env._(
                    "This credit paid the invoice %s: refund it with the invoice's credit note.",
                    spend_lines.invoice_id[:1].name,
                )
            )
        else:
            counterpart_account = spend_lines.move_id.line_ids.filtered(
                lambda aml: aml.account_id != company.credit_account_id
            )[:1].account_id
            if (
                counterpart_account.account_type in ("asset_receivable", "liability_payable")
                and counterpart_account != company.credit_clearing_account_id
            ):
                # a debit on the customer's receivable with nothing to settle would show a false debt
                raise UserError(self.env._("This credit paid a receivable: refund it with the customer's credit note."))
        self._lock([partner], company)
        replayed = self._replayed("refund", company, key, partner, amount)
        if replayed is not None:
            return replayed
        refundable = {line: line._refundable_amount() for line in spend_lines}
        total = currency.round(sum(refundable.values()))
        amount = total if amount is None else amount
        if currency.compare_amounts(total, 0.0) <= 0:
            raise UserError(self.env._("This credit payment has already been refunded in full."))
        if currency.compare_amounts(amount, total) > 0:
            raise UserError(
                self.env._(
                    "At most %(total)s can still be refunded on this payment.",
                    total=format_amount(self.env, total, currency),
                )
            )
        if credit_note and currency.compare_amounts(amount, credit_note.amount_residual) > 0:
            raise UserError(
                self.env._(
                    "%(amount)s is more than what is open on the credit note %(note)s (%(due)s).",
                    amount=format_amount(self.env, amount, currency),
                    note=credit_note.name,
                    due=format_amount(self.env, credit_note.amount_residual, currency),
                )
            )
        entries, rest = [], amount
        overdraft = self._overdraft_balance(partner, company)
        # Give back in the reverse order of consumption. Generic value first settles an open
        # overdraft, so generic credit and an overdraft never stand side by side; what cannot go
        # back to its lot (expired, cancelled, or taken as overdraft) makes a new refund lot.
        for line in spend_lines.sorted("id", reverse=True):
            part = min(rest, refundable[line])
            if currency.compare_amounts(part, 0.0) <= 0:
                continue
            rest = currency.round(rest - part)
            lot = line.lot_id if line.lot_id and line.lot_id._can_take_refund() else None
            if lot and lot.credit_type == "product":
                planned = [{"partner": partner, "lot": lot, "amount": part}]
            else:
                planned = self._allocate_credit(
                    partner, company, part, {"credit_type": "generic", "origin": "refund"}, lot=lot, overdraft=overdraft
                )
                settled = sum(e["amount"] for e in planned if "lot_vals" not in e and not e["lot"])
                overdraft = currency.round(overdraft + settled)
            for entry in planned:
                entry["refunded_line"] = line
            entries += planned
        label = description or self.env._("Refund: %s", spend_lines[0].name)
        lines = self._commit(
            "refund",
            company,
            currency,
            entries,
            [(counterpart_account, partner, amount, label)],
            label,
            links=links,
            key=("refund", key),
        )
        if credit_note:
            self._reconcile_with(lines.move_id, credit_note)
        return lines

    @api.model
    def _withdraw(
        self,
        partner,
        amount,
        journal=None,
        *,
        currency=None,
        company=None,
        links=None,
        description=None,
        key=None,
        move=None,
        move_factory=None,
    ):
        """Pay credit back to the customer (Dr Customer Credit): through a cash/bank ``journal`` (an
        outbound ``account.payment``), or by an entry of Odoo's own flow (``move``, or
        ``move_factory(env)``, e.g. the POS session's cash-out statement line)."""
        self._check_access("withdraw")
        partner, company, currency = self._context_of(partner, company, currency)
        amount = self._check_amount(amount, currency)
        self._check_payment_source(journal, move, move_factory, False, company, currency)
        self._lock([partner], company)
        replayed = self._replayed("withdraw", company, key, partner, -amount)
        if replayed is not None:
            return replayed
        entries, __ = self._allocate_debit(partner, company, amount, allow_overdraft=False)
        label = description or self.env._("Credit withdrawal")
        self._check_links(dict(links or {}), {partner}, company)
        move = self._paid_move("outbound", partner, amount, company, journal, move, move_factory, label)
        return self._commit(
            "withdraw", company, currency, entries, [], label, links=links, move=move, key=("withdraw", key)
        )

    @api.model
    def _adjust(self, partner, amount, reason, *, currency=None, company=None, links=None, key=None):
        """Correct a balance up (amount > 0) or down (amount < 0), against the granted-credit account."""
        self._check_access("adjust")
        partner, company, currency = self._context_of(partner, company, currency)
        if not reason or not str(reason).strip():
            raise UserError(self.env._("Give the reason of the adjustment."))
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise UserError(self.env._("The amount must be a number."))
        if not math.isfinite(amount):
            raise UserError(self.env._("The amount must be a finite number."))
        sign = 1 if amount > 0 else -1
        value = self._check_amount(abs(amount), currency)
        counterpart = company.credit_granted_account_id
        if not counterpart:
            raise UserError(self.env._("Set a granted-credit account in the Customer Credit settings first."))
        self._lock([partner], company)
        replayed = self._replayed("adjust", company, key, partner, sign * value)
        if replayed is not None:
            return replayed
        if sign > 0:
            entries = self._allocate_credit(partner, company, value, {"credit_type": "generic", "origin": "adjust"})
        else:
            entries, __ = self._allocate_debit(partner, company, value, allow_overdraft=False)
        label = self.env._("Credit adjustment: %s", reason)
        return self._commit(
            "adjust",
            company,
            currency,
            entries,
            [(counterpart, partner, sign * value, label)],
            label,
            links=links,
            reason=reason,
            key=("adjust", key),
        )

    @api.model
    def _transfer(
        self, partner, to_partner, amount, *, currency=None, company=None, links=None, description=None, key=None
    ):
        """Move generic credit from one customer to another (both sides on Customer Credit)."""
        self._check_access("transfer")
        partner, company, currency = self._context_of(partner, company, currency)
        to_partner, __, __ = self._context_of(to_partner, company, currency)
        if partner == to_partner:
            raise UserError(self.env._("Credit can only be transferred to another customer."))
        amount = self._check_amount(amount, currency)
        self._lock([partner, to_partner], company)
        replayed = self._replayed("transfer", company, key, partner, -amount)
        if replayed is not None:
            return replayed
        out_entries, __ = self._allocate_debit(partner, company, amount, allow_overdraft=False)
        for entry in out_entries:
            entry["kind"] = "transfer_out"
        expiries = [entry["lot"].expiry_date for entry in out_entries if entry.get("lot") and entry["lot"].expiry_date]
        in_entries = self._allocate_credit(
            to_partner,
            company,
            amount,
            {"credit_type": "generic", "origin": "transfer", "expiry_date": min(expiries) if expiries else False},
        )
        for entry in in_entries:
            entry["kind"] = "transfer_in"
        label = description or self.env._(
            "Credit transfer from %(from)s to %(to)s", **{"from": partner.name, "to": to_partner.name}
        )
        return self._commit(
            "transfer_out", company, currency, out_entries + in_entries, [], label, links=links, key=("transfer", key)
        )

    @api.model
    def _expire(self, lots, reason=None):
        """Expire lots: their remaining balance goes to breakage income (Dr Customer Credit, Cr income)."""
        self._check_access("expire")
        lines = self.env["customer.credit.line"]
        for lot in lots.sudo():
            partner, company, currency = lot.partner_id, lot.company_id, lot.currency_id
            self._check_company_allowed(company)
            if not company.credit_breakage_account_id:
                raise UserError(self.env._("Set a breakage income account in the Customer Credit settings first."))
            self._lock([partner], company)
            lot.invalidate_recordset()
            if lot.state in ("expired", "cancelled"):
                raise UserError(self.env._("The credit %(lot)s is already %(state)s.", lot=lot.name, state=lot.state))
            balance = lot.balance
            if currency.compare_amounts(balance, 0.0) > 0:
                label = self.env._("Expiry of credit %s", lot.name)
                entries = [{"partner": partner, "lot": lot, "amount": -balance}]
                lines |= self._commit(
                    "expire",
                    company,
                    currency,
                    entries,
                    [(company.credit_breakage_account_id, partner, -balance, label)],
                    label,
                    reason=reason,
                )
            lot.with_env(service_env(lot.env)).write(
                {
                    "end_state": "expired",
                    "expiry_date": min(lot.expiry_date or date.max, fields.Date.context_today(self)),
                }
            )
        return lines

    @api.model
    def _cancel(self, lot, reason=None):
        """Cancel an unused lot: its journal entry is reversed and its value taken back."""
        self._check_access("cancel")
        lot = lot.sudo()
        lot.ensure_one()
        partner, company, currency = lot.partner_id, lot.company_id, lot.currency_id
        self._check_company_allowed(company)
        self._lock([partner], company)
        lot.invalidate_recordset()
        if lot.state in ("expired", "cancelled"):
            raise UserError(self.env._("The credit %(lot)s is already %(state)s.", lot=lot.name, state=lot.state))
        if lot.origin not in CANCELLABLE_ORIGINS or not lot.move_id:
            raise UserError(self.env._("Only top-ups can be cancelled; correct other credit with an adjustment."))
        origin_lines = lot.line_ids.search([("operation_ref", "=", lot.line_ids[-1:].operation_ref)])
        if len(lot.line_ids) != 1 or any(len(line.lot_id.line_ids) > 1 for line in origin_lines if line.lot_id):
            raise UserError(
                self.env._(
                    "The credit %s has already been used: correct it with an adjustment or a withdrawal.", lot.name
                )
            )
        matched = lot.move_id.line_ids.filtered(
            lambda aml: aml.account_id != company.credit_account_id and aml.reconciled
        )
        if matched:
            # reversing would unmatch the bank statement line of money that did arrive
            raise UserError(
                self.env._(
                    "The payment of credit %s is already matched with the bank: pay it back with a withdrawal.",
                    lot.name,
                )
            )
        entries = [{"partner": partner, "lot": line.lot_id, "amount": -line.amount} for line in origin_lines]
        label = self.env._("Cancellation of credit %s", lot.name)
        reversal = lot.move_id.with_env(service_env(lot.env))._reverse_moves(
            [{"ref": label, "date": fields.Date.context_today(self)}], cancel=True
        )
        lines = self._commit("cancel", company, currency, entries, None, label, move=reversal, reason=reason)
        lot.with_env(service_env(lot.env)).write({"end_state": "cancelled"})
        return lines

    # ------------------------------------------------------------------
    # Balances (read side)
    # ------------------------------------------------------------------

    @api.model
    def _get_balances(self, partner, company=None, product=None):
        """Balances of a customer: total, usable generic (with overdraft), product-specific (of
        ``product``, or of all products), and what a spend (on ``product``) would accept now."""
        if not self.env.su:
            # the caller must be allowed to see this customer, and to see credit at all
            partner.check_access("read")
            self._check_company_allowed(company or self.env.company)
            own = partner.commercial_partner_id == self.env.user.commercial_partner_id
            if not own and not self.env.user.has_group("customer_credit.group_customer_credit_user"):
                raise AccessError(self.env._("You are not allowed to see the credit of %s.", partner.display_name))
        partner = partner.sudo().commercial_partner_id
        company = company or self.env.company
        currency = company.currency_id
        stored = self.env["customer.credit.balance"].sudo()._read_balances(partner, company)
        total, generic, product_balance, overdraft = stored.get(partner.id, (0.0, 0.0, 0.0, 0.0))
        generic += overdraft
        if product:
            lots = self._usable_lots(partner, company, product)
            product_balance = sum(lots.filtered(lambda lot: lot.credit_type == "product").mapped("balance"))
        held = self._held_amount(partner, company)
        available = max(generic - held + self._overdraft_limit(partner, company), 0.0)
        if product:
            available += product_balance
        return {
            "total": currency.round(total),
            "generic": currency.round(generic),
            "product": currency.round(product_balance),
            "available": currency.round(available),
            "held": currency.round(held),
            "currency_id": currency.id,
        }

    @api.model
    def _held_amount(self, partner, company):
        """Credit set aside (e.g. by pending withdrawal requests): spends, withdrawals and transfers
        cannot take it."""
        return self._held_amounts(partner, company)[partner.id]

    @api.model
    def _held_amounts(self, partners, company):
        """``{partner id: amount held}`` for many customers at once (pending withdrawal requests), from
        their stored balances: one query, none for a customer the movement under way has locked."""
        held = dict.fromkeys(partners.ids, 0.0)
        unlocked = []
        for partner in partners:
            locked = self._locked(partner, company)
            if locked is None:
                unlocked.append(partner.id)
            else:
                held[partner.id] = locked[3]
        if unlocked:
            self.env["customer.credit.withdrawal"].flush_model(["partner_id", "company_id", "amount", "state"])
            self.env.cr.execute(
                "SELECT partner_id, held FROM customer_credit_balance WHERE partner_id = ANY(%s) AND company_id = %s",
                (unlocked, company.id),
            )
            for partner_id, amount in self.env.cr.fetchall():
                held[partner_id] = amount or 0.0
        return held

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _check_access(self, kind):
        if self.env.su:
            return
        group = (
            "customer_credit.group_customer_credit_manager"
            if kind in MANAGER_KINDS
            else "customer_credit.group_customer_credit_user"
        )
        if not self.env.user.has_group(group):
            raise AccessError(self.env._("You are not allowed to record this credit movement."))

    def _context_of(self, partner, company, currency):
        if not partner:
            raise UserError(self.env._("Select a customer."))
        partner.ensure_one()
        partner = partner.sudo().commercial_partner_id
        company = (company or self.env.company).sudo()
        if partner.company_id and partner.company_id not in (company | company.parent_ids):
            raise UserError(
                self.env._(
                    "The customer %(partner)s belongs to another company than %(company)s.",
                    partner=partner.display_name,
                    company=company.name,
                )
            )
        self._check_company_allowed(company)
        if currency and currency != company.currency_id:
            raise UserError(
                self.env._(
                    "Customer credit is kept in %(expected)s, not in %(given)s.",
                    expected=company.currency_id.name,
                    given=currency.name,
                )
            )
        if not company.credit_account_id or not company.credit_journal_id:
            company._customer_credit_setup_accounting()
        return partner, company, company.currency_id

    def _check_company_allowed(self, company):
        if not self.env.su and company not in self.env.user.company_ids:
            raise UserError(self.env._("You cannot record credit in the company %s.", company.name))

    def _check_amount(self, amount, currency):
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise UserError(self.env._("The amount must be a number."))
        if not math.isfinite(amount):
            raise UserError(self.env._("The amount must be a finite number."))
        if abs(amount) > MAX_AMOUNT:
            raise UserError(
                self.env._("The amount %(amount)s is too large.", amount=format_amount(self.env, amount, currency))
            )
        if float_compare(amount, currency.round(amount), precision_digits=currency.decimal_places + 6) != 0:
            raise UserError(
                self.env._(
                    "%(amount)s has more decimals than %(currency)s allows.", amount=amount, currency=currency.name
                )
            )
        amount = currency.round(amount)
        if currency.compare_amounts(amount, 0.0) <= 0:
            raise UserError(self.env._("The amount must be positive."))
        return amount

    def _check_payment_source(self, journal, move, move_factory, granted, company, currency):
        """Exactly one way the money moves: a journal, a linked entry, an entry factory, or a gift."""
        given = [bool(journal), bool(move), bool(move_factory), bool(granted)]
        if sum(given) != 1:
            if not any(given):
                raise UserError(self.env._("Select the cash or bank journal of the payment."))
            raise UserError(self.env._("Say how the money moves: one payment journal, one entry, or granted credit."))
        if journal:
            journal = journal.sudo()
            if journal.type not in ("cash", "bank"):
                raise UserError(self.env._("%s is not a cash or bank journal.", journal.display_name))
            if journal.company_id != company:
                raise UserError(self.env._("The journal %s belongs to another company.", journal.display_name))
            if journal.currency_id and journal.currency_id != currency:
                raise UserError(
                    self.env._(
                        "The journal %(journal)s is in %(currency)s.",
                        journal=journal.display_name,
                        currency=journal.currency_id.name,
                    )
                )
        if move_factory and not callable(move_factory):
            raise UserError(self.env._("The entry factory of a credit movement must be callable."))
        if move:
            move.ensure_one()

    def _paid_move(self, payment_type, partner, amount, company, journal, move, move_factory, label):
        """The posted entry that moves the money of a top-up (``inbound``) or a withdrawal
        (``outbound``): a payment of the customer in ``journal`` whose counterpart is Customer Credit,
        or the entry of Odoo's own flow (``move``, or made by ``move_factory`` in the service's env),
        checked to hold exactly this movement on Customer Credit."""
        env = service_env(self.env)
        if journal:
            payment = (
                env["account.payment"]
                .with_company(company)
                .create(
                    {
                        "payment_type": payment_type,
                        "partner_type": "customer",
                        "partner_id": partner.id,
                        "amount": amount,
                        "currency_id": company.currency_id.id,
                        "journal_id": journal.id,
                        "destination_account_id": company.credit_account_id.id,
                        "memo": label,
                    }
                )
            )
            payment.action_post()
            move = payment.move_id
        sign = -1 if payment_type == "inbound" else 1
        # a factory's entry that does not fit is refused with everything the factory wrote
        with self.env.cr.savepoint():
            if move_factory:
                move = move_factory(env)
                if not isinstance(move, models.BaseModel) or move._name != "account.move" or len(move) != 1:
                    raise UserError(self.env._("The entry factory of a credit movement must return one journal entry."))
            move = move.with_env(env)
            self._check_external_move(move, partner, company, sign * amount)
            if move.state == "draft":
                move._post(soft=False)
        return move

    def _check_external_move(self, move, partner, company, balance):
        currency = company.currency_id
        if move.company_id != company or move.state not in ("draft", "posted"):
            raise UserError(self.env._("The entry %s cannot record this credit movement.", move.display_name))
        lines = move.line_ids.filtered(lambda line: line.account_id == company.credit_account_id)
        others = move.line_ids.filtered(
            lambda line: line.account_id in self.env["res.company"]._customer_credit_accounts() - lines.account_id
        )
        if (
            not lines
            or others
            or any(line.partner_id != partner for line in lines)
            or currency.compare_amounts(sum(lines.mapped("balance")), balance)
        ):
            raise UserError(
                self.env._(
                    "The entry %(move)s must move %(amount)s on the Customer Credit account of %(partner)s.",
                    move=move.display_name,
                    amount=format_amount(self.env, abs(balance), currency),
                    partner=partner.display_name,
                )
            )
        if self.env["customer.credit.line"].sudo().search_count([("move_id", "=", move.id)], limit=1):
            raise UserError(self.env._("The entry %s already records a credit movement.", move.display_name))

    def _check_counterpart(self, account, company):
        account = account.sudo()
        account.ensure_one()
        if account in self.env["res.company"]._customer_credit_accounts():
            raise UserError(self.env._("Credit cannot be paid into the Customer Credit account itself."))
        # the company's account or a parent company's (one query, without loading the account)
        account.flush_recordset(["company_ids"])
        self.env.cr.execute(
            """SELECT 1 FROM account_account_res_company_rel
                WHERE account_account_id = %s AND res_company_id = ANY(%s) LIMIT 1""",
            (account.id, company.parent_ids.ids),
        )
        if not self.env.cr.fetchone():
            raise UserError(self.env._("The account %s belongs to another company.", account.display_name))

    def _check_invoice(self, invoice, partner, company, currency, amount):
        """Check that ``invoice`` can take ``amount`` of credit; returns its receivable account."""
        invoice = invoice.sudo()
        invoice.ensure_one()
        if invoice.company_id != company or invoice.commercial_partner_id != partner:
            raise UserError(self.env._("The invoice %s is not one of this customer's in this company.", invoice.name))
        if invoice.state != "posted" or invoice.move_type != "out_invoice":
            raise UserError(self.env._("Only posted customer invoices can be paid with credit."))
        self._check_document_amount(invoice, currency, amount)
        return invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")[:1].account_id

    def _check_credit_note(self, credit_note, partner, company, currency, amount):
        """Check that credit can be given back on ``credit_note``; returns its receivable account."""
        credit_note = credit_note.sudo()
        credit_note.ensure_one()
        if credit_note.company_id != company or credit_note.commercial_partner_id != partner:
            raise UserError(
                self.env._("The credit note %s is not one of this customer's in this company.", credit_note.name)
            )
        if credit_note.state != "posted" or credit_note.move_type != "out_refund":
            raise UserError(self.env._("Only a posted credit note of the customer can take a credit refund."))
        self._check_document_amount(credit_note, currency, amount)
        return credit_note.line_ids.filtered(lambda line: line.account_type == "asset_receivable")[:1].account_id

    def _check_document_amount(self, document, currency, amount):
        if document.currency_id != currency:
            raise UserError(
                self.env._(
                    "Credit is kept in %(currency)s: %(invoice)s in %(other)s cannot be settled with it.",
                    currency=currency.name,
                    invoice=document.name,
                    other=document.currency_id.name,
                )
            )
        if amount is not None and currency.compare_amounts(amount, document.amount_residual) > 0:
            raise UserError(
                self.env._(
                    "%(amount)s is more than the amount due on %(invoice)s (%(due)s).",
                    amount=format_amount(self.env, amount, currency),
                    invoice=document.name,
                    due=format_amount(self.env, document.amount_residual, currency),
                )
            )

    def _check_product_amounts(self, product_amounts, company, currency):
        if not isinstance(product_amounts, dict):
            raise UserError(self.env._("The amounts per product must be a mapping of products to amounts."))
        checked = {}
        for product, amount in product_amounts.items():
            if not isinstance(product, models.BaseModel) or product._name != "product.product" or len(product) != 1:
                raise UserError(self.env._("The amounts per product must be given per product."))
            if product.company_id and product.company_id != company:
                raise UserError(self.env._("The product %s belongs to another company.", product.display_name))
            checked[product] = currency.round(checked.get(product, 0.0) + self._check_amount(amount, currency))
        return checked

    # ---- idempotency ----------------------------------------------------

    def _key_name(self, key):
        if isinstance(key, models.BaseModel):
            if len(key) != 1:
                raise UserError(self.env._("The key of a credit movement must be one record."))
            return f"{key._name},{key.id}"
        if isinstance(key, str) and key.strip() and len(key) <= KEY_MAX_LENGTH:
            return key.strip()
        raise UserError(
            self.env._("The key of a credit movement must be a record or a text of at most %s characters.", 128)
        )

    def _replayed(self, kind, company, key, partner, amount=None):
        """The ledger lines already recorded for ``key`` (None when the key is new or not given).

        Called under the customer's lock: a concurrent call with the same key has either committed
        (and is seen here after Odoo's retry) or conflicts on the key's unique index. A key names one
        movement: the same key for another customer or another amount (``amount``: signed, as the
        customer's ledger lines add up) is refused, never answered with someone else's movement."""
        if key is None:
            return None
        self.env.cr.execute(
            "SELECT operation_ref FROM customer_credit_key WHERE company_id = %s AND kind = %s AND name = %s",
            (company.id, kind, self._key_name(key)),
        )
        row = self.env.cr.fetchone()
        if not row:
            return None
        lines = self.env["customer.credit.line"].sudo().search([("operation_ref", "=", row[0])], order="id")
        mine = lines.filtered(lambda line: line.partner_id == partner and line.kind != "transfer_in")
        currency = company.currency_id
        if not mine or (amount is not None and currency.compare_amounts(sum(mine.mapped("amount")), amount)):
            raise UserError(
                self.env._(
                    "The key %s already recorded another credit movement: it cannot be used again.",
                    self._key_name(key),
                )
            )
        return lines

    def _register_key(self, kind, company, key, operation_ref):
        """Claim ``key`` for this movement. Under Odoo's REPEATABLE READ, a concurrent transaction
        that claimed it first makes this one fail to serialize, and Odoo retries it: the retry then
        finds the key in :meth:`_replayed` and returns the first movement."""
        self.env.cr.execute(
            """INSERT INTO customer_credit_key (name, kind, company_id, operation_ref, create_uid, create_date,
                                                write_uid, write_date)
               VALUES (%s, %s, %s, %s, %s, now() at time zone 'UTC', %s, now() at time zone 'UTC')
               ON CONFLICT (company_id, kind, name) DO NOTHING RETURNING id""",
            (self._key_name(key), kind, company.id, operation_ref, self.env.uid, self.env.uid),
        )
        if not self.env.cr.fetchone():
            raise UserError(self.env._("This credit movement is already recorded; try again to see it."))

    def _check_links(self, links, partners, company):
        if set(links) - LINK_FIELDS:
            raise UserError(self.env._("A credit movement can only link to its source documents."))
        Line = self.env["customer.credit.line"]
        for fname, value in links.items():
            if not value:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise UserError(self.env._("A credit movement links to documents by their id."))
            record = self.env[Line._fields[fname].comodel_name].sudo().browse(value)
            try:
                # reading the document's company tells whether it exists (no query when the channel
                # just wrote it, e.g. the POS order and payment)
                if "company_id" not in record._fields and not record.exists():
                    raise MissingError(record._name)
                record_company = record["company_id"] if "company_id" in record._fields else company
                owner = next((record[f] for f in ("commercial_partner_id", "partner_id") if f in record._fields), None)
            except MissingError:
                raise UserError(self.env._("The document linked to a credit movement does not exist.")) from None
            if (record_company and record_company != company) or (
                owner and owner.commercial_partner_id not in partners
            ):
                raise UserError(
                    self.env._(
                        "%(document)s is not a document of this customer in %(company)s.",
                        document=record.display_name,
                        company=company.name,
                    )
                )

    def _schedule_shortfall_activity(self, partner, company, shortfall, lines):
        """An order was paid with more credit than the customer had: tell the credit managers."""
        currency = company.currency_id
        note = self.env._(
            "%(partner)s paid %(shortfall)s more with credit than was available (%(label)s); the balance is now "
            "%(balance)s, beyond the overdraft limit.",
            partner=partner.display_name,
            shortfall=format_amount(self.env, shortfall, currency),
            label=lines[:1].name,
            balance=format_amount(self.env, lines[-1:].partner_balance_after, currency),
        )
        self._schedule_manager_activity(partner, company, self.env._("Credit overdrawn beyond the limit"), note)

    def _schedule_manager_activity(self, record, company, summary, note):
        """One To-Do on ``record`` for a credit manager of ``company``."""
        record.sudo().activity_schedule(
            "mail.mail_activity_data_todo", summary=summary, note=note, user_id=self._credit_manager(company).id
        )

    @api.model
    def _credit_manager(self, company):
        """The credit manager who gets the follow-ups of ``company``: its internal, active credit manager
        of lowest id (the administrator when it has none)."""
        managers = (
            self.env.ref("customer_credit.group_customer_credit_manager")
            .sudo()
            .users.filtered(
                lambda user: user.active and not user.share and company in user.company_ids and user.id != 1
            )
        )
        return managers.sorted("id")[:1] or self.env.ref("base.user_admin")

    def _lock(self, partners, company):
        """Lock the customers' credit rows for the rest of the transaction.

        The credit lots are locked ``FOR UPDATE`` and the customer's lock counter is bumped, so a
        concurrent movement of the same customer waits, then fails to serialize and is retried by
        Odoo on fresh data: a balance can never be spent twice.
        """
        self.env.flush_all()
        memo = self.env.cr.precommit.data.setdefault(LOCK_MEMO, {})
        for partner in sorted(partners, key=lambda p: p.id):
            try:
                # one statement: the lots locked, the customer's lock counter bumped, and what the
                # movement reads next (the stored balance and held amount, the active lots), as of the lock
                self.env.cr.execute(
                    """WITH lots AS (
                           SELECT id, state FROM customer_credit
                            WHERE partner_id = %(partner)s AND company_id = %(company)s
                              FOR UPDATE
                       ), bump AS (
                           UPDATE res_partner SET credit_lock_seq = COALESCE(credit_lock_seq, 0) + 1
                            WHERE id = %(partner)s AND (SELECT COUNT(*) FROM lots) >= 0
                        RETURNING id
                       )
                       SELECT (SELECT COUNT(*) FROM bump), COALESCE(b.balance, 0), COALESCE(b.overdraft, 0),
                              ARRAY(SELECT id FROM lots WHERE state = 'active' ORDER BY id), COALESCE(b.held, 0)
                         FROM (SELECT 1) one
                    LEFT JOIN customer_credit_balance b ON b.partner_id = %(partner)s AND b.company_id = %(company)s""",
                    {"partner": partner.id, "company": company.id},
                )
            except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure) as error:
                # still a lock timeout or a serialization failure (another movement of this customer
                # committed after our snapshot), which Odoo retries; with words a cashier can act on
                busy = CreditLockTimeout if isinstance(error, psycopg2.errors.LockNotAvailable) else CreditBusy
                raise busy(
                    self.env._(
                        "The credit of this customer is being changed by another payment right now; "
                        "nothing was recorded. Please try again in a moment."
                    )
                ) from error
            _bumped, balance, overdraft, lot_ids, held = self.env.cr.fetchone()
            # a concurrent change of this customer since our snapshot fails the statement above, so
            # these are the customer's current figures until the movement writes its ledger lines (or
            # a withdrawal request of the customer changes)
            memo[partner.id, company.id] = (balance, overdraft, lot_ids, held)
        # what this transaction read of credit before holding the lock is read again
        self.env["customer.credit"].invalidate_model()
        self.env["customer.credit.line"].invalidate_model()
        self.env["res.partner"].invalidate_model(["credit_available", "credit_due", "credit_pos_lots"])

    def _locked(self, partner, company):
        """What ``_lock`` read of ``partner`` (``(balance, overdraft, active lot ids, held)``), or None when
        the customer is not locked by the movement under way."""
        return self.env.cr.precommit.data.get(LOCK_MEMO, {}).get((partner.id, company.id))

    def _usable_lots(self, partner, company, product=None, all_products=False):
        """Lots that can be spent now: generic ones and those of ``product`` (one product or
        several, or of any product with ``all_products``), in consumption order."""
        today = fields.Date.context_today(self)
        domain = [
            ("partner_id", "=", partner.id),
            ("company_id", "=", company.id),
            ("state", "=", "active"),
            "|",
            ("expiry_date", "=", False),
            ("expiry_date", ">=", today),
        ]
        if not all_products:
            domain += ["|", ("credit_type", "=", "generic"), ("product_id", "in", product.ids if product else [])]
        locked = self._locked(partner, company)
        if locked is None:
            lots = self.env["customer.credit"].sudo().search(domain)
        else:
            # under the lock: the active lots it read, filtered here as ``domain`` (one read of their fields)
            product_ids = set(product.ids) if product else set()
            lots = (
                self.env["customer.credit"]
                .sudo()
                .browse(locked[2])
                .filtered(
                    lambda lot: (
                        lot.state == "active"
                        and (not lot.expiry_date or lot.expiry_date >= today)
                        and (all_products or lot.credit_type == "generic" or lot.product_id.id in product_ids)
                    )
                )
            )

        def order(lot):
            return (
                0 if lot.credit_type == "product" else 1,
                lot.expiry_date or date.max,
                lot.create_date,
                lot.id,
            )

        return lots.sorted(order)

    def _stored_balance(self, partner, company):
        """The customer's stored sums (``customer.credit.balance``): one indexed row, already read by
        the lock when the customer is locked."""
        locked = self._locked(partner, company)
        if locked is not None:
            return locked[:2]
        self.env.cr.execute(
            "SELECT balance, overdraft FROM customer_credit_balance WHERE partner_id = %s AND company_id = %s",
            (partner.id, company.id),
        )
        return self.env.cr.fetchone() or (0.0, 0.0)

    def _partner_balance(self, partner, company):
        return self._stored_balance(partner, company)[0]

    def _overdraft_balance(self, partner, company):
        return self._stored_balance(partner, company)[1]

    def _overdraft_limit(self, partner, company):
        return self._overdraft_limits(partner, company)[partner.id]

    def _overdraft_limits(self, partners, company):
        """``{partner id: overdraft limit}`` in ``company``, in one query for all ``partners``."""
        partners = partners.sudo().with_company(company)
        partners.fetch(["credit_allow_overdraft"])
        allowed = partners.filtered("credit_allow_overdraft")
        limits = dict.fromkeys(partners.ids, 0.0)
        if not allowed:
            return limits
        # Odoo 18 keeps company-dependent values as JSONB, one key per company: a customer without a key
        # has no limit of their own and gets the company's default; a stored 0 means 0. (res.company makes
        # its default the field's fallback, so an explicit 0 differs from it and is stored.)
        allowed.flush_recordset(["credit_overdraft_limit"])
        self.env.cr.execute(
            "SELECT id, credit_overdraft_limit -> %s FROM res_partner WHERE id = ANY(%s)",
            (str(company.id), allowed.ids),
        )
        for partner_id, own in self.env.cr.fetchall():
            limits[partner_id] = own if own is not None else company.credit_overdraft_limit
        return limits

    def _available_credits(self, partners, company):
        """``{partner id: (available, due)}``: what ``_get_balances`` says of the generic spend of each
        one's commercial partner (``available``) and of what it owes, for any number of customers in
        one query (the amounts held included): the till loads them by the hundred, screens read
        them one by one, and a balance is one stored row whatever the customer's history."""
        ids = [partner_id for partner_id in partners.ids if partner_id]
        return {row[0]: row[2:] for row in self._available_credit_rows(ids, company)}

    def _available_credit_rows(self, ids, company, of_commercial=False):
        """``[(partner id, commercial partner id, available, due)]`` of the partners ``ids`` (with
        ``of_commercial``: of all the active contacts of the commercial partners ``ids``), as
        ``_available_credits`` says."""
        if not ids:
            return []
        Partner = self.env["res.partner"].sudo().with_company(company)
        Partner.flush_model(["commercial_partner_id", "credit_allow_overdraft", "credit_overdraft_limit"])
        self.env["customer.credit"].flush_model(["partner_id", "company_id", "credit_type", "state", "expiry_date"])
        self.env["customer.credit.withdrawal"].flush_model(["partner_id", "company_id", "amount", "state"])
        allowed_by_default = Partner._fields["credit_allow_overdraft"].get_company_dependent_fallback(Partner)
        # Odoo 18 keeps company-dependent values as JSONB, one key per company; a customer allowed an
        # overdraft without a limit of their own has the company's default limit
        self.env.cr.execute(
            """
            SELECT p.id, cp.id, COALESCE(b.generic, 0), COALESCE(b.overdraft, 0),
                   COALESCE((cp.credit_allow_overdraft ->> %(key)s)::bool, %(allowed)s),
                   COALESCE((cp.credit_overdraft_limit ->> %(key)s)::float8, co.credit_overdraft_limit, 0),
                   cur.rounding, x.expiry_dates, x.balances, COALESCE(b.held, 0)
              FROM res_partner p
              JOIN res_partner cp ON cp.id = COALESCE(p.commercial_partner_id, p.id)
              JOIN res_company co ON co.id = %(company)s
              JOIN res_currency cur ON cur.id = co.currency_id
         LEFT JOIN customer_credit_balance b ON b.partner_id = cp.id AND b.company_id = co.id
         LEFT JOIN LATERAL (
                    SELECT array_agg(c.expiry_date) AS expiry_dates, array_agg(c.balance::float8) AS balances
                      FROM customer_credit c
                     WHERE c.partner_id = b.partner_id AND c.company_id = b.company_id AND c.state = 'active'
                       AND c.credit_type = 'generic' AND c.expiry_date <= CURRENT_DATE + 1
                   ) x ON b.partner_id IS NOT NULL
             WHERE (%(of_commercial)s AND p.commercial_partner_id = ANY(%(ids)s) AND p.active)
                OR (NOT %(of_commercial)s AND p.id = ANY(%(ids)s))
            """,
            {
                "ids": ids,
                "of_commercial": of_commercial,
                "company": company.id,
                "key": str(company.id),
                "allowed": bool(allowed_by_default),
            },
        )
        rows = self.env.cr.fetchall()
        # the user's today is at most a day from the database's: lots that may be past their expiry
        # date were read with their date, and only then is the user's today needed
        today = fields.Date.context_today(self) if any(row[7] for row in rows) else None
        result = []
        for (
            partner_id,
            commercial_id,
            generic,
            overdraft,
            allowed,
            limit,
            rounding,
            dates,
            balances,
            held,
        ) in rows:
            generic -= sum(
                balance for expiry, balance in zip(dates or [], balances or [], strict=True) if expiry < today
            )
            limit = limit if allowed else 0.0
            available = max(generic + overdraft - held + limit, 0.0)
            result.append(
                (
                    partner_id,
                    commercial_id,
                    float_round(available, precision_rounding=rounding),
                    float_round(max(-overdraft, 0.0), precision_rounding=rounding),
                )
            )
        return result

    def _allocate_debit(self, partner, company, amount, product_amounts=None, allow_overdraft=True, force=False):
        """Plan taking ``amount`` from the customer's lots: lots of a product in ``product_amounts``
        first (each product's lots at most its amount), then generic lots by earliest expiry, then
        oldest; the rest as overdraft if allowed. Returns ``(entries, shortfall)``.

        The generic part may not bring the customer's generic credit (lots plus any overdraft, less
        what is held) below minus the overdraft limit (0 without overdraft), so an open overdraft is
        never paid out or moved away while refunded lots hold value. With ``force`` nothing is
        refused: what is missing is taken as overdraft and returned as the shortfall.
        """
        currency = company.currency_id
        product_amounts = product_amounts or {}
        products = self.env["product.product"].browse([product.id for product in product_amounts])
        lots = self._usable_lots(partner, company, products)
        caps = {product.id: cap for product, cap in product_amounts.items()}
        product_credit = 0.0
        for product_id, cap in caps.items():
            held_by_product = sum(lots.filtered(lambda lot, pid=product_id: lot.product_id.id == pid).mapped("balance"))
            product_credit += min(cap, held_by_product)
        product_part = min(amount, currency.round(product_credit))
        overdraft = self._overdraft_balance(partner, company)
        generic_credit = sum(lots.filtered(lambda lot: lot.credit_type == "generic").mapped("balance")) + overdraft
        generic_credit -= self._held_amount(partner, company)
        generic_part = currency.round(amount - product_part)
        shortfall = limit = 0.0
        if (
            currency.compare_amounts(generic_part, 0.0) > 0
            and currency.compare_amounts(generic_credit, generic_part) < 0
        ):
            # only a spend beyond the customer's credit needs the overdraft limit
            limit = self._overdraft_limit(partner, company) if allow_overdraft else 0.0
        if currency.compare_amounts(generic_part, 0.0) > 0 and (
            currency.compare_amounts(generic_credit - generic_part, -limit) < 0
        ):
            available = product_part + max(generic_credit + limit, 0.0)
            if not force:
                raise credit_shortfall(
                    self.env._(
                        "%(partner)s has only %(available)s of credit available for %(amount)s.",
                        partner=partner.display_name,
                        available=format_amount(self.env, currency.round(available), currency),
                        amount=format_amount(self.env, amount, currency),
                    )
                )
            shortfall = currency.round(amount - available)
        entries, rest = [], amount
        for lot in lots:
            if currency.compare_amounts(rest, 0.0) <= 0:
                break
            part = min(rest, lot.balance)
            if lot.credit_type == "product":
                part = min(part, caps.get(lot.product_id.id, 0.0))
                caps[lot.product_id.id] = currency.round(caps.get(lot.product_id.id, 0.0) - max(part, 0.0))
            if currency.compare_amounts(part, 0.0) <= 0:
                continue
            entries.append({"partner": partner, "lot": lot, "amount": -part})
            rest = currency.round(rest - part)
        if currency.compare_amounts(rest, 0.0) > 0:
            entries.append({"partner": partner, "lot": None, "amount": -rest})
        return entries, shortfall

    def _allocate_credit(self, partner, company, amount, lot_vals, lot=None, overdraft=None):
        """Plan adding generic ``amount``: it first settles the overdraft (``overdraft``, by default
        the customer's open one), the rest goes to ``lot`` or to a new lot made of ``lot_vals``."""
        currency = company.currency_id
        if overdraft is None:
            overdraft = self._overdraft_balance(partner, company)
        entries, rest = [], amount
        if currency.compare_amounts(overdraft, 0.0) < 0:
            settle = min(rest, -overdraft)
            entries.append({"partner": partner, "lot": None, "amount": settle})
            rest = currency.round(rest - settle)
        if currency.compare_amounts(rest, 0.0) > 0:
            target = {"lot": lot} if lot else {"lot_vals": dict(lot_vals)}
            entries.append({"partner": partner, "amount": rest, **target})
        return entries

    def _commit(
        self, kind, company, currency, entries, counterparts, label, links=None, move=None, reason=None, key=None
    ):
        """Write the planned ledger lines and post their journal entry (or link ``move``).

        ``key``: ``(kind, idempotency key)``; the key is claimed before anything is written."""
        links = dict(links or {})
        self._check_links(links, {entry["partner"] for entry in entries}, company)
        if move is not None:
            # the entry made by Odoo's own flow says which payment or statement line it is
            if move.origin_payment_id and not links.get("payment_id"):
                links["payment_id"] = move.origin_payment_id.id
            if move.statement_line_id and not links.get("statement_line_id"):
                links["statement_line_id"] = move.statement_line_id.id
        Lot = self.env["customer.credit"].with_env(service_env(self.env))
        Line = self.env["customer.credit.line"].with_env(service_env(self.env))
        operation_ref = uuid.uuid4().hex[:12].upper()
        if key and key[1] is not None:
            self._register_key(key[0], company, key[1], operation_ref)
        partner_totals = {}
        for entry in entries:
            entry["amount"] = currency.round(entry["amount"])
            partner_totals.setdefault(entry["partner"], 0.0)
            partner_totals[entry["partner"]] += entry["amount"]
        if move is None:
            move = self._post_move(company, currency, partner_totals, counterparts or [], label)
        new_lots = Lot
        for entry in entries:
            if entry.get("lot_vals"):
                entry["lot"] = Lot.create(
                    {
                        **entry.pop("lot_vals"),
                        "partner_id": entry["partner"].id,
                        "company_id": company.id,
                        "currency_id": currency.id,
                        "amount": entry["amount"],
                        "move_id": move.id,
                    }
                )
                new_lots |= entry["lot"]
        balances = {partner: self._partner_balance(partner, company) for partner in partner_totals}
        vals_list = []
        for entry in entries:
            partner, lot = entry["partner"], entry.get("lot") or Lot
            lot_before = 0.0 if lot in new_lots else lot.balance
            before = balances[partner]
            balances[partner] = currency.round(before + entry["amount"])
            vals_list.append(
                {
                    # the currency before the amounts: the ORM puts the new line in its cache in this
                    # order, and rounds each amount with the currency it already has
                    "currency_id": currency.id,
                    "name": label,
                    "operation_ref": operation_ref,
                    "kind": entry.get("kind", kind),
                    "amount": entry["amount"],
                    "company_id": company.id,
                    "partner_id": partner.id,
                    "lot_id": lot.id,
                    "credit_type": lot.credit_type or False,
                    "partner_balance_before": before,
                    "partner_balance_after": balances[partner],
                    "lot_balance_before": lot_before if lot else 0.0,
                    "lot_balance_after": currency.round(lot_before + entry["amount"]) if lot else 0.0,
                    "refunded_line_id": entry.get("refunded_line", Line).id,
                    "move_id": move.id,
                    "reason": reason or False,
                    "user_id": self.env.uid,
                    **links,
                }
            )
        lines = Line.create(vals_list)
        # the ledger's trigger moved the lots' balances to their lines' ``lot_balance_after``: that
        # goes to the cache (a lot moved by several lines is read again), and their state follows
        after = {}
        for vals in vals_list:
            if vals["lot_id"]:
                after.setdefault(vals["lot_id"], []).append(vals["lot_balance_after"])
        lots = Lot.browse(list(after))
        once = lots.filtered(lambda lot: len(after[lot.id]) == 1)
        self.env.cache.update(once, Lot._fields["balance"], [after[lot.id][0] for lot in once])
        (lots - once).invalidate_recordset(["balance"], flush=False)
        lots.modified(["balance"])
        # the customers' figures read by the lock are now out of date
        memo = self.env.cr.precommit.data.get(LOCK_MEMO, {})
        for partner in partner_totals:
            memo.pop((partner.id, company.id), None)
        # ``customer_credit_quiet`` (the till): the ledger line and the order are the history, the
        # receipt tells the customer: no lot chatter, no mail
        quiet = self.env.context.get("customer_credit_quiet")
        for line in lines.filtered("lot_id") if not quiet else Line:
            line.lot_id._message_log(
                body=self.env._(
                    "%(kind)s of %(amount)s: balance %(before)s → %(after)s (%(label)s)",
                    kind=dict(line._fields["kind"]._description_selection(self.env))[line.kind],
                    amount=format_amount(self.env, line.amount, currency),
                    before=format_amount(self.env, line.lot_balance_before, currency),
                    after=format_amount(self.env, line.lot_balance_after, currency),
                    label=line.name,
                )
            )
        self.env.flush_all()
        self._notify(lines)
        return lines.with_env(self.env)

    def _post_move(self, company, currency, partner_totals, counterparts, label):
        credit_account = company.credit_account_id
        line_vals = []
        for partner, total in partner_totals.items():
            line_vals.append(self._move_line_vals(credit_account, partner, -currency.round(total), label))
        for account, partner, balance, line_label in counterparts:
            line_vals.append(self._move_line_vals(account, partner, currency.round(balance), line_label))
        line_vals = [vals for vals in line_vals if vals["debit"] or vals["credit"]]
        partners = list(partner_totals)
        plan = self._can_insert_move(company, currency, line_vals)
        if plan:
            return self._insert_move(company, partners[0] if len(partners) == 1 else None, line_vals, label, plan)
        move = (
            self.env["account.move"]
            .with_env(service_env(self.env))
            .with_company(company)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": company.credit_journal_id.id,
                    "date": fields.Date.context_today(self),
                    "ref": label,
                    "partner_id": partners[0].id if len(partners) == 1 else False,
                    "currency_id": currency.id,
                    # a credit movement is no sales document: no sales team (not the user's by default)
                    **({"team_id": False} if "team_id" in self.env["account.move"]._fields else {}),
                    "line_ids": [(0, 0, vals) for vals in line_vals],
                }
            )
        )
        move._post(soft=False)
        return move

    def _can_insert_move(self, company, currency, line_vals):
        """Whether the entry may take the direct way of ``_insert_move``: a plain entry in the company
        currency, on active accounts of the company, in an unsecured journal, at a date no lock date
        closes. Anything else goes through ``account.move.create`` and ``_post``.

        Returns what ``_insert_move`` needs (the journal's code and auto-check, the accounts'
        ``reconcile``), read in one query, or None."""
        if currency != company.currency_id or self.env.context.get("customer_credit_orm_post"):
            return None
        # any lock date that closes today (whatever exceptions may allow): Odoo's posting decides
        today = fields.Date.context_today(self)
        parents = company.parent_ids | company
        if any(
            lock and lock >= today for lock in parents.mapped("fiscalyear_lock_date") + parents.mapped("hard_lock_date")
        ):
            return None
        # the journal active and unsecured; the accounts none deprecated nor off balance, each one of
        # the company's (or of a parent company's)
        account_ids = list({vals["account_id"] for vals in line_vals})
        self.env["account.journal"].flush_model(["code", "active", "restrict_mode_hash_table", "autocheck_on_post"])
        self.env["account.account"].flush_model(["deprecated", "account_type", "company_ids", "reconcile"])
        self.env.cr.execute(
            """SELECT j.code, j.autocheck_on_post,
                      (SELECT json_object_agg(a.id, COALESCE(a.reconcile, FALSE)) FROM account_account a
                        WHERE a.id = ANY(%(accounts)s) AND NOT COALESCE(a.deprecated, FALSE)
                          AND a.account_type != 'off_balance'
                          AND EXISTS (SELECT 1 FROM account_account_res_company_rel r
                                       WHERE r.account_account_id = a.id AND r.res_company_id = ANY(%(companies)s)))
                 FROM account_journal j
                WHERE j.id = %(journal)s AND j.active AND NOT COALESCE(j.restrict_mode_hash_table, FALSE)""",
            {"accounts": account_ids, "companies": parents.ids, "journal": company.credit_journal_id.id},
        )
        row = self.env.cr.fetchone()
        reconcile = {int(account_id): flag for account_id, flag in ((row and row[2]) or {}).items()}
        if not row or len(reconcile) != len(account_ids):
            return None
        return {"code": row[0], "checked": row[1], "reconcile": reconcile}

    def _insert_move(self, company, partner, line_vals, label, plan):
        """Post the entry of a movement with two INSERTs: the values ``account.move.create`` + ``_post``
        store for a plain, balanced, untaxed entry in the company currency (``_can_insert_move``).

        At the till a credit payment would otherwise cost as much as the rest of the order's sync. The
        result is the same entry, column for column: ``test_fast_post.py`` posts one both ways and
        compares every stored field of the entry and its items. Only the service calls this, under its
        lock, in the transaction that writes the ledger lines."""
        journal = company.credit_journal_id
        date = fields.Date.context_today(self)
        name, prefix, number = self.env["account.move"]._customer_credit_next_name(journal, date, plan["code"])
        currency = company.currency_id
        total = currency.round(sum(vals["debit"] for vals in line_vals))
        commercial = partner.commercial_partner_id if partner else None
        cr = self.env.cr
        cr.execute(
            """
            INSERT INTO account_move (
                name, sequence_prefix, sequence_number, journal_id, company_id, currency_id, partner_id,
                commercial_partner_id, ref, state, move_type, auto_post, payment_state,
                invoice_partner_display_name, date, invoice_date_due, invoice_currency_rate,
                amount_untaxed, amount_tax, amount_total, amount_residual, amount_untaxed_signed,
                amount_untaxed_in_currency_signed, amount_tax_signed, amount_total_signed,
                amount_total_in_currency_signed, amount_residual_signed, is_storno, always_tax_exigible,
                checked, posted_before, made_sequence_gap, is_manually_modified, team_id,
                create_uid, write_uid, create_date, write_date
            ) VALUES (
                %(name)s, %(prefix)s, %(number)s, %(journal)s, %(company)s, %(currency)s, %(partner)s,
                %(commercial)s, %(ref)s, 'posted', 'entry', 'no', 'not_paid',
                %(display_name)s, %(date)s, %(date)s, 0.0,
                0.0, 0.0, %(total)s, 0.0, 0.0,
                0.0, 0.0, %(total)s,
                %(total)s, 0.0, FALSE, TRUE,
                %(checked)s, TRUE, FALSE, FALSE, %(team)s,
                %(uid)s, %(uid)s, (now() at time zone 'UTC'), (now() at time zone 'UTC')
            ) RETURNING id
            """,
            {
                "name": name,
                "prefix": prefix,
                "number": number,
                "journal": journal.id,
                "company": company.id,
                "currency": currency.id,
                "partner": partner.id if partner else None,
                "commercial": commercial.id if commercial else None,
                "ref": label,
                "display_name": partner.display_name if partner else f"#Created by: {self.env.user.name}",
                "date": date,
                "total": total,
                "checked": plan["checked"],
                "team": None,
                "uid": self.env.uid,
            },
        )
        move_id = cr.fetchone()[0]
        reconcilable = plan["reconcile"]
        rows = []
        for vals in line_vals:
            balance = currency.round(vals["debit"] - vals["credit"])
            residual = balance if reconcilable[vals["account_id"]] else 0.0
            rows.append(
                (
                    move_id, journal.id, company.id, currency.id, 100, vals["account_id"], currency.id,
                    vals["partner_id"] or None, name, "posted", label, vals["name"], "product", date,
                    vals["debit"], vals["credit"], balance, balance, residual, residual, 1.0, 0.0, balance,
                    balance, 0.0, False, False, self.env.uid, self.env.uid,
                )
            )  # fmt: skip
        row_sql = "({})".format(", ".join(["%s"] * 29 + ["(now() at time zone 'UTC')"] * 2))
        values = ", ".join([row_sql] * len(rows))
        cr.execute(
            f"""
            INSERT INTO account_move_line (
                move_id, journal_id, company_id, company_currency_id, sequence, account_id, currency_id,
                partner_id, move_name, parent_state, ref, name, display_type, date,
                debit, credit, balance, amount_currency, amount_residual, amount_residual_currency, quantity,
                price_unit, price_subtotal, price_total, discount, tax_tag_invert, reconciled,
                create_uid, write_uid, create_date, write_date
            ) VALUES {values}
            """,
            [value for row in rows for value in row],
        )
        move = self.env["account.move"].browse(move_id)
        # what an ORM create would have told the cache: the computed totals (the partner's credit and
        # debit, ...) and the lists of records that may now include the new ones; the stored values
        # of the records already read do not change
        for model in ("account.move.line", "account.move", "res.partner"):
            self.env[model].invalidate_model(self._volatile_fields(model), flush=False)
        return move

    @api.model
    @tools.ormcache("model_name")
    def _volatile_fields(self, model_name):
        """The fields of ``model_name`` that entries written in SQL may change on records already in
        the cache: the computed ones that are not stored, and the one2many lists."""
        return tuple(
            name for name, field in self.env[model_name]._fields.items() if not field.store or field.type == "one2many"
        )

    def _move_line_vals(self, account, partner, balance, label):
        return {
            "name": label,
            "account_id": account.id,
            "partner_id": partner.id,
            "debit": balance if balance > 0 else 0.0,
            "credit": -balance if balance < 0 else 0.0,
        }

    def _reconcile_with(self, move, invoice):
        receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        (move.line_ids | receivable)._customer_credit_reconcile_open(receivable.account_id)

    def _notify(self, lines):
        """Mail the customer once per movement (if the company wants it)."""
        if self.env.context.get("customer_credit_quiet"):
            return
        template = self.env.ref("customer_credit.mail_template_credit_movement", raise_if_not_found=False)
        if not template:
            return
        seen = set()
        for line in lines:
            key = (line.partner_id.id, line.operation_ref)
            if key in seen or not line.company_id.credit_send_mail or not line.partner_id.email:
                continue
            seen.add(key)
            template.sudo().send_mail(line.id, email_layout_xmlid="mail.mail_notification_light")

    # ------------------------------------------------------------------
    # Demo data
    # ------------------------------------------------------------------

    @api.model
    def _demo_invoice(self, partner, amount, move_type="out_invoice"):
        """A posted demo invoice (or credit note) of ``amount``, without taxes."""
        company = self.env.ref("base.main_company")
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_line_ids": [
                        (0, 0, {"name": "Demo purchase", "quantity": 1, "price_unit": amount, "tax_ids": [(5, 0)]})
                    ],
                }
            )
        )
        move.action_post()
        return move

    @api.model
    def _load_demo_data(self):
        """Demo customers with history, an expired lot, an overdraft, and a POS credit method."""
        company = self.env.ref("base.main_company")
        company._customer_credit_setup_accounting()
        service = self.sudo().with_company(company)
        cash = self.env["account.journal"].search([("type", "=", "cash"), ("company_id", "=", company.id)], limit=1)
        ref = self.env.ref
        alice, bob = ref("customer_credit.partner_alice_demo"), ref("customer_credit.partner_bob_demo")
        carol, dan = ref("customer_credit.partner_carol_demo"), ref("customer_credit.partner_dan_demo")
        pen = ref("point_of_sale.whiteboard_pen", raise_if_not_found=False)
        today = fields.Date.context_today(self)

        service._topup(alice, 200.0, cash, expiry_date=fields.Date.add(today, months=12))
        invoice = self._demo_invoice(alice, 45.5)
        spent = service._spend(alice, 45.5, invoice=invoice)
        service._refund(spent, 10.0, credit_note=self._demo_invoice(alice, 10.0, "out_refund"))
        if pen:
            service._topup(alice, 30.0, cash, credit_type="product", product=pen)
        service._transfer(alice, carol, 20.0)

        service._topup(bob, 50.0, cash)
        service._spend(bob, 80.0, invoice=self._demo_invoice(bob, 80.0))

        old = service._topup(carol, 100.0, cash, expiry_date=fields.Date.add(today, days=1))
        old.lot_id.write({"expiry_date": fields.Date.subtract(today, days=3)})
        self.env["customer.credit"]._cron_expire()
        service._topup(carol, 25.0, granted=True)
        service._withdraw(carol, 15.0, cash)

        service._topup(dan, 60.0, cash)
        service._adjust(dan, -5.0, "Demo correction of a miscounted top-up")

        config = ref("point_of_sale.pos_config_main", raise_if_not_found=False)
        method = self.env["pos.payment.method"].create(
            {
                "name": "Customer Credit",
                "is_credit_method": True,
                "journal_id": company.credit_journal_id.id,
                "receivable_account_id": company.credit_clearing_account_id.id,
                "split_transactions": False,
                "company_id": company.id,
            }
        )
        self.env["ir.model.data"]._update_xmlids(
            [{"xml_id": "customer_credit.pos_payment_method_credit_demo", "record": method, "noupdate": True}]
        )
        if config:
            config.write({"payment_method_ids": [(4, method.id)]})
        self._load_website_demo_data()
