import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { patch } from "@web/core/utils/patch";

patch(PosOrder.prototype, {
    export_for_printing() {
        const result = super.export_for_printing(...arguments);
        const used = this.payment_ids
            .filter((line) => line.payment_method_id.is_credit_method)
            .reduce((sum, line) => sum + line.amount, 0);
        const partner = this.get_partner();
        if (used && partner) {
            const lots = partner.credit_pos_lots || [];
            const current = (partner.credit_available || 0) + lots.reduce((sum, lot) => sum + lot.balance, 0);
            result.customerCredit = {
                used,
                left: this.uiState?.customerCredit?.left ?? current,
            };
        }
        return result;
    },
});
