import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";

patch(PaymentScreen.prototype, {
    /** The credit figures shown on the payment screen (null without a credit method or customer). */
    get customerCreditInfo() {
        const order = this.currentOrder;
        const partner = order.get_partner();
        const hasMethod = this.payment_methods_from_config.some((method) => method.is_credit_method);
        if (!partner || !hasMethod) {
            return null;
        }
        const total = this.pos.getCustomerCreditTotal(partner);
        const used = this.pos.getCustomerCreditUsed(order);
        const isRefund = order.get_total_with_tax() < 0;
        return {
            total,
            used,
            after: this.pos.roundCustomerCredit(total - used),
            due: partner.credit_due || 0,
            lots: isRefund ? [] : this.pos.getCustomerCreditLotsForOrder(order),
            payable: this.pos.getCustomerCreditPayable(order),
            isRefund,
            refundable: isRefund ? this.pos.getCustomerCreditRefundable(order) : 0,
        };
    },
    async addNewPaymentLine(paymentMethod) {
        if (!paymentMethod.is_credit_method) {
            return super.addNewPaymentLine(...arguments);
        }
        const order = this.currentOrder;
        if (!order.get_partner()) {
            await this.pos.selectPartner();
            if (!order.get_partner()) {
                return false;
            }
        }
        const amount = this._customerCreditDefaultAmount(order);
        if (!amount) {
            return false;
        }
        // Not super: Odoo warns that pay-later methods need an invoice for the follow-up; credit is
        // paid at once, from the customer's prepaid balance.
        const line = order.add_paymentline(paymentMethod);
        if (!line) {
            return false;
        }
        line.set_amount(amount);
        this.numberBuffer.reset();
        return true;
    },
    _customerCreditDefaultAmount(order) {
        const due = order.get_due();
        const others = this.pos.getCustomerCreditUsed(order);
        if (order.get_total_with_tax() < 0) {
            const refundable = this.pos.roundCustomerCredit(this.pos.getCustomerCreditRefundable(order) + others);
            if (refundable <= 0) {
                this._showCustomerCreditRefusal("refundable", 0);
                return 0;
            }
            return due < 0 ? -Math.min(refundable, -due) : 0;
        }
        if (due <= 0) {
            this._showCustomerCreditRefusal("due", 0);
            return 0;
        }
        const payable = this.pos.roundCustomerCredit(this.pos.getCustomerCreditPayable(order) - others);
        if (payable <= 0) {
            this._showCustomerCreditRefusal("available", 0);
            return 0;
        }
        return Math.min(payable, due);
    },
    _showCustomerCreditRefusal(reason, amount) {
        const order = this.currentOrder;
        const partner = order.get_partner();
        const format = (value) => this.env.utils.formatCurrency(value);
        const others = this.pos.getCustomerCreditUsed(order, this.selectedPaymentLine);
        const bodies = {
            due: _t(
                "Credit pays at most the amount due (%s): no change is given from customer credit.",
                format(Math.max(order.get_due() + (this.selectedPaymentLine?.amount || 0), 0))
            ),
            available: _t(
                "%(customer)s has only %(amount)s of credit available for this order.",
                {
                    customer: partner?.name || "",
                    amount: format(Math.max(this.pos.getCustomerCreditPayable(order) - others, 0)),
                }
            ),
            refundable: _t(
                "At most %s of credit can be given back: what the refunded order was paid with credit.",
                format(Math.max(this.pos.getCustomerCreditRefundable(order) + others, 0))
            ),
            customer: _t("Select the customer whose credit pays this order."),
        };
        this.dialog.add(AlertDialog, {
            title: _t("Customer Credit"),
            body: bodies[reason],
        });
    },
    updateSelectedPaymentline(amount = false) {
        const line = this.selectedPaymentLine;
        if (line && line.payment_method_id.is_credit_method) {
            let typed = amount;
            if (typed === false) {
                const buffer = this.numberBuffer.get();
                typed = buffer === null ? null : buffer === "" ? 0 : this.numberBuffer.getFloat();
            }
            if (typed !== null) {
                const refusal = this.pos.getCustomerCreditRefusal(this.currentOrder, line, typed);
                if (refusal) {
                    // refused: the line keeps its amount
                    this.numberBuffer.set(line.amount ? String(line.amount) : "");
                    this._showCustomerCreditRefusal(refusal, typed);
                    return;
                }
            }
        }
        return super.updateSelectedPaymentline(...arguments);
    },
    async _isOrderValid(isForceValidate) {
        const order = this.currentOrder;
        const lines = this.pos.getCustomerCreditLines(order);
        if (lines.length) {
            if (!order.get_partner()) {
                this._showCustomerCreditRefusal("customer", 0);
                return false;
            }
            for (const line of lines) {
                const refusal = this.pos.getCustomerCreditRefusal(order, line, line.amount);
                if (refusal) {
                    this._showCustomerCreditRefusal(refusal, line.amount);
                    return false;
                }
            }
        }
        return super._isOrderValid(...arguments);
    },
    async _finalizeValidation() {
        const order = this.currentOrder;
        const partner = order.get_partner();
        const used = this.pos.getCustomerCreditUsed(order);
        const snapshot = this.pos.applyCustomerCreditLocally(order);
        if (snapshot) {
            order.uiState.customerCredit = {
                used,
                left: this.pos.getCustomerCreditTotal(partner),
            };
        }
        try {
            const result = await super._finalizeValidation(...arguments);
            // (the synced order as the server returned it)
            const synced = this.pos.models["pos.order"].getBy("uuid", order.uuid) || order;
            const after = synced.credit_balance_after;
            if (snapshot && synced.state !== "draft" && typeof after === "number" && after < 0) {
                // paid later: what the customer now owes, as the sync returned it (no extra call)
                partner.update({
                    credit_due: Math.max(partner.credit_due || 0, this.pos.roundCustomerCredit(-after)),
                });
            }
            return result;
        } finally {
            if (snapshot && order.state === "draft") {
                // the server refused the order: nothing was spent
                this.pos.restoreCustomerCredit(snapshot);
                delete order.uiState.customerCredit;
            }
        }
    },
});
