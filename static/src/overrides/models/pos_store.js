import { patch } from "@web/core/utils/patch";
import { PosStore } from "@point_of_sale/app/store/pos_store";
import { roundPrecision } from "@web/core/utils/numbers";

const EPSILON = 0.000001;

patch(PosStore.prototype, {
    async setup() {
        await super.setup(...arguments);
        // The server pushes a customer's new balances after every credit movement (this till's,
        // another till's, the web shop's, the back office's).
        this.onNotified("CUSTOMER_CREDIT", (partners) => {
            for (const values of partners) {
                const partner = this.models["res.partner"].get(values.id);
                if (partner) {
                    // this till's orders not yet on the server stay taken off (pos_store_offline.js)
                    this.setCustomerCreditFromServer(partner, {
                        credit_available: values.credit_available,
                        credit_due: values.credit_due,
                        credit_pos_lots: values.credit_pos_lots,
                    });
                }
            }
        });
    },
    roundCustomerCredit(amount) {
        return roundPrecision(amount, this.currency.rounding);
    },
    hasCustomerCreditMethod() {
        return this.models["pos.payment.method"].some((method) => method.is_credit_method);
    },
    isCustomerCreditMethod(paymentMethod) {
        return Boolean(paymentMethod?.is_credit_method);
    },
    /** Credit lines of an order (positive: paid with credit, negative: given back). */
    getCustomerCreditLines(order, exceptLine = null) {
        return order.payment_ids.filter(
            (line) => line !== exceptLine && this.isCustomerCreditMethod(line.payment_method_id)
        );
    },
    getCustomerCreditUsed(order, exceptLine = null) {
        return this.getCustomerCreditLines(order, exceptLine).reduce((sum, line) => sum + line.amount, 0);
    },
    /** Everything the customer can pay with: generic credit (with overdraft room) and all product lots. */
    getCustomerCreditTotal(partner) {
        if (!partner) {
            return 0;
        }
        const lots = partner.credit_pos_lots || [];
        return (partner.credit_available || 0) + lots.reduce((sum, lot) => sum + lot.balance, 0);
    },
    /** ``{productId: amount}`` of the order's lines, as the server computes it at sync. */
    getCustomerCreditProductAmounts(order) {
        const amounts = {};
        for (const line of order.get_orderlines()) {
            const amount = line.get_price_with_tax();
            if (line.product_id && amount > 0) {
                amounts[line.product_id.id] = (amounts[line.product_id.id] || 0) + amount;
            }
        }
        return amounts;
    },
    /**
     * The product-specific lots that apply to this cart and what each gives, in the order the
     * server consumes them (each product's lots at most the amount of that product's lines).
     */
    getCustomerCreditLotsForOrder(order, partner = order.get_partner()) {
        const lots = partner?.credit_pos_lots || [];
        const caps = this.getCustomerCreditProductAmounts(order);
        const result = [];
        for (const lot of lots) {
            const cap = caps[lot.product_id] || 0;
            const gives = Math.min(cap, lot.balance);
            if (gives > EPSILON) {
                caps[lot.product_id] = cap - gives;
                const product = this.models["product.product"].get(lot.product_id);
                result.push({ ...lot, productName: product?.display_name || "", gives });
            }
        }
        return result;
    },
    /** What credit can pay on this order in all: generic credit plus the lots of its products. */
    getCustomerCreditPayable(order) {
        const partner = order.get_partner();
        if (!partner) {
            return 0;
        }
        const productPart = this.getCustomerCreditLotsForOrder(order).reduce(
            (sum, lot) => sum + lot.gives,
            0
        );
        return this.roundCustomerCredit((partner.credit_available || 0) + productPart);
    },
    /** What credit the refunded orders of this (refund) order were paid with. */
    getCustomerCreditRefundable(order) {
        const originals = new Set();
        for (const line of order.get_orderlines()) {
            if (line.refunded_orderline_id?.order_id) {
                originals.add(line.refunded_orderline_id.order_id);
            }
        }
        let total = 0;
        for (const original of originals) {
            total += this.getCustomerCreditUsed(original);
        }
        return this.roundCustomerCredit(Math.max(total, 0));
    },
    /**
     * Why ``amount`` of credit cannot be taken on ``line`` (an empty string when it can).
     * No change is ever given from credit: it pays at most what is due.
     */
    getCustomerCreditRefusal(order, line, amount) {
        const others = this.getCustomerCreditUsed(order, line);
        const otherPaid = order.get_total_paid() - this.getCustomerCreditUsed(order);
        const total = order.get_total_with_tax() + order.get_rounding_applied();
        if (total >= 0 || amount > 0) {
            const due = this.roundCustomerCredit(total - otherPaid - others);
            if (amount - due > EPSILON) {
                return "due";
            }
            const payable = this.roundCustomerCredit(this.getCustomerCreditPayable(order) - others);
            if (amount - payable > EPSILON) {
                return "available";
            }
        } else {
            const refundable = this.roundCustomerCredit(this.getCustomerCreditRefundable(order) + others);
            if (-amount - refundable > EPSILON) {
                return "refundable";
            }
            const due = this.roundCustomerCredit(total - otherPaid - others);
            if (due - amount > EPSILON) {
                return "due";
            }
        }
        return "";
    },
    /**
     * Apply this order's credit to the customer's local balances: product lots first, then
     * generic credit, as the server does; the server's push then sets the exact figures. Returns
     * what to give to ``restoreCustomerCredit`` if the order is not saved after all.
     * ``partner``: the customer's record to apply it to (by default the order's; a record
     * reloaded from the server is a new object).
     */
    applyCustomerCreditLocally(order, partner = order.get_partner()) {
        const used = this.getCustomerCreditUsed(order);
        if (!partner || Math.abs(used) < EPSILON) {
            return null;
        }
        const snapshot = {
            partner,
            credit_available: partner.credit_available,
            credit_pos_lots: partner.credit_pos_lots,
        };
        let rest = used;
        const lots = (partner.credit_pos_lots || []).map((lot) => ({ ...lot }));
        if (used > 0) {
            for (const lotUse of this.getCustomerCreditLotsForOrder(order, partner)) {
                const part = Math.min(rest, lotUse.gives);
                const lot = lots.find((l) => l.id === lotUse.id);
                lot.balance = this.roundCustomerCredit(lot.balance - part);
                rest -= part;
            }
        }
        partner.update({
            credit_available: this.roundCustomerCredit((partner.credit_available || 0) - rest),
            credit_pos_lots: lots.filter((lot) => lot.balance > EPSILON),
        });
        return snapshot;
    },
    restoreCustomerCredit(snapshot) {
        if (snapshot) {
            const { partner, ...values } = snapshot;
            partner.update(values);
        }
    },
});
