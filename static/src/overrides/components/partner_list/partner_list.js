import { PartnerList } from "@point_of_sale/app/screens/partner_list/partner_list";
import { patch } from "@web/core/utils/patch";

patch(PartnerList.prototype, {
    /**
     * Show the balance column: each customer's credit. Customers found by search come with their
     * credit in the same response (the credit fields are among the loaded partner fields).
     * @override
     */
    get isBalanceDisplayed() {
        return super.isBalanceDisplayed || this.pos.hasCustomerCreditMethod();
    },
});
