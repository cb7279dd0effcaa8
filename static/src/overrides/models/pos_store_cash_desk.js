import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { PosStore } from "@point_of_sale/app/store/pos_store";

const EPSILON = 0.000001;

/** The cash desk: credit top-ups sold at the till and dues settled with them. */
patch(PosStore.prototype, {
    /** The "Credit top-up" service product (loaded as a special product: never in the grid). */
    getCustomerCreditTopupProduct() {
        return this.config.credit_topup_product_id || null;
    },
    canCustomerCreditTopup() {
        return Boolean(this.getCustomerCreditTopupProduct()) && this.hasCustomerCreditMethod();
    },
    isCustomerCreditTopupLine(line) {
        const product = this.getCustomerCreditTopupProduct();
        return Boolean(product) && line.product_id?.id === product.id;
    },
    getCustomerCreditTopupLines(order) {
        return order ? order.get_orderlines().filter((line) => this.isCustomerCreditTopupLine(line)) : [];
    },
    /** The order's customer, asked for when there is none (null when the cashier picks none). */
    async getCustomerCreditCustomer() {
        const order = this.get_order();
        if (!order) {
            return null;
        }
        if (!order.get_partner()) {
            await this.selectPartner();
        }
        return order.get_partner() || null;
    },
    /** Why ``amount`` cannot be added as credit (an empty string when it can). */
    getCustomerCreditTopupRefusal(amount) {
        const format = (value) => this.env.utils.formatCurrency(value);
        const company = this.company;
        if (!Number.isFinite(amount) || amount <= EPSILON) {
            return _t("Enter an amount of credit greater than zero.");
        }
        if (Math.abs(this.roundCustomerCredit(amount) - amount) > EPSILON) {
            return _t("The amount has more decimals than the currency allows.");
        }
        if (company.credit_topup_min && amount + EPSILON < company.credit_topup_min) {
            return _t("A credit top-up is at least %s.", format(company.credit_topup_min));
        }
        if (company.credit_topup_max && amount - EPSILON > company.credit_topup_max) {
            return _t("A credit top-up is at most %s.", format(company.credit_topup_max));
        }
        return "";
    },
    /** Read the customers' credit figures from the server (nothing happens offline: the server
     * pushes them when they change). */
    async refreshCustomerCreditBalances(partners) {
        const ids = partners.filter((partner) => partner?.id).map((partner) => partner.id);
        if (!ids.length) {
            return;
        }
        const records = await this.data.silentCall("res.partner", "read", [
            ids,
            ["credit_available", "credit_due", "credit_pos_lots"],
        ]);
        for (const values of records || []) {
            const partner = this.models["res.partner"].get(values.id);
            if (!partner) {
                continue;
            }
            const figures = {
                credit_available: values.credit_available,
                credit_due: values.credit_due,
                credit_pos_lots: values.credit_pos_lots,
            };
            if (this.setCustomerCreditFromServer) {
                // less what this till's orders not yet on the server spent
                this.setCustomerCreditFromServer(partner, figures);
            } else {
                partner.update(figures);
            }
        }
    },
    /** Add a credit top-up line of ``amount`` to the current order. */
    async addCustomerCreditTopup(amount) {
        return await this.addLineToCurrentOrder(
            { product_id: this.getCustomerCreditTopupProduct(), price_unit: amount, qty: 1 },
            { merge: false }
        );
    },
});
