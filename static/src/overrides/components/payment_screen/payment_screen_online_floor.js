import { patch } from "@web/core/utils/patch";
import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";

/**
 * The cashier validates online and waits: this order's sync keeps to the customer's credit floor
 * (pos_store_online_floor.js). Only during this validation: if the till is offline, the order is
 * sent later unmarked.
 */
patch(PaymentScreen.prototype, {
    async _finalizeValidation() {
        const order = this.currentOrder;
        const partner = order.get_partner();
        const withCredit = this.pos.getCustomerCreditUsed(order) > 0;
        this.pos.customerCreditStrictOrders.add(order.uuid);
        let result;
        try {
            result = await super._finalizeValidation(...arguments);
        } finally {
            this.pos.customerCreditStrictOrders.delete(order.uuid);
        }
        if (withCredit && partner && order.state === "draft") {
            // refused by the server (e.g. the credit was used elsewhere): show its figures now
            await this.pos.refreshCustomerCreditBalances([partner]);
        }
        return result;
    },
});
