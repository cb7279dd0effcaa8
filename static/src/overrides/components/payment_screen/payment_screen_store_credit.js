import { patch } from "@web/core/utils/patch";
import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";

patch(PaymentScreen.prototype, {
    /**
     * On a refund with a customer: the store credit the credit method offers (the refund beyond
     * what the refunded orders were paid with credit) and what this refund gives so far.
     */
    get customerCreditStoreCreditInfo() {
        const order = this.currentOrder;
        const method = this.payment_methods_from_config.find((m) => m.is_credit_method);
        if (!method || !order.get_partner() || order.get_total_with_tax() >= 0) {
            return null;
        }
        const refund = -(order.get_total_with_tax() + order.get_rounding_applied());
        const offer = this.pos.roundCustomerCredit(refund - this.pos.getCustomerCreditRefundedCredit(order));
        if (offer <= 0) {
            return null;
        }
        return { methodName: method.name, offer, given: this.pos.getCustomerCreditStoreCredit(order) };
    },
});
