import { patch } from "@web/core/utils/patch";
import { PosStore } from "@point_of_sale/app/store/pos_store";

/**
 * The credit floor at an online till. An order whose cashier waits on the payment screen goes to
 * the server in the context key ``customer_credit_strict_orders``: its credit spend is refused
 * there (the sync raises, nothing is saved, the order goes back to the payment screen) rather than
 * taking the customer below the floor, e.g. when another till or the web shop has just used the
 * credit this till still shows. Orders validated offline and sent later are not marked: the server
 * records their shortfall as overdraft (the goods are gone). Same RPC: no extra round-trip.
 */
patch(PosStore.prototype, {
    async setup() {
        // uuids of the orders whose cashier is waiting for their sync (payment_screen_online_floor.js)
        this.customerCreditStrictOrders = new Set();
        await super.setup(...arguments);
    },
    getSyncAllOrdersContext(orders, options = {}) {
        const context = super.getSyncAllOrdersContext(...arguments);
        const strict = (orders || [])
            .filter((order) => this.customerCreditStrictOrders.has(order.uuid))
            .map((order) => order.uuid);
        if (strict.length) {
            context.customer_credit_strict_orders = strict;
        }
        return context;
    },
});
