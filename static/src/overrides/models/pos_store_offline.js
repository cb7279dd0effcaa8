import { patch } from "@web/core/utils/patch";
import { browser } from "@web/core/browser/browser";
import { ConnectionLostError } from "@web/core/network/rpc";
import { PosStore } from "@point_of_sale/app/store/pos_store";

const EPSILON = 0.000001;
const CREDIT_FIELDS = ["credit_available", "credit_due", "credit_pos_lots"];

/**
 * Credit when the network drops. Balances travel with the loaded customers; an order validated
 * offline decrements its customer's cached balance (``applyCustomerCreditLocally``), and that
 * decrement survives every server figure the till gets before the order reaches the server (a
 * push from another till, a customer found by search, a refresh): such a figure does not include
 * the order yet, so its credit is taken off again. Back online, the till sends the orders taken
 * offline and refreshes the balances of the customers it shows, in one RPC.
 */
patch(PosStore.prototype, {
    async setup() {
        await super.setup(...arguments);
        // Orders restored unsynced from the browser's database: the balances just loaded from the
        // server do not include them.
        for (const partner of this.getCustomerCreditUnsyncedPartners()) {
            this.setCustomerCreditFromServer(partner, {});
        }
        // Customers (re)loaded from the server, e.g. found by search.
        this.models["res.partner"].addEventListener("create", (event) => {
            for (const id of event?.ids || []) {
                const partner = this.models["res.partner"].get(id);
                if (partner && this.getCustomerCreditUnsyncedOrders(partner).length) {
                    this.setCustomerCreditFromServer(partner, {});
                }
            }
        });
        browser.addEventListener("online", () => this.onCustomerCreditOnline());
    },
    /**
     * This till's paid orders of ``partner`` with credit that the server has not received yet
     * (taken offline), except those being sent right now: a figure the server gives while one is in
     * flight may already include it.
     */
    getCustomerCreditUnsyncedOrders(partner) {
        return this.models["pos.order"].filter(
            (order) =>
                order.isUnsyncedPaid &&
                !this.syncingOrders.has(order.id) &&
                order.get_partner()?.id === partner.id &&
                Math.abs(this.getCustomerCreditUsed(order)) > EPSILON
        );
    },
    getCustomerCreditUnsyncedPartners() {
        const partners = new Set();
        for (const order of this.models["pos.order"].filter((order) => order.isUnsyncedPaid)) {
            const partner = order.get_partner();
            if (partner && Math.abs(this.getCustomerCreditUsed(order)) > EPSILON) {
                partners.add(partner);
            }
        }
        return [...partners];
    },
    /**
     * Set a customer's credit figures as the server gives them (``values``: credit fields; empty
     * when the record was just reloaded), then take off the credit of this till's orders the server
     * has not received yet.
     */
    setCustomerCreditFromServer(partner, values) {
        if (Object.keys(values).length) {
            partner.update(values);
        }
        for (const order of this.getCustomerCreditUnsyncedOrders(partner)) {
            this.applyCustomerCreditLocally(order, partner);
        }
    },
    /** The loaded customers whose balance the till shows: with credit, owing, or with unsynced orders. */
    getCustomerCreditShownPartners() {
        const partners = new Set(this.getCustomerCreditUnsyncedPartners());
        for (const partner of this.models["res.partner"].getAll()) {
            if (
                Math.abs(partner.credit_available || 0) > EPSILON ||
                Math.abs(partner.credit_due || 0) > EPSILON ||
                (partner.credit_pos_lots || []).length
            ) {
                partners.add(partner);
            }
        }
        return [...partners].filter((partner) => typeof partner.id === "number");
    },
    /** One RPC for the balances of every customer the till shows. */
    async refreshCustomerCreditShownPartners() {
        if (!this.hasCustomerCreditMethod()) {
            return false;
        }
        const partners = this.getCustomerCreditShownPartners();
        if (!partners.length) {
            return true;
        }
        const records = await this.data.silentCall("res.partner", "read", [
            partners.map((partner) => partner.id),
            CREDIT_FIELDS,
        ]);
        if (!records) {
            return false;
        }
        for (const values of records) {
            const partner = this.models["res.partner"].get(values.id);
            if (partner) {
                this.setCustomerCreditFromServer(partner, {
                    credit_available: values.credit_available,
                    credit_due: values.credit_due,
                    credit_pos_lots: values.credit_pos_lots,
                });
            }
        }
        return true;
    },
    /**
     * Back online: Odoo replays only its queued calls, and orders taken offline would wait for the
     * next validation; send them now (the server spends their credit in order, never twice), then
     * refresh the balances shown.
     */
    async onCustomerCreditOnline() {
        if (!this.hasCustomerCreditMethod()) {
            return;
        }
        this.customerCreditStale = false;
        await this.syncAllOrders();
        if (!this.data.network.offline && !this.customerCreditStale) {
            if (!(await this.refreshCustomerCreditShownPartners())) {
                this.customerCreditStale = true;
            }
        }
    },
    /**
     * A sync that fails for the network leaves the balances shown stale (other tills and the web
     * shop go on spending): the next successful sync refreshes them, once.
     */
    async syncAllOrders(options = {}) {
        let result;
        try {
            result = await super.syncAllOrders(...arguments);
        } catch (error) {
            if (error instanceof ConnectionLostError) {
                this.customerCreditStale = true;
            }
            throw error;
        }
        if (result instanceof ConnectionLostError) {
            this.customerCreditStale = true;
        } else if (this.customerCreditStale && !(result instanceof Error) && !this.data.network.offline) {
            this.customerCreditStale = false;
            this.refreshCustomerCreditShownPartners().then((done) => {
                if (!done) {
                    this.customerCreditStale = true;
                }
            });
        }
        return result;
    },
});
