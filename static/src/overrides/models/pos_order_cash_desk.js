import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { patch } from "@web/core/utils/patch";

patch(PosOrder.prototype, {
    /** The credit top-up lines of this order. */
    getCustomerCreditTopupLines() {
        const product = this.config.credit_topup_product_id;
        return product ? this.get_orderlines().filter((line) => line.product_id?.id === product.id) : [];
    },
    export_for_printing() {
        const result = super.export_for_printing(...arguments);
        const topup = this.getCustomerCreditTopupLines().reduce((sum, line) => sum + line.get_price_with_tax(), 0);
        // the balance after the order's credit movements, as the server recorded them at sync
        const after = typeof this.id === "number" ? this.credit_balance_after || 0 : 0;
        if (topup || after < 0) {
            result.customerCreditDesk = {
                topup,
                nowDue: after < 0 ? -after : 0,
            };
        }
        return result;
    },
});
