import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { ConnectionLostError, RPCError } from "@web/core/network/rpc";
import { PosStore } from "@point_of_sale/app/store/pos_store";

/** Paying credit out in cash, and refunds paid out as store credit. */
patch(PosStore.prototype, {
    /** The message of a failed credit RPC, for a popup. */
    getCustomerCreditErrorMessage(error) {
        if (error instanceof ConnectionLostError) {
            return _t("The till is offline: try again when it is back online.");
        }
        if (error instanceof RPCError) {
            return error.data?.message || error.message;
        }
        return error?.message || String(error);
    },
    /** What credit the refunded orders of this (refund) order were paid with. */
    getCustomerCreditRefundedCredit(order) {
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
     * A refund's negative credit line gives back the credit the refunded orders were paid with,
     * and the rest of the refund as store credit (a new credit of the customer): with a customer
     * set, the whole refund can be paid out as credit.
     * @override
     */
    getCustomerCreditRefundable(order) {
        const fromCredit = super.getCustomerCreditRefundable(...arguments);
        if (!order.get_partner()) {
            return fromCredit;
        }
        const total = -(order.get_total_with_tax() + order.get_rounding_applied());
        return this.roundCustomerCredit(Math.max(fromCredit, total, 0));
    },
    /** The part of a refund's credit that becomes store credit (beyond the refunded credit payments). */
    getCustomerCreditStoreCredit(order) {
        const given = -this.getCustomerCreditUsed(order);
        return this.roundCustomerCredit(Math.max(given - this.getCustomerCreditRefundedCredit(order), 0));
    },
});
